// Workload directories: `<namespace>/@<workload>/<container>/<day>/<HH>.log` merges every pod of a
// workload in time order, each line prefixed with its pod's name, from the same sweeps as the pods'
// own files. Expected bytes are computed here from the inserted rows.
import t, { type Test } from 'tap';
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { emulatorClient } from '../src/emulator/client.js';
import { startEmulator } from '../src/emulator/server.js';
import { createSinkTables, insertEntries, type LogEntry } from '../src/demo/sink-tables.js';
import { runCli, serverArgs } from './support/cli-process.js';
import { mountTemp, startDaemon, testDir } from './support/daemon.js';
import { sh, shOk } from './support/shell.js';
import { recentQueries, serverStats, settledStats } from './support/stats.js';

const PROJECT = 'workload-project';
const DATASET = 'workload_logs';
const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

const dayName = (ms: number) => new Date(ms).toISOString().slice(0, 10);
const today = Math.floor(Date.now() / DAY_MS) * DAY_MS;
/** The day of the test's entries, and the day after it, both final. */
const D = today - 2 * DAY_MS;
const D1 = today - DAY_MS;

const API_OLD = ['api-5d8f7c9b4-aaaaa', 'api-5d8f7c9b4-bbbbb'];
const API_NEW = ['api-6c9e2f1a7-ccccc', 'api-6c9e2f1a7-ddddd'];
const deployment = (name: string) => ({ name, kind: 'Deployment' });

const JSON_FIELDS = [
  { name: 'level', type: 'STRING', mode: 'NULLABLE' },
  { name: 'msg', type: 'STRING', mode: 'NULLABLE' },
];

function entriesOfTest(): LogEntry[] {
  const entries: LogEntry[] = [];
  let serial = 0;
  const log = (
    pod: string,
    ms: number,
    text: string,
    more: Partial<LogEntry> = {},
    controller: LogEntry['controller'] | null = deployment('api'),
  ) => {
    entries.push({
      namespace: 'shop',
      pod,
      container: 'app',
      stream: 'stdout',
      timestamp: new Date(ms).toISOString(),
      insertId: `id-${String(serial++).padStart(4, '0')}-${pod.slice(-2)}`,
      textPayload: text,
      ...(controller && { controller }),
      ...more,
    });
  };
  // The old replica set runs 09:00–10:40 of D, the new one from 10:30 of D to 00:30 of the next day.
  for (const [index, pod] of API_OLD.entries()) {
    for (let ms = D + 9 * HOUR_MS + index * 13_000; ms < D + 10 * HOUR_MS + 40 * 60_000; ms += 7 * 60_000) {
      log(pod, ms, `GET /orders ${ms % 997}`);
    }
  }
  for (const [index, pod] of API_NEW.entries()) {
    for (let ms = D + 10 * HOUR_MS + 30 * 60_000 + index * 17_000; ms < D1 + 30 * 60_000; ms += 23 * 60_000) {
      log(pod, ms, `GET /cart ${ms % 991}`);
    }
  }
  // At the same instant in two pods, and in both streams of one pod.
  const together = D + 10 * HOUR_MS + 35 * 60_000;
  log(API_OLD[0]!, together, 'old replica at the rollout');
  log(API_NEW[0]!, together, 'new replica at the rollout');
  log(API_NEW[0]!, together, 'new replica on stderr', { stream: 'stderr' });
  // A multi-line entry, a JSON entry, and one on each side of midnight.
  log(API_NEW[1]!, D + 10 * HOUR_MS + 50 * 60_000, 'panic: boom\n  at handler (api.go:42)\n  at main (main.go:7)\n');
  const json = { textPayload: undefined, jsonPayload: { level: 'warn', msg: 'slow cart' } } as Partial<LogEntry>;
  log(API_NEW[0]!, D + 11 * HOUR_MS + 5 * 60_000, '', json);
  log(API_NEW[1]!, D1 - 1, 'last of the day');
  log(API_NEW[0]!, D1, 'first of the next day');
  // A sidecar of one pod only: another container of the workload.
  entries.push({ ...entries[0]!, container: 'sidecar', insertId: 'sidecar-1', textPayload: 'proxy up' });
  // A StatefulSet, a Deployment and a CronJob of the same name, a pod without a controller.
  log('web-0', D + 10 * HOUR_MS + 60_000, 'web 0 up', {}, { name: 'web', kind: 'StatefulSet' });
  log('web-1', D + 10 * HOUR_MS + 120_000, 'web 1 up', {}, { name: 'web', kind: 'StatefulSet' });
  log('worker-7f9c4b8d6-eeeee', D + 10 * HOUR_MS + 180_000, 'worker deployment', {}, deployment('worker'));
  log('worker-29120400-fffff', D + 10 * HOUR_MS + 240_000, 'worker cronjob', {}, { name: 'worker', kind: 'CronJob' });
  log('debug', D + 10 * HOUR_MS + 300_000, 'a bare pod', {}, null);
  entries.push({ ...entries[0]!, namespace: 'plain', pod: 'solo', insertId: 'solo-1', controller: undefined });
  return entries.map((entry) => {
    const { textPayload, ...rest } = entry;
    return textPayload === undefined ? rest : entry;
  });
}

