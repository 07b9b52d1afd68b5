// Two failure points of the fault soak (test/fault-soak.test.ts) that need a scene of their own rather
// than random reads: readers killed while their fetch stalls (as test/interrupt.test.ts), and entries
// that reach BigQuery late, stamped before lines a follower already saw (as test/late-entries.test.ts).
// Each runs while the server injects the faults it is given, and says what it checked, which bytes
// were wrong, and what else went wrong.
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { FaultRule } from '../../src/emulator/fault-plan.js';
import { createSinkTables, insertEntries, type LogEntry } from '../../src/demo/sink-tables.js';
import { serverArgs } from './cli-process.js';
import { startDaemon, tempMountDirs, type Daemon } from './daemon.js';
import { mountFixtures, PROJECT, type Environment } from './environment.js';
import { readAndCompare } from './fault-checks.js';
import { follow } from './follow.js';
import { fileOrder, hourFile, LiveInserts, nextBoundary, waitUntil } from './live-hours.js';
import { mountedInterruptible, startCat, waitsOnFuse } from './readers.js';
import { shOk } from './shell.js';

type Teardown = { teardown(fn: () => void | Promise<void>): void };

export interface PointOutcome {
  /** Comparisons of what a reader got with the true bytes. */
  checks: number;
  /** Those that were not the true bytes. */
  wrong: string[];
  /** Anything else that went wrong: a reader that did not wait or exit, a daemon that died. */
  problems: string[];
  comment: string;
}

/** The first request stalls this long: readers are killed while it lasts. */
const STALL_MS = 8_000;
/** How long a killed reader may take to exit when the binding answers interrupts (the goal is 1 s). */
const EXIT_BOUND_MS = 5_000;
/** Generous: the machines that run the tests are often loaded. */
const WAIT_LIMIT_MS = 20_000;

/**
 * Three readers of one day's hours wait on a stalled fetch; two are killed (SIGINT, SIGKILL). The
 * third, and a reread of all three, must get the exact bytes, and the daemon must stay up. With the
 * patched fuse-native the killed readers exit at once; without it, when the stall ends.
 */
export async function interruptedReaders(
  t: Teardown,
  environment: Environment,
  faults: FaultRule[],
  seed: number,
): Promise<PointOutcome> {
  const { files, fixtures, emulator } = environment;
  const outcome: PointOutcome = { checks: 0, wrong: [], problems: [], comment: '' };
  const compare = (path: string, got: Buffer) => {
    outcome.checks++;
    if (!got.equals(Buffer.from(files.get(path) ?? ''))) outcome.wrong.push(`${path}: ${got.length} bytes`);
  };
  const mount = await mountFixtures(t, environment, ['--query-timeout', '60s']);
  const root = mount.daemon.mountpoint;
  const interruptible = (await mountedInterruptible(mount.daemon)) === true;
  // Three directories: with libfuse 2 the kernel lets one lookup at a time into a directory.
  const day = fixtures.yesterday;
  const killedPaths = [`shop/web-7d9f8-abcde/app/${day}/09.log`, `shop/web-7d9f8-fghij/nginx/${day}/11.log`];
  const survivorPath = `shop/web-7d9f8-abcde/nginx/${day}/10.log`;
  const paths = [...killedPaths, survivorPath];
  // The listings first, so that the day's fetch is the first request the stall holds.
  for (const path of paths) await readdir(join(root, path, '..'));
  emulator.faults.set({ seed, rules: [{ endpoint: '*', kind: 'latency', ms: STALL_MS, count: 1 }, ...faults] });

  const readers = paths.map((path) => startCat(join(root, path)));
  const survivor = readers[2]!;
  for (const reader of readers) {
    if (!(await waitsOnFuse(reader.child.pid ?? 0))) outcome.problems.push(`reader ${reader.child.pid} never waited`);
  }
  const waited: string[] = [];
  for (const [index, signal] of (['SIGINT', 'SIGKILL'] as const).entries()) {
    const reader = readers[index]!;
    if (reader.child.exitCode !== null || reader.child.signalCode !== null) {
      // Without interrupts, the first kill waits for the stall, which lets this reader go too.
      waited.push(`with the stall, before ${signal}`);
      if (interruptible) outcome.problems.push(`the reader for ${signal} ended before it was sent`);
      continue;
    }
    const sentAt = Date.now();
    reader.child.kill(signal);
    const exitMs = (await reader.exited) - sentAt;
    waited.push(`${exitMs} ms after ${signal}`);
    if (interruptible && exitMs > EXIT_BOUND_MS) outcome.problems.push(`${signal}: exited after ${exitMs} ms`);
    if (interruptible && survivor.child.exitCode !== null) outcome.problems.push('the survivor did not wait');
  }
  await survivor.exited;
  if (survivor.child.exitCode === 0) compare(survivorPath, Buffer.concat(survivor.output));
  else outcome.problems.push(`the reader that was not killed failed: ${survivor.child.exitCode}`);
  for (const path of paths) {
    const reread = await readAndCompare(join(root, path), files.get(path));
    outcome.checks++;
    if (reread.kind === 'wrong') outcome.wrong.push(reread.detail);
    else if (reread.kind === 'error') outcome.problems.push(`${path} read again: ${reread.code}`);
  }
  if (mount.daemon.process.exitCode !== null) outcome.problems.push('the daemon exited');
  outcome.comment =
    `interrupted readers (interruptible ${interruptible}): exited ${waited.join(', ')} ` +
    `of a ${STALL_MS / 1000} s stall; the survivor and ${paths.length} rereads compared`;
  await mount.daemon.stop();
  return outcome;
}

