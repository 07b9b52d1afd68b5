// Cost at fleet scale, as the local server bills it: one container name over every pod of a
// namespace is read, listed, sized and mistyped the way an incident does it, and each action is
// compared with reading one pod's hour on a fresh mount. Expected bytes come from the inserted rows.
import t, { type Test } from 'tap';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createSinkTables, insertEntries, type LogEntry } from '../src/demo/sink-tables.js';
import { emulatorClient } from '../src/emulator/client.js';
import { startEmulator, type Emulator } from '../src/emulator/server.js';
import { serverArgs, runCli } from './support/cli-process.js';
import { mountTemp, testDir, type Daemon } from './support/daemon.js';
import { sh, shOk } from './support/shell.js';
import { recentQueries, serverStats, settledStats } from './support/stats.js';

const PROJECT = 'fleet-project';
const DATASET = 'fleet_logs';
const NAMESPACE = 'fleet';
const PODS = 24;
const DAY_MS = 86_400_000;
const day = new Date(Date.now() - 2 * DAY_MS).toISOString().slice(0, 10);
const today = new Date().toISOString().slice(0, 10);
const podName = (n: number) =>
  `api-7d9f8c6b5-${String(n)
    .padStart(5, 'x')
    .replace(/[^a-z0-9]/g, 'q')}${n}`;
const pods = Array.from({ length: PODS }, (_, n) => podName(n));

/** Each pod logs `app` lines for three hours, a sidecar on some pods, and another namespace is busy too. */
function fleetEntries(): LogEntry[] {
  const entries: LogEntry[] = [];
  for (const [p, pod] of pods.entries()) {
    for (let n = 0; n < 300; n++) {
      const hour = 12 + (n % 3);
      const time = `${day}T${hour}:${String(n % 60).padStart(2, '0')}:${String((n * 7) % 60).padStart(2, '0')}.${String(p * 1000 + n).padStart(6, '0')}Z`;
      const level = n % 17 === 0 ? 'ERROR' : 'INFO';
      const text = `${level} request ${n} of ${pod} took ${(n * 13) % 997} ms ${'x'.repeat(120 + (n % 50))}`;
      entries.push({
        namespace: NAMESPACE,
        pod,
        container: 'app',
        stream: n % 9 === 0 ? 'stderr' : 'stdout',
        timestamp: time,
        insertId: `${pod}-${n}`,
        textPayload: text,
      });
      if (p % 3 === 0 && n % 4 === 0) {
        entries.push({
          namespace: NAMESPACE,
          pod,
          container: 'istio-proxy',
          stream: 'stdout',
          timestamp: time,
          insertId: `${pod}-proxy-${n}`,
          textPayload: `[proxy] GET /api/${n} 200 ${'y'.repeat(80)}`,
        });
      }
    }
  }
  for (let n = 0; n < 3000; n++) {
    const time = `${day}T${String(n % 24).padStart(2, '0')}:30:00.${String(n).padStart(6, '0')}Z`;
    entries.push({
      namespace: 'other',
      pod: `batch-${n % 10}`,
      container: 'job',
      stream: 'stdout',
      timestamp: time,
      insertId: `other-${n}`,
      textPayload: `other ${n} ${'z'.repeat(200)}`,
    });
  }
  return entries;
}

/** The hour file a plain directory would hold: each entry's text and a newline, in time order. */
function expectedHour(entries: LogEntry[], pod: string, hour: number): string {
  return entries
    .filter((entry) => entry.pod === pod && entry.container === 'app' && entry.timestamp.startsWith(`${day}T${hour}:`))
    .sort((a, b) => (a.timestamp < b.timestamp ? -1 : a.timestamp > b.timestamp ? 1 : 0))
    .map((entry) => `${entry.textPayload ?? ''}\n`)
    .join('');
}

let emulator: Emulator;
const entries = fleetEntries();
t.before(async () => {
  emulator = await startEmulator({ port: 0 });
  const client = emulatorClient(emulator.url, PROJECT);
  await createSinkTables(client, DATASET, 'partitioned', [day, today], []);
  await insertEntries(client, DATASET, 'partitioned', entries);
});
t.teardown(() => emulator.close());

const billed = async () => (await serverStats(emulator.url)).bytesBilled;

/** Bytes the server billed for `action` on a fresh mount, after the mount's own listing if `warm`. */
async function billedFor(
  t: Test,
  action: (daemon: Daemon) => Promise<void>,
  options: { warm?: boolean; args?: string[] } = {},
): Promise<{ bytes: number; daemon: Daemon }> {
  const { daemon } = await mountTemp(t, [...serverArgs(emulator, PROJECT, DATASET), ...(options.args ?? [])]);
  if (options.warm) await shOk('ls > /dev/null', daemon.mountpoint);
  await settledStats(daemon.mountpoint);
  const before = await billed();
  await action(daemon);
  await settledStats(daemon.mountpoint);
  return { bytes: (await billed()) - before, daemon };
}