const ENTRIES = entriesOfTest();

const utf8Compare = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b));

/** The pod's line of an entry, as its own hour file has it. */
function podLine(entry: LogEntry): string {
  if (entry.textPayload !== undefined) {
    return (entry.textPayload.endsWith('\n') ? entry.textPayload.slice(0, -1) : entry.textPayload) + '\n';
  }
  return JSON.stringify(entry.jsonPayload) + '\n';
}

/** What the workload's hour file holds, from the rows: merged by (time, insertId, stream, pod), lines prefixed. */
function expectedWorkloadHour(pods: string[], container: string, hourStartMs: number): string {
  return ENTRIES.filter((entry) => entry.namespace === 'shop' && pods.includes(entry.pod))
    .filter((entry) => entry.container === container)
    .filter(
      (entry) => Date.parse(entry.timestamp) >= hourStartMs && Date.parse(entry.timestamp) < hourStartMs + HOUR_MS,
    )
    .sort(
      (a, b) =>
        Date.parse(a.timestamp) - Date.parse(b.timestamp) ||
        utf8Compare(a.insertId, b.insertId) ||
        utf8Compare(a.stream, b.stream) ||
        utf8Compare(a.pod, b.pod),
    )
    .map((entry) =>
      podLine(entry)
        .slice(0, -1)
        .split('\n')
        .map((line) => `${entry.pod} ${line}\n`)
        .join(''),
    )
    .join('');
}

async function loadedServer(t: Test) {
  const emulator = await startEmulator({ port: 0 });
  t.teardown(() => emulator.close());
  const client = emulatorClient(emulator.url, PROJECT);
  await createSinkTables(client, DATASET, 'partitioned', [dayName(D), dayName(D1)], JSON_FIELDS);
  await insertEntries(client, DATASET, 'partitioned', ENTRIES);
  return emulator;
}

const hourPath = (dir: string, ms: number) => `${dir}/${dayName(ms)}/${new Date(ms).toISOString().slice(11, 13)}.log`;
const API_HOURS = [D + 9 * HOUR_MS, D + 10 * HOUR_MS, D + 11 * HOUR_MS, D + 23 * HOUR_MS, D1];

