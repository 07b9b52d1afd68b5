// Entries that reach BigQuery late, stamped before lines `tail -F current.log` already showed: each
// appears once, at the end of the live hour, in the order it arrived, in a pod's directory, in its
// workload's and with `--format json`; once the hour is sealed its file is in strict order. The
// daemons run under faketime, their clock set to just over a minute before an hour ends, so that
// the test can then wait for the hour to be sealed (--seal-after 2s).
import t from 'tap';
import { setTimeout as sleep } from 'node:timers/promises';
import { emulatorClient } from '../src/emulator/client.js';
import { startEmulator } from '../src/emulator/server.js';
import { createSinkTables, insertEntries, type LogEntry } from '../src/demo/sink-tables.js';
import { serverArgs } from './support/cli-process.js';
import { mountTemp } from './support/daemon.js';
import { follow } from './support/follow.js';
import { fileOrder, hourFile, LiveInserts, nextBoundary, waitUntil as waitForText } from './support/live-hours.js';
import { shOk } from './support/shell.js';
import { readStats, serverStats } from './support/stats.js';

const PROJECT = 'late-project';
const DATASET = 'late_logs';
const REF = { namespace: 'late', pod: 'web-0', container: 'app' } as const;
const CONTROLLER = { name: 'web', kind: 'Deployment' };
const POD_DIR = `${REF.namespace}/${REF.pod}/${REF.container}`;
const WORKLOAD_DIR = `${REF.namespace}/@${CONTROLLER.name}/${REF.container}`;
/** Generous: the machines that run the tests are often loaded. */
const WAIT_LIMIT_MS = 20_000;
const waitUntil = (look: () => string | Promise<string>, expected: string) =>
  waitForText(look, expected, WAIT_LIMIT_MS);

