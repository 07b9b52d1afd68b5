// The hour that is still filling: `tail -f` shows entries as they arrive, the file only grows, and
// current.log points at it.
import t, { type Test } from 'tap';
import { setTimeout as sleep } from 'node:timers/promises';
import { emulatorClient } from '../src/emulator/client.js';
import { startEmulator } from '../src/emulator/server.js';
import { createSinkTables, insertEntries } from '../src/demo/sink-tables.js';
import { serverArgs } from './support/cli-process.js';
import { mountTemp } from './support/daemon.js';
import { follow } from './support/follow.js';
import { mountedLine } from './support/readers.js';
import { shOk } from './support/shell.js';
import { metricsUrl, sample, scrape } from './support/metrics.js';
import { readStats, serverStats } from './support/stats.js';

const PROJECT = 'live-project';
const DATASET = 'live_logs';
const REF = { namespace: 'live', pod: 'web-0', container: 'app' } as const;

const HOUR_MS = 3_600_000;

interface LiveSetup {
  emulator: Awaited<ReturnType<typeof startEmulator>>;
  /** Seconds the daemon's clock is set ahead, so that its hour has at least 10 minutes left. */
  clockOffsetS: number;
  /** Inserts entries stamped inside the hour that is filling now, so no test races an hour boundary. */
  insert(count: number): Promise<void>;
  /** The first `upTo` lines inserted, as the hour file holds them. */
  expected(upTo: number): string;
  /** The live hour's path, relative to the mountpoint. */
  file: string;
  /** Inserts `count` entries in the hour three hours before, finished; resolves to its path and its lines. */
  insertFinished(count: number): Promise<{ file: string; text: string }>;
}

async function liveSetup(t: Test): Promise<LiveSetup> {
  const emulator = await startEmulator({ port: 0 });
  t.teardown(() => emulator.close());
  const client = emulatorClient(emulator.url, PROJECT);
  const realNow = Date.now();
  const hourEnd = Math.ceil((realNow + 1) / HOUR_MS) * HOUR_MS;
  const clockOffsetS = hourEnd - realNow < 10 * 60_000 ? Math.round((hourEnd + 60_000 - realNow) / 1000) : 0;
  const now = new Date(realNow + clockOffsetS * 1000);
  const hourStart = Math.floor(now.getTime() / HOUR_MS) * HOUR_MS;
  const day = now.toISOString().slice(0, 10);
  const file = `${REF.namespace}/${REF.pod}/${REF.container}/${day}/${now.toISOString().slice(11, 13)}.log`;
  await createSinkTables(client, DATASET, 'partitioned', [day], []);
  let sequence = 0;
  const insert = async (count: number) => {
    const entries = Array.from({ length: count }, () => {
      const n = sequence++;
      const micros = String(n).padStart(6, '0');
      return {
        ...REF,
        stream: 'stdout' as const,
        timestamp: `${new Date(hourStart + 1000 + n * 10).toISOString().slice(0, 19)}.${micros}Z`,
        insertId: `live-${n}`,
        textPayload: `live line ${n}`,
      };
    });
    await insertEntries(client, DATASET, 'partitioned', entries);
  };
  const expected = (upTo: number) => Array.from({ length: upTo }, (_, n) => `live line ${n}\n`).join('');
  const insertFinished = async (count: number) => {
    const start = new Date(hourStart - 3 * HOUR_MS).toISOString();
    const entries = Array.from({ length: count }, (_, n) => ({
      ...REF,
      stream: 'stdout' as const,
      timestamp: `${start.slice(0, 17)}${String(n % 60).padStart(2, '0')}.${String(n).padStart(6, '0')}Z`,
      insertId: `done-${n}`,
      textPayload: `finished line ${n}`,
    }));
    await insertEntries(client, DATASET, 'partitioned', entries);
    const path = `${REF.namespace}/${REF.pod}/${REF.container}/${start.slice(0, 10)}/${start.slice(11, 13)}.log`;
    return { file: path, text: entries.map((entry) => `${entry.textPayload}\n`).join('') };
  };
  return { emulator, clockOffsetS, insert, expected, file, insertFinished };
}

async function mountLive(t: Test, { emulator, clockOffsetS }: LiveSetup, extraArgs: string[]) {
  const args = [...serverArgs(emulator.url, PROJECT, DATASET), ...extraArgs];
  const { daemon } = await mountTemp(t, args, clockOffsetS === 0 ? {} : { clockOffsetS });
  return { mountpoint: daemon.mountpoint, daemon };
}

async function queriesSent(emulatorUrl: string): Promise<number> {
  return (await serverStats(emulatorUrl)).queries;
}

// Each test has a server and a mount of its own and spends most of its time waiting: they run side by side.
t.jobs = 3;

t.test('tail -f follows the live hour as entries arrive', async (t) => {
  const live = await liveSetup(t);
  const { insert, expected, file } = live;
  await insert(3);
  const { mountpoint } = await mountLive(t, live, ['--refresh', '1s']);
  const tail = follow(t, file, mountpoint, '-f');

  t.ok((await tail.waitFor(expected(3), 5_000)) < 5_000, 'tail prints what is there');
  const sizes: number[] = [];
  for (let round = 1; round <= 3; round++) {
    await insert(2);
    const waited = await tail.waitFor(expected(3 + 2 * round), 6_000);
    t.equal(tail.output(), expected(3 + 2 * round), `round ${round}: new lines after ${waited} ms, none twice or torn`);
    sizes.push(Number((await shOk(`stat -c %s ${file}`, mountpoint)).trim()));
  }
  t.same(
    sizes,
    [...sizes].sort((a, b) => a - b),
    'the size only grows',
  );
  t.equal(sizes.at(-1), Buffer.byteLength(expected(9)), 'and ends at the true size');
  const target = (await shOk(`readlink ${REF.namespace}/${REF.pod}/${REF.container}/current.log`, mountpoint)).trim();
  t.equal(`${REF.namespace}/${REF.pod}/${REF.container}/${target}`, file, 'current.log points at the live hour');
});