t.test('a workload hour is the merge of its pods’ hour files, each line prefixed', async (t) => {
  const emulator = await loadedServer(t);
  const { mountpoint } = (await mountTemp(t, serverArgs(emulator, PROJECT, DATASET))).daemon;

  const listed = (await shOk('ls shop', mountpoint)).trim().split('\n');
  t.same(
    listed.filter((name) => name.startsWith('@')),
    ['@api', '@web', '@worker'],
    'ls shows a directory per workload, none for a pod without a controller',
  );
  t.ok(listed.includes('debug') && listed.includes(API_OLD[0]!), 'and the pods as before');
  t.notOk((await shOk('ls plain', mountpoint)).includes('@'), 'a namespace without controller labels has none');
  t.same((await shOk('ls shop/@api', mountpoint)).trim().split('\n'), ['app', 'sidecar'], 'its containers');
  const apiHours = ENTRIES.filter((entry) => entry.pod.startsWith('api-') && entry.container === 'app')
    .filter((entry) => entry.timestamp.startsWith(dayName(D)))
    .map((entry) => `${entry.timestamp.slice(11, 13)}.log`);
  t.same(
    (await shOk(`ls shop/@api/app/${dayName(D)}`, mountpoint)).trim().split('\n'),
    [...new Set(apiHours)].sort(),
    'its hours: those of any of its pods',
  );

  const allPods = [...API_OLD, ...API_NEW];
  for (const hourStart of API_HOURS) {
    const path = hourPath('shop/@api/app', hourStart);
    const content = await readFile(join(mountpoint, path), 'utf8');
    t.equal(content, expectedWorkloadHour(allPods, 'app', hourStart), `${path}: the merge of the rows`);
    t.equal(
      (await shOk(`wc -c < ${path}`, mountpoint)).trim(),
      String(Buffer.byteLength(content)),
      `${path}: its size`,
    );
    for (const pod of allPods) {
      const own = await sh(`cat ${hourPath(`shop/${pod}/app`, hourStart)}`, mountpoint);
      const prefix = `${pod} `;
      const mine = content
        .split('\n')
        .filter((line) => line.startsWith(prefix))
        .map((line) => line.slice(prefix.length) + '\n')
        .join('');
      t.equal(mine, own.code === 0 ? own.stdout : '', `${path}: ${pod}'s lines are its own hour file`);
    }
  }
  const rollout = await readFile(join(mountpoint, hourPath('shop/@api/app', D + 10 * HOUR_MS)), 'utf8');
  t.match(
    rollout,
    `${API_NEW[1]} panic: boom\n${API_NEW[1]}   at handler (api.go:42)\n${API_NEW[1]}   at main (main.go:7)\n`,
    'every line of a multi-line entry starts with the pod',
  );
  t.match(rollout, `${API_NEW[0]} new replica at the rollout\n${API_NEW[0]} new replica on stderr\n`, 'both streams');
  t.equal(
    await readFile(join(mountpoint, hourPath('shop/@api/sidecar', D + 9 * HOUR_MS)), 'utf8'),
    `${API_OLD[0]} proxy up\n`,
    'a container only one pod has',
  );
  t.equal(
    await readFile(join(mountpoint, hourPath('shop/@worker/app', D + 10 * HOUR_MS)), 'utf8'),
    'worker-7f9c4b8d6-eeeee worker deployment\nworker-29120400-fffff worker cronjob\n',
    'controllers of different kinds with one name share the directory',
  );

  const before = await settledStats(mountpoint);
  for (const missing of [
    'shop/@nope',
    'shop/@Bad_Name',
    'shop/@debug',
    'shop/@-api',
    'plain/@solo',
    `shop/@api/app/${dayName(D - 20 * DAY_MS)}`,
    `shop/@api/nosuch/${dayName(D)}/10.log`,
    `shop/@api/app/${dayName(D)}/05.log`,
  ]) {
    const result = await sh(`ls ${missing}`, mountpoint);
    t.match(result.stderr, 'No such file or directory', `${missing}: ENOENT`);
  }
  t.equal((await settledStats(mountpoint)).queries, before.queries, 'and none of them sent a query');
});

t.test('a workload-day costs one sweep at most, and nothing after its pods were read', async (t) => {
  const emulator = await loadedServer(t);
  const args = serverArgs(emulator, PROJECT, DATASET);
  const day = dayName(D);

  const warm = (await mountTemp(t, args)).daemon.mountpoint;
  await shOk(`ls shop > /dev/null; cat shop/${API_OLD[0]}/app/${day}/*.log > /dev/null`, warm);
  const afterPod = await settledStats(warm);
  const serverAfterPod = await serverStats(emulator.url);
  await shOk(`cat shop/@api/app/${day}/*.log shop/@api/sidecar/${day}/*.log > /dev/null`, warm);
  const afterWorkload = await settledStats(warm);
  t.equal(afterWorkload.queries, afterPod.queries, 'workload hours after a pod of its namespace-day: no query');
  t.equal(afterWorkload.bytesBilled, afterPod.bytesBilled, 'and 0 bytes billed');
  t.equal((await serverStats(emulator.url)).bytesBilled, serverAfterPod.bytesBilled, 'as the server counts too');

  const cold = (await mountTemp(t, args)).daemon.mountpoint;
  await shOk('ls shop shop/@api shop/@api/app > /dev/null', cold);
  const listed = await settledStats(cold);
  t.equal(listed.queries, 1, 'pods and workloads, their containers and days: one query');
  t.equal(recentQueries(listed, 'listing').length, 1, 'the window’s labels-and-timestamps listing');
  await shOk(`cat shop/@api/app/${day}/*.log > /dev/null; wc -c shop/@web/app/${day}/*.log > /dev/null`, cold);
  const read = await settledStats(cold);
  const sweeps = recentQueries(read, 'sweep');
  t.equal(read.queries - listed.queries, 1, 'a cold workload-day: one query');
  t.equal(sweeps.length, 1, 'the namespace-day’s sweep');
  const podSweep = recentQueries(afterPod, 'sweep')[0];
  t.equal(read.bytesBilled - listed.bytesBilled, podSweep?.bytesBilled, 'billing what one pod’s day bills');
  t.comment(
    `listing ${listed.bytesBilled} bytes billed, the workload-day's sweep ${read.bytesBilled - listed.bytesBilled}`,
  );
});

