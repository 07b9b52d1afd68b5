// `tail -F current.log` keeps following when the hour rolls over. The daemon runs under faketime
// with its clock set to just before an hour ends, so the test does not wait for a real one.
import t, { type Test } from 'tap';
import { setTimeout as sleep } from 'node:timers/promises';
import { emulatorClient } from '../src/emulator/client.js';
import { startEmulator } from '../src/emulator/server.js';
import { createSinkTables, insertEntries } from '../src/demo/sink-tables.js';
import { serverArgs } from './support/cli-process.js';
import { mountTemp } from './support/daemon.js';
import { follow } from './support/follow.js';
import { shOk } from './support/shell.js';

const PROJECT = 'boundary-project';
const DATASET = 'boundary_logs';
const REF = { namespace: 'live', pod: 'web-0', container: 'app' } as const;
const CONTAINER_DIR = `${REF.namespace}/${REF.pod}/${REF.container}`;
const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

/** `YYYY-MM-DD/HH.log` of the UTC hour an instant falls in. */
const hourFile = (ms: number) => {
  const iso = new Date(ms).toISOString();
  return `${iso.slice(0, 10)}/${iso.slice(11, 13)}.log`;
};

/** The next hour boundary at least 20 s away that is (or is not) a UTC midnight. */
const nextBoundary = (midnight: boolean) => {
  const earliest = Date.now() + 20_000;
  if (midnight) return Math.ceil(earliest / DAY_MS) * DAY_MS;
  const boundary = Math.ceil(earliest / HOUR_MS) * HOUR_MS;
  return boundary % DAY_MS === 0 ? boundary + HOUR_MS : boundary;
};

t.test('tail -F current.log follows across an hour boundary', (t) => followAcross(t, nextBoundary(false)));
// The new hour is in a day no listing has seen yet: its directory must appear as soon as it has entries.
t.test('tail -F current.log follows across UTC midnight', (t) => followAcross(t, nextBoundary(true)));
// A workload's current.log, with the next hour's first entry from a pod a rollout just started.
t.test('tail -F a workload’s current.log follows across an hour boundary and a rollout', (t) =>
  followAcross(t, nextBoundary(false), true),
);

/** The pod that logs the n-th entry: with `rollout`, the third comes from a new pod of the workload. */
const podOf = (n: number, rollout: boolean) => (rollout && n >= 2 ? 'web-1' : REF.pod);

async function followAcross(t: Test, boundary: number, workload = false) {
  const realNow = Date.now();
  // The daemon's clock starts 30 s before the boundary, time enough on a loaded machine for the
  // mount, its listing and the first sweep before tail prints; the test's entries follow that clock.
  const leadMs = 30_000;
  const clockOffsetS = Math.round((boundary - leadMs - realNow) / 1000);
  const daemonNow = () => Date.now() + clockOffsetS * 1000;

  const emulator = await startEmulator({ port: 0 });
  t.teardown(() => emulator.close());
  const client = emulatorClient(emulator.url, PROJECT);
  const days = [...new Set([boundary - 1, boundary].map((ms) => new Date(ms).toISOString().slice(0, 10)))];
  await createSinkTables(client, DATASET, 'partitioned', days, []);
  let sequence = 0;
  const insertAt = async (ms: number) => {
    const n = sequence++;
    await insertEntries(client, DATASET, 'partitioned', [
      {
        ...REF,
        pod: podOf(n, workload),
        stream: 'stdout',
        timestamp: new Date(ms).toISOString(),
        insertId: `b-${n}`,
        textPayload: `line ${n}`,
        controller: { name: 'web', kind: 'StatefulSet' },
      },
    ]);
  };
  // A workload's lines start with their pod's name.
  const expected = (upTo: number) =>
    Array.from({ length: upTo }, (_, n) => `${workload ? `${podOf(n, true)} ` : ''}line ${n}\n`).join('');

  await insertAt(boundary - leadMs - 15_000);
  const mountArgs = [...serverArgs(emulator, PROJECT, DATASET), '--refresh', '1s'];
  const { mountpoint } = (await mountTemp(t, mountArgs, { clockOffsetS })).daemon;

  const link = `${workload ? `${REF.namespace}/@web/${REF.container}` : CONTAINER_DIR}/current.log`;
  t.equal((await shOk(`readlink ${link}`, mountpoint)).trim(), hourFile(boundary - 1), 'current.log: the ending hour');
  const tail = follow(t, link, mountpoint, '-F');

  t.equal((await tail.waitFor(expected(1), 5_000), tail.output()), expected(1), 'tail prints what is there');
  t.ok(daemonNow() < boundary - 2_000, 'with time left in the hour');
  await insertAt(daemonNow());
  const waited = await tail.waitFor(expected(2), 5_000);
  t.equal(tail.output(), expected(2), `a new entry of the ending hour after ${waited} ms`);

  while (daemonNow() < boundary + 500) await sleep(100);
  await insertAt(daemonNow());
  const acrossMs = await tail.waitFor(expected(3), 10_000);
  t.equal(tail.output(), expected(3), `the first entry of the next hour after ${acrossMs} ms, nothing lost or twice`);
  t.equal((await shOk(`readlink ${link}`, mountpoint)).trim(), hourFile(boundary), 'current.log: the new hour');
  t.comment(`tail said: ${tail.told().trim().replaceAll('\n', ' | ')}`);
}