let onePodHour = 0;
t.test("reading one pod's hour on a fresh mount: the unit every goal is measured in", async (t) => {
  const { bytes, daemon } = await billedFor(t, async (daemon) => {
    const text = await readFile(join(daemon.mountpoint, NAMESPACE, pods[0] ?? '', 'app', day, '13.log'), 'utf8');
    t.equal(text, expectedHour(entries, pods[0] ?? '', 13), 'the exact bytes');
  });
  onePodHour = bytes;
  t.ok(onePodHour > 0, `one pod's hour billed ${onePodHour} bytes`);
  t.equal(recentQueries(await settledStats(daemon.mountpoint), 'sweep').length, 1, 'with one sweep');
});

t.test(`reading the same hour of ${PODS} pods one by one, as a glob does: at most 1.5×`, async (t) => {
  const { bytes } = await billedFor(t, async (daemon) => {
    const count = await shOk(`cat ${NAMESPACE}/*/app/${day}/13.log | grep -c ERROR`, daemon.mountpoint);
    const expected = pods
      .map((pod) => expectedHour(entries, pod, 13))
      .join('')
      .split('\n')
      .filter((line) => line.includes('ERROR')).length;
    t.equal(Number(count.trim()), expected, 'grep counts what the rows hold');
  });
  t.ok(bytes <= 1.5 * onePodHour, `${(bytes / onePodHour).toFixed(2)}× one pod's hour`);
});

t.test('find, ls -R and ls send no query that reads payload columns', async (t) => {
  const { daemon } = await billedFor(t, async (daemon) => {
    const found = await shOk(`find ${NAMESPACE} -name '*.log' | sort`, daemon.mountpoint);
    t.equal(
      found.trim().split('\n').length,
      (PODS + 8) * 3 + PODS + 8,
      'every hour file and current.log of app and istio-proxy',
    );
    await shOk(`ls -R ${NAMESPACE} > /dev/null; ls ${NAMESPACE}/${pods[1]}/app/${day} > /dev/null`, daemon.mountpoint);
  });
  const stats = await settledStats(daemon.mountpoint);
  t.same(
    stats.recentQueries.map((query) => query.kind).filter((kind) => kind !== 'listing' && kind !== 'hours'),
    [],
    'only listings (labels and timestamps)',
  );
});

t.test('ls -l, stat and du over every pod of a namespace-day: at most 1.5×', async (t) => {
  const { bytes } = await billedFor(t, async (daemon) => {
    const du = await shOk(`du -sb ${NAMESPACE}/*/*/${day} | awk '{s+=$1} END {print s}'`, daemon.mountpoint);
    t.ok(Number(du.trim()) > 0, `du counts ${du.trim()} bytes`);
    await shOk(
      `ls -l ${NAMESPACE}/*/app/${day}/ > /dev/null; stat ${NAMESPACE}/*/*/${day}/*.log > /dev/null`,
      daemon.mountpoint,
    );
    const size = (await shOk(`stat -c %s ${NAMESPACE}/${pods[5]}/app/${day}/14.log`, daemon.mountpoint)).trim();
    t.equal(Number(size), Buffer.byteLength(expectedHour(entries, pods[5] ?? '', 14)), 'sizes are true');
  });
  t.ok(bytes <= 1.5 * onePodHour, `${(bytes / onePodHour).toFixed(2)}× one pod's hour`);
});

t.test('mistyped names inside the listing window are ENOENT and bill nothing', async (t) => {
  const { bytes, daemon } = await billedFor(
    t,
    async (daemon) => {
      for (const typo of [
        `${NAMESPACE}/${pods[0]}/ap/${day}/13.log`,
        `${NAMESPACE}/api-7d9f8c6b5-nope/app/${day}/13.log`,
        `flet/${pods[0]}/app/${day}/13.log`,
        `${NAMESPACE}/${pods[0]}/app/${day}/03.log`,
        `${NAMESPACE}/${pods[0]}/app/${today}/00.log`,
      ]) {
        const result = await sh(`cat ${typo}`, daemon.mountpoint);
        t.match(result.stderr, /No such file or directory/, typo);
      }
    },
    { warm: true },
  );
  t.equal(bytes, 0, 'no byte billed once the window is listed');
  t.same(recentQueries(await settledStats(daemon.mountpoint), 'sweep'), [], 'no content query');
});

t.test('a mistyped name outside the window: ENOENT after one query of labels and timestamps', async (t) => {
  const { daemon } = await billedFor(
    t,
    async (daemon) => {
      const result = await sh(`cat ${NAMESPACE}/${pods[0]}/ap/${day}/13.log`, daemon.mountpoint);
      t.match(result.stderr, /No such file or directory/, 'a day outside a one-day window, under a mistyped container');
    },
    { warm: true, args: ['--lookback', '1d'] },
  );
  const kinds = (await settledStats(daemon.mountpoint)).recentQueries.map((query) => query.kind);
  t.same(
    kinds.filter((kind) => kind !== 'listing'),
    ['hours'],
    'one query of that day, labels and timestamps only',
  );
});