t.test('a restarted mount reads workload hours from its disk cache, with no query', async (t) => {
  const emulator = await loadedServer(t);
  const first = await mountTemp(t, serverArgs(emulator, PROJECT, DATASET));
  const day = dayName(D);
  const hours = `shop/@api/app/${day}/*.log`;
  const before = await shOk(`cat ${hours}`, first.daemon.mountpoint);
  await first.daemon.stop();
  const mountpoint = await testDir(t, 'mnt');
  const second = await startDaemon(first.daemon.args, mountpoint);
  t.teardown(() => second.stop());
  await shOk('ls shop > /dev/null', mountpoint);
  const listed = await settledStats(mountpoint);
  t.equal(await shOk(`cat ${hours}`, mountpoint), before, 'the same bytes');
  const read = await settledStats(mountpoint);
  t.equal(read.queries, listed.queries, 'no query after the listing: the disk cache answered');
  t.equal(read.bytesBilled, listed.bytesBilled, 'and nothing billed');
});

/** The lines of workload hour files (`<pod> <line>`) whose line matches, as `bqlogfs grep` prints them. */
function asGrepLines(workloadText: string, namespace: string, container: string, matches: RegExp): string {
  return workloadText
    .split('\n')
    .slice(0, -1)
    .map((line) => [line.slice(0, line.indexOf(' ')), line.slice(line.indexOf(' ') + 1)] as const)
    .filter(([, line]) => matches.test(line))
    .map(([pod, line]) => `${namespace}/${pod}/${container}:${line}\n`)
    .join('');
}

t.test('bqlogfs grep --workload: the workload’s matches in the order of its hour files', async (t) => {
  const emulator = await loadedServer(t);
  const cacheDir = await testDir(t, 'grep-cache');
  const grep = async (args: string[]) => {
    const run = await runCli(['grep', ...serverArgs(emulator, PROJECT, DATASET), '--cache-dir', cacheDir, ...args], {
      forbidFuse: true,
    });
    t.equal(run.code, 0, `grep ${args.join(' ')}: exit 0`, { stderr: run.stderr });
    return run.stdout;
  };
  const allPods = [...API_OLD, ...API_NEW];
  let workloadDays = '';
  for (let hour = D + 9 * HOUR_MS; hour <= D1; hour += HOUR_MS) {
    workloadDays += expectedWorkloadHour(allPods, 'app', hour);
  }
  const window = ['--from', `${dayName(D)}T09`, '--to', `${dayName(D1)}T01`];
  const matches = /GET \/(cart|orders) 1/;
  const expected = asGrepLines(workloadDays, 'shop', 'app', matches);
  t.ok(
    API_OLD.concat(API_NEW).every((pod) => expected.includes(`/${pod}/`)),
    'the matches span both replica sets',
  );
  t.equal(
    await grep(['--workload', 'api', ...window, '-E', 'GET /(cart|orders) 1']),
    expected,
    'every pod of the Deployment across the rollout, in time order: the workload files’ matching lines',
  );
  t.equal(
    await grep(['--workload', 'api', '--pod', 'ccccc$', ...window, '-E', 'GET /(cart|orders) 1']),
    expected
      .split('\n')
      .filter((line) => line.includes('/api-6c9e2f1a7-ccccc/'))
      .map((line) => `${line}\n`)
      .join(''),
    '--pod narrows it to one pod',
  );
  t.equal(
    await grep(['--workload', 'worker', ...window, '-F', 'worker']),
    'shop/worker-7f9c4b8d6-eeeee/app:worker deployment\nshop/worker-29120400-fffff/app:worker cronjob\n',
    'controllers of different kinds with one name: both',
  );
  // 05:00–06:00 in Kolkata (+05:30) on the next day is 23:30–00:30 UTC.
  t.equal(
    await grep([
      '--workload',
      'api',
      '--tz',
      'Asia/Kolkata',
      '--from',
      `${dayName(D1)}T05`,
      '--to',
      `${dayName(D1)}T06`,
      '-F',
      'of the',
    ]),
    asGrepLines(expectedWorkloadHour(allPods, 'app', D1 - 30 * 60_000), 'shop', 'app', /of the/),
    '--tz: the window is in local hours, across UTC midnight',
  );
});