t.test('late entries reach tail -F of the live hour once each; the sealed hour is in order', async (t) => {
  const boundary = nextBoundary();
  // The daemons' clock starts 75 s before the boundary; the entries follow that clock.
  const clockOffsetS = Math.round((boundary - 75_000 - Date.now()) / 1000);
  const daemonNow = () => Date.now() + clockOffsetS * 1000;

  const emulator = await startEmulator({ port: 0 });
  t.teardown(() => emulator.close());
  const client = emulatorClient(emulator.url, PROJECT);
  await createSinkTables(client, DATASET, 'partitioned', [new Date(boundary - 1).toISOString().slice(0, 10)], []);
  const inserts = new LiveInserts((batch) => insertEntries(client, DATASET, 'partitioned', batch), {
    ...REF,
    controller: CONTROLLER,
    stream: 'stdout',
  });
  const { inserted, arrived } = inserts;
  const insert = (stamps: [ms: number, insertId: string][]) => inserts.insert(stamps);
  const text = (entries: LogEntry[], prefix = '') => entries.map((entry) => `${prefix}${entry.textPayload}\n`).join('');
  const insertIds = (json: string) =>
    json
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => (JSON.parse(line) as { insertId: string }).insertId)
      .join(' ');

  const startMs = daemonNow();
  await insert([
    [startMs - 40_000, 'k10'],
    [startMs - 30_000, 'k20'],
    [startMs - 20_000, 'k30'],
  ]);
  const mountArgs = [...serverArgs(emulator, PROJECT, DATASET), '--refresh', '1s', '--seal-after', '2s'];
  const [textMount, jsonMount] = await Promise.all([
    mountTemp(t, mountArgs, { clockOffsetS }),
    mountTemp(t, [...mountArgs, '--format', 'json'], { clockOffsetS }),
  ]);
  const mountpoint = textMount.daemon.mountpoint;
  const live = hourFile(boundary - 1);
  t.equal((await shOk(`readlink ${POD_DIR}/current.log`, mountpoint)).trim(), live, 'current.log: the live hour');

  const podTail = follow(t, `${POD_DIR}/current.log`, mountpoint, '-F');
  const workloadTail = follow(t, `${WORKLOAD_DIR}/current.log`, mountpoint, '-F');
  const jsonTail = follow(t, `${POD_DIR}/current.log`, jsonMount.daemon.mountpoint, '-F');
  const checkTails = async (what: string) => {
    const podText = text(arrived);
    t.equal(await waitUntil(podTail.output, podText), podText, `${what}: the pod's tail -F`);
    const workloadText = text(arrived, `${REF.pod} `);
    t.equal(await waitUntil(workloadTail.output, workloadText), workloadText, `${what}: the workload's tail -F`);
    const ids = arrived.map((entry) => entry.insertId).join(' ');
    t.equal(await waitUntil(() => insertIds(jsonTail.output()), ids), ids, `${what}: tail -F with --format json`);
  };
  await checkTails('what is there');

  await insert([[daemonNow(), 'k40']]);
  await checkTails('a new entry');

  // Late: stamped before lines shown, one of them at the very time of k30 with an insertId before it.
  const k30 = Date.parse(inserted.find((entry) => entry.insertId === 'k30')!.timestamp);
  await insert([
    [startMs - 35_000, 'k15'],
    [k30, 'k29'],
    [startMs - 50_000, 'k05'],
  ]);
  await checkTails('three late entries, a tie among them');

  t.ok(daemonNow() < boundary - 3_000, 'the hour is still filling');
  await insert([
    [daemonNow(), 'k50'],
    [startMs - 25_000, 'k25'],
  ]);
  await checkTails('a late and a new entry together');

  const expectedLive = text(arrived);
  t.equal(
    await shOk(`cat ${POD_DIR}/current.log`, mountpoint),
    expectedLive,
    'a fresh cat: the same, in arrival order',
  );
  t.equal(await shOk(`cat ${WORKLOAD_DIR}/current.log`, mountpoint), text(arrived, `${REF.pod} `), 'its workload too');
  const sizes = await shOk(`stat -L -c %s ${POD_DIR}/current.log; wc -c < ${POD_DIR}/current.log`, mountpoint);
  t.same(
    sizes.trim().split('\n').map(Number),
    [Buffer.byteLength(expectedLive), Buffer.byteLength(expectedLive)],
    'stat = wc -c',
  );
  const stats = await readStats(mountpoint);
  const server = await serverStats(emulator.url);
  t.comment(
    `text mount: ${stats.refreshes} refreshes billed ${stats.refreshBytesBilled} bytes; ` +
      `server: ${server.queries} queries, ${server.bytesProcessed} bytes processed, ${server.storageRowsRead} rows read`,
  );
  t.ok(daemonNow() < boundary, 'all of that while the hour was live');

  podTail.stop();
  workloadTail.stop();
  jsonTail.stop();
  while (daemonNow() < boundary + 3_000) await sleep(200);
  const sorted = [...inserted].sort(fileOrder);
  const podHour = `${POD_DIR}/${live}`;
  t.equal(
    await waitUntil(() => shOk(`cat ${podHour}`, mountpoint), text(sorted)),
    text(sorted),
    'sealed: strictly in order',
  );
  const sealedSizes = await shOk(`stat -c %s ${podHour}; wc -c < ${podHour}`, mountpoint);
  t.same(
    sealedSizes.trim().split('\n').map(Number),
    [Buffer.byteLength(text(sorted)), Buffer.byteLength(text(sorted))],
    'stat = wc -c',
  );
  t.equal(Buffer.byteLength(text(sorted)), Buffer.byteLength(expectedLive), 'the same size as the live file had');
  t.equal(
    (await shOk(`date -u -r ${podHour} +%s`, mountpoint)).trim(),
    String(boundary / 1000),
    'and a new mtime, the end of the hour, so the kernel drops the pages it cached of the live file',
  );
  t.equal(
    await shOk(`cat ${WORKLOAD_DIR}/${live}`, mountpoint),
    text(sorted, `${REF.pod} `),
    'the workload’s sealed hour is in order too',
  );
  const ids = sorted.map((entry) => entry.insertId).join(' ');
  const jsonHour = () => shOk(`cat ${podHour}`, jsonMount.daemon.mountpoint).then(insertIds);
  t.equal(await waitUntil(jsonHour, ids), ids, 'and with --format json');
});