t.test(`fetch of app over ${PODS} pods: one content query per UTC day, at most 1.05×`, async (t) => {
  const out = await testDir(t, 'fetch-out');
  const cache = await testDir(t, 'fetch-cache');
  const before = await billed();
  const run = await runCli([
    'fetch',
    'app',
    ...serverArgs(emulator, PROJECT, DATASET),
    '--namespace',
    NAMESPACE,
    '--from',
    `${day}T12:00:00Z`,
    '--to',
    `${day}T15:00:00Z`,
    '--out',
    out,
    '--cache-dir',
    cache,
  ]);
  t.equal(run.code, 0, run.output);
  const bytes = (await billed()) - before;
  const file = await readFile(join(out, `${NAMESPACE}_${pods[3]}_app.log`), 'utf8');
  t.equal(file, [12, 13, 14].map((hour) => expectedHour(entries, pods[3] ?? '', hour)).join(''), 'exact bytes');
  // The pods query reads labels and timestamps only; the content is one sweep of the day.
  t.ok(
    bytes <= 1.05 * onePodHour + 20 * 2 ** 20,
    `${(bytes / onePodHour).toFixed(2)}× one pod's hour, labels included`,
  );
});

t.test('following the live hours of 4 containers in two namespaces costs what following one does', async (t) => {
  const client = emulatorClient(emulator.url, PROJECT);
  const now = new Date();
  // Stamped in the hour filling now, which the reads below open by name.
  const hourStart = Math.floor(now.getTime() / 3_600_000) * 3_600_000;
  const followed = [
    ['live-a', 'web-1'],
    ['live-a', 'web-2'],
    ['live-b', 'web-1'],
    ['live-b', 'web-2'],
  ] as const;
  await insertEntries(
    client,
    DATASET,
    'partitioned',
    followed.map(([namespace, pod], n) => ({
      namespace,
      pod,
      container: 'app',
      stream: 'stdout' as const,
      timestamp: new Date(Math.max(hourStart, now.getTime() - 60_000) + n).toISOString(),
      insertId: `live-${namespace}-${pod}`,
      textPayload: `live ${n}`,
    })),
  );
  const hour = `${now.toISOString().slice(0, 10)}/${now.toISOString().slice(11, 13)}.log`;
  /**
   * Sweeps while `containers` are followed for a few refresh intervals, after their first read, and the
   * refresh intervals that passed meanwhile (counted by the clock, so a loaded machine cannot skew it).
   */
  const sweepsWhileFollowing = async (
    containers: readonly (readonly [string, string])[],
  ): Promise<{ sweeps: number; intervals: number }> => {
    const { daemon } = await mountTemp(t, [...serverArgs(emulator, PROJECT, DATASET), '--refresh', '1s']);
    for (const [namespace, pod] of containers)
      await shOk(`cat ${namespace}/${pod}/app/${hour} > /dev/null`, daemon.mountpoint);
    const before = recentQueries(await settledStats(daemon.mountpoint), 'sweep').length;
    const startedAt = Date.now();
    await Promise.all(
      containers.map(([namespace, pod]) =>
        sh(`timeout 4 tail -f ${namespace}/${pod}/app/${hour} > /dev/null`, daemon.mountpoint),
      ),
    );
    const sweeps = recentQueries(await settledStats(daemon.mountpoint), 'sweep').length - before;
    return { sweeps, intervals: Math.ceil((Date.now() - startedAt) / 1000) };
  };
  const one = await sweepsWhileFollowing(followed.slice(0, 1));
  const four = await sweepsWhileFollowing(followed);
  t.ok(one.sweeps >= 2, `following one container: ${one.sweeps} refresh sweeps in ${one.intervals} s`);
  // A new refresh sweep starts only when the last one is older than --refresh, whatever is followed:
  // at most one per interval, plus one straddling the start and one for a namespace whose first
  // reader came after the round's sweep had started. A sweep per container would be about 16.
  t.ok(
    four.sweeps <= four.intervals + 2,
    `following four in two namespaces: ${four.sweeps} refresh sweeps in ${four.intervals} s`,
  );
});

t.test('current.log of an hour without entries sends no content query', async (t) => {
  const { daemon } = await mountTemp(t, [...serverArgs(emulator, PROJECT, DATASET), '--refresh', '1s']);
  await sh(`timeout 3 tail -F ${NAMESPACE}/${pods[0]}/app/current.log > /dev/null`, daemon.mountpoint);
  const kinds = (await settledStats(daemon.mountpoint)).recentQueries.map((query) => query.kind);
  t.same(
    kinds.filter((kind) => kind === 'sweep' || kind === 'entries'),
    [],
    'only listings',
  );
});