t.test('a live hour is refreshed only while a reader has it open', async (t) => {
  const live = await liveSetup(t);
  const { emulator, insert, expected, file } = live;
  await insert(3);
  const { mountpoint } = await mountLive(t, live, ['--refresh', '1s']);
  const size = async () => Number((await shOk(`stat -c %s ${file}`, mountpoint)).trim());
  t.equal(await size(), Buffer.byteLength(expected(3)), 'the first stat fetches the hour');
  const before = await queriesSent(emulator.url);
  await insert(2);
  for (let check = 0; check < 3; check++) {
    await sleep(1_300); // longer than --refresh
    t.equal(await size(), Buffer.byteLength(expected(3)), `stat ${check + 1} without a reader keeps the snapshot`);
  }
  t.equal(await queriesSent(emulator.url), before, 'and sends no query');
  t.equal(await shOk(`cat ${file}`, mountpoint), expected(5), 'opening it fetches the new entries');
  t.equal(await queriesSent(emulator.url), before + 1, 'with one query');
  t.equal(await size(), Buffer.byteLength(expected(5)), 'and stat shows the new size');
});

t.test('refreshes stop at --refresh-budget, with one log line that says so', async (t) => {
  const live = await liveSetup(t);
  const { insert, expected, file } = live;
  await insert(3);
  // Each refresh here bills 10 MiB, the local server's minimum for a table with entries (stderr has none).
  const { mountpoint, daemon } = await mountLive(t, live, [
    '--refresh',
    '1s',
    '--refresh-budget',
    '15M',
    '--metrics-port',
    '0',
  ]);
  const tail = follow(t, file, mountpoint, '-f');
  t.ok((await tail.waitFor(expected(3), 5_000)) < 5_000, 'tail prints what is there');
  await insert(2);
  t.ok((await tail.waitFor(expected(5), 6_000)) < 6_000, 'the first refresh is within the budget');
  await insert(2);
  await sleep(4_000);
  t.equal(tail.output(), expected(5), 'the next would exceed it: the file stops growing');
  const stats = await readStats(mountpoint);
  t.equal(stats.refreshes, 1, 'one refresh ran');
  t.equal(stats.refreshBytesBilled, 10 * 2 ** 20, 'billing 10 MiB');
  t.ok(stats.refreshesSkipped > 0, `${stats.refreshesSkipped} refreshes skipped`);
  const metrics = await scrape(metricsUrl(daemon.logs()));
  t.equal(sample(metrics, 'bqlogfs_refreshes_total'), 1, 'the metrics count the refresh');
  t.equal(sample(metrics, 'bqlogfs_refresh_bytes_billed_total'), 10 * 2 ** 20, 'and what it billed');
  t.ok(sample(metrics, 'bqlogfs_refreshes_skipped_total') >= stats.refreshesSkipped, 'and the refreshes skipped');
  const warnings = daemon
    .logs()
    .split('\n')
    .filter((line) => line.includes('refresh budget used up'));
  t.equal(warnings.length, 1, 'one log line says why and what to change');
  t.match(warnings[0], /--refresh-budget/);
  t.equal(await shOk(`cat ${file}`, mountpoint), expected(5), 'a new reader gets the same snapshot, not an error');
});

t.test('the kernel keeps a finished hour’s attributes and pages, and no attributes of the live hour', async (t) => {
  const live = await liveSetup(t);
  const { insert, expected, file } = live;
  await insert(3);
  const finished = await live.insertFinished(50);
  const { mountpoint, daemon } = await mountLive(t, live, ['--refresh', '1s']);
  t.match(
    await mountedLine(daemon),
    /"finishedHoursCached":true/,
    'the patched binding sets attribute timeouts per file',
  );
  t.equal(await shOk(`cat ${finished.file}`, mountpoint), finished.text, 'a finished hour');

  const before = await readStats(mountpoint);
  const startedAt = Date.now();
  await shOk(
    `for i in $(seq 50); do cat ${finished.file} > /dev/null; stat -c %s ${finished.file} > /dev/null; done`,
    mountpoint,
  );
  const seconds = Math.ceil((Date.now() - startedAt) / 1000);
  const after = await readStats(mountpoint);
  // The one read is of the stats file itself.
  t.equal(after.reads - before.reads, 1, '50 more cats read nothing from the daemon: the kernel kept the pages');
  // Each cat and stat would ask at least twice if the kernel kept no attributes (open, fstat, end of
  // file, stat): 150 or more. The kernel asks again once a second, and reading the stats file asks too.
  const asked = after.attributeRequests - before.attributeRequests;
  t.ok(asked <= 3 * (seconds + 1) + 8, `the daemon was asked for attributes ${asked} times in ${seconds} s`);

  t.equal(await shOk(`cat ${file}`, mountpoint), expected(3), 'the live hour');
  const beforeStats = (await readStats(mountpoint)).attributeRequests;
  await shOk(`for i in $(seq 10); do stat -c %s ${file} > /dev/null; done`, mountpoint);
  const liveAsked = (await readStats(mountpoint)).attributeRequests - beforeStats;
  t.ok(liveAsked >= 10, `each stat of the live hour asks the daemon (${liveAsked} for 10)`);
  await insert(2);
  await sleep(1_300); // longer than --refresh
  t.equal(await shOk(`cat ${file}`, mountpoint), expected(5), 'an open after it grew reads the new entries');
  t.equal(await shOk(`wc -c < ${file}`, mountpoint), `${Buffer.byteLength(expected(5))}\n`);
});