const DATASET = 'soak_late';
const REF = { namespace: 'late', pod: 'web-0', container: 'app' } as const;
const POD_DIR = `${REF.namespace}/${REF.pod}/${REF.container}`;

/**
 * A daemon whose clock is 75 s before an hour ends follows that hour with `tail -F` while entries
 * arrive, some stamped before lines it already showed (one at the very time of one, with an insertId
 * before it): each must show up exactly once, in the order it arrived, in the tail and in a fresh
 * `cat`, with stat = wc -c. Then a daemon whose clock is past the hour's end mounts the same cache:
 * the sealed hour is in strict order.
 */
export async function lateEntries(
  t: Teardown,
  environment: Environment,
  faults: FaultRule[],
  seed: number,
): Promise<PointOutcome> {
  const { emulator, client } = environment;
  const outcome: PointOutcome = { checks: 0, wrong: [], problems: [], comment: '' };
  const boundary = nextBoundary();
  const clockOffsetS = Math.round((boundary - 75_000 - Date.now()) / 1000);
  const daemonNow = () => Date.now() + clockOffsetS * 1000;
  await createSinkTables(client, DATASET, 'partitioned', [new Date(boundary - 1).toISOString().slice(0, 10)], []);
  const inserts = new LiveInserts((batch) => insertEntries(client, DATASET, 'partitioned', batch), {
    ...REF,
    stream: 'stdout',
  });
  const { inserted, arrived } = inserts;
  const insert = (stamps: [ms: number, insertId: string][]) => inserts.insert(stamps);
  const text = (entries: LogEntry[]) => entries.map((entry) => `${entry.textPayload}\n`).join('');
  const expect = (what: string, got: string, expected: string) => {
    outcome.checks++;
    if (got !== expected) outcome.wrong.push(`${what}: ${JSON.stringify(got)}, expected ${JSON.stringify(expected)}`);
  };
  /** A fresh `cat` of `file`, and stat = wc -c. */
  const cat = async (daemon: Daemon, file: string, what: string, expected: string) => {
    const root = daemon.mountpoint;
    expect(what, await waitUntil(() => shOk(`cat ${file}`, root), expected, WAIT_LIMIT_MS), expected);
    const sizes = await shOk(`stat -L -c %s ${file}; wc -c < ${file}`, root);
    expect(`${what}, stat and wc -c`, sizes, `${Buffer.byteLength(expected)}\n`.repeat(2));
  };

  const startMs = daemonNow();
  await insert([
    [startMs - 40_000, 'k10'],
    [startMs - 30_000, 'k20'],
    [startMs - 20_000, 'k30'],
  ]);
  emulator.faults.set({ seed, rules: faults });
  const { mountpoint, cacheDir } = await tempMountDirs(t);
  const args = [...serverArgs(emulator, PROJECT, DATASET), '--refresh', '1s', '--seal-after', '2s'];
  const live = await startDaemon([...args, '--cache-dir', cacheDir], mountpoint, { clockOffsetS });
  t.teardown(() => live.stop());
  const tail = follow(t, `${POD_DIR}/current.log`, mountpoint, '-F');
  const followed = async (what: string) => {
    expect(`tail -F, ${what}`, await waitUntil(tail.output, text(arrived), WAIT_LIMIT_MS), text(arrived));
  };
  await followed('what is there');
  await insert([
    [startMs - 35_000, 'k15'],
    [startMs - 20_000, 'k29'],
    [daemonNow(), 'k40'],
    [startMs - 50_000, 'k05'],
  ]);
  await followed('three late entries and a new one');
  await cat(live, `${POD_DIR}/current.log`, 'the live hour', text(arrived));
  if (daemonNow() >= boundary) outcome.problems.push('the hour ended before its live checks did');
  tail.stop();
  await live.stop();

  const sealed = await startDaemon([...args, '--cache-dir', cacheDir], mountpoint, {
    clockOffsetS: clockOffsetS + 120,
  });
  t.teardown(() => sealed.stop());
  await cat(sealed, `${POD_DIR}/${hourFile(boundary - 1)}`, 'the sealed hour', text([...inserted].sort(fileOrder)));
  if (sealed.process.exitCode !== null) outcome.problems.push('the daemon of the sealed hour exited');
  await sealed.stop();
  outcome.comment = `late entries: ${inserted.length} entries, 4 of them late, followed live, then sealed`;
  return outcome;
}