t.test('--format json gives each entry a pod field', async (t) => {
  const emulator = await loadedServer(t);
  const { mountpoint } = (await mountTemp(t, [...serverArgs(emulator, PROJECT, DATASET), '--format', 'json'])).daemon;
  const hourStart = D + 10 * HOUR_MS;
  const lines = (await readFile(join(mountpoint, hourPath('shop/@api/app', hourStart)), 'utf8')).trimEnd().split('\n');
  const entries = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
  const expected = expectedWorkloadHour([...API_OLD, ...API_NEW], 'app', hourStart)
    .split('\n')
    .filter((line) => line !== '' && !line.includes('   at '))
    .map((line) => line.slice(0, line.indexOf(' ')));
  t.same(
    entries.map((entry) => entry.pod),
    expected,
    'the pods in merge order',
  );
  for (const pod of [...API_OLD, ...API_NEW]) {
    const own = (await readFile(join(mountpoint, hourPath(`shop/${pod}/app`, hourStart)), 'utf8'))
      .trimEnd()
      .split('\n');
    const mine = entries.filter((entry) => entry.pod === pod).map(({ pod: _pod, ...rest }) => rest);
    t.same(
      mine,
      own.map((line) => JSON.parse(line) as unknown),
      `${pod}: its own file's entries, with the pod added`,
    );
  }
  t.ok(
    lines.every((line) => line.startsWith('{"pod":')),
    'the pod field comes first',
  );
});

t.test('with --tz, a local hour across UTC midnight merges the rows of two sweeps', async (t) => {
  const emulator = await loadedServer(t);
  const { mountpoint } = (await mountTemp(t, [...serverArgs(emulator, PROJECT, DATASET), '--tz', 'Asia/Kolkata']))
    .daemon;
  // 05:00–06:00 in Kolkata (+05:30) on the next day is 23:30–00:30 UTC.
  const path = `shop/@api/app/${dayName(D1)}/05.log`;
  const content = await readFile(join(mountpoint, path), 'utf8');
  const expected = expectedWorkloadHour([...API_OLD, ...API_NEW], 'app', D1 - 30 * 60_000);
  t.match(expected, 'last of the day\n', 'the hour holds entries of both UTC days');
  t.match(expected, 'first of the next day\n');
  t.equal(content, expected, `${path}: the merge of the rows`);
});

t.test('tail -F current.log follows a workload across a rollout', async (t) => {
  const realNow = Date.now();
  // The daemon's clock starts a minute into an hour, so the test never races an hour boundary.
  const hourStart = Math.ceil((realNow + 5_000) / HOUR_MS) * HOUR_MS;
  const clockOffsetS = Math.round((hourStart + 60_000 - realNow) / 1000);
  const daemonNow = () => Date.now() + clockOffsetS * 1000;
  const emulator = await startEmulator({ port: 0 });
  t.teardown(() => emulator.close());
  const client = emulatorClient(emulator.url, PROJECT);
  await createSinkTables(client, DATASET, 'partitioned', [dayName(hourStart)], []);
  let serial = 0;
  const insert = (pod: string, text: string) =>
    insertEntries(client, DATASET, 'partitioned', [
      {
        namespace: 'live',
        pod,
        container: 'app',
        stream: 'stdout',
        timestamp: new Date(daemonNow()).toISOString(),
        insertId: `live-${serial++}`,
        textPayload: text,
        controller: deployment('api'),
      },
    ]);
  await insert('api-5d8f7c9b4-aaaaa', 'old pod serving');
  await sleep(20);
  await insert('api-5d8f7c9b4-aaaaa', 'old pod still serving');
  const args = [...serverArgs(emulator, PROJECT, DATASET), '--refresh', '1s', '--listing-ttl', '1h'];
  const { mountpoint } = (await mountTemp(t, args, { clockOffsetS })).daemon;

  const tail = spawn('tail', ['-F', '-n', '+1', 'live/@api/app/current.log'], { cwd: mountpoint });
  let followed = '';
  tail.stdout.on('data', (chunk: Buffer) => (followed += chunk.toString()));
  t.teardown(() => void tail.kill());
  const waitFor = async (text: string) => {
    const start = Date.now();
    while (followed !== text && Date.now() - start < 10_000) await sleep(100);
  };
  const old = 'api-5d8f7c9b4-aaaaa old pod serving\napi-5d8f7c9b4-aaaaa old pod still serving\n';
  await waitFor(old);
  t.equal(followed, old, 'tail prints the workload as it is');
  await insert('api-6c9e2f1a7-ccccc', 'new pod after the rollout');
  await waitFor(`${old}api-6c9e2f1a7-ccccc new pod after the rollout\n`);
  t.equal(followed, `${old}api-6c9e2f1a7-ccccc new pod after the rollout\n`, 'and a pod the rollout started');
});
