// A workload's hour file is the merge of its pods' hours; the daemon must not hold those hours in
// memory to merge them. Three pods of one Deployment log an hour (31 MB merged) whose rows, as JS
// values, do not fit the daemon's heap (--max-old-space-size=128): a daemon that held them ran out
// of heap and died, and the mount with it. It must serve the merged file, byte for byte, and live,
// also when streams of the Storage Read API break or end early.
import t from 'tap';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import type { LogEntry } from '../src/demo/sink-tables.js';
import { serverWith, sha256Of } from './support/big-hours.js';
import { serverArgs } from './support/cli-process.js';
import { mountTemp } from './support/daemon.js';
import { peakRssBytes } from './support/fault-checks.js';
import { sh } from './support/shell.js';

const PROJECT = 'workload-memory-project';
const DATASET = 'logs';
const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;
const D = Math.floor(Date.now() / DAY_MS) * DAY_MS - 2 * DAY_MS;
const HOUR = 10;
const PODS = ['api-5d8f7c9b4-aaaaa', 'api-5d8f7c9b4-bbbbb', 'api-5d8f7c9b4-ccccc'];
const ROWS_PER_POD = 120_000;

/** Pod p's n-th entry: the pods' entries interleave in time, and some share a timestamp. */
function entryOf(p: number, n: number): LogEntry {
  const micros = (D + HOUR * HOUR_MS) * 1000 + Math.floor((n * 3_599_000_000) / ROWS_PER_POD) + (n % 7 === 0 ? 0 : p);
  const iso = new Date(Math.floor(micros / 1000)).toISOString().slice(0, 19);
  return {
    namespace: 'shop',
    pod: PODS[p]!,
    container: 'app',
    stream: n % 11 === 0 ? 'stderr' : 'stdout',
    timestamp: `${iso}.${String(micros % 1_000_000).padStart(6, '0')}Z`,
    insertId: `${p}-${String(n).padStart(7, '0')}`,
    textPayload: `${String(n).padStart(7, '0')} pod ${p} GET /orders/${(n * 7919) % 100_000} 200 ${'z'.repeat(n % 60)}`,
    controller: { name: 'api', kind: 'Deployment' },
  };
}

function* entries(): Generator<LogEntry> {
  for (let n = 0; n < ROWS_PER_POD; n++) for (let p = 0; p < PODS.length; p++) yield entryOf(p, n);
}

/** The workload's hour, from the rows: merged by (time, insertId, stream, pod), each line prefixed with its pod. */
function expectedHour(): { sha256: string; bytes: number } {
  const rows: Array<{ micros: bigint; entry: LogEntry }> = [];
  for (const entry of entries()) {
    const [seconds = '', fraction = ''] = entry.timestamp.slice(0, -1).split('.');
    rows.push({ micros: BigInt(Date.parse(`${seconds}Z`)) * 1000n + BigInt(fraction), entry });
  }
  const byBytes = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b));
  rows.sort(
    (a, b) =>
      (a.micros < b.micros ? -1 : a.micros > b.micros ? 1 : 0) ||
      byBytes(a.entry.insertId, b.entry.insertId) ||
      byBytes(a.entry.stream, b.entry.stream) ||
      byBytes(a.entry.pod, b.entry.pod),
  );
  const hash = createHash('sha256');
  let bytes = 0;
  for (const { entry } of rows) {
    const line = Buffer.from(`${entry.pod} ${entry.textPayload}\n`);
    hash.update(line);
    bytes += line.length;
  }
  return { sha256: hash.digest('hex'), bytes };
}

t.test('a workload hour bigger than the heap is merged without holding it', async (t) => {
  const day = new Date(D).toISOString().slice(0, 10);
  const { emulator } = await serverWith(t, PROJECT, DATASET, day, entries());
  const expected = expectedHour();

  // Each page of a pod is a read of its own: some streams break or end early, and are read again.
  emulator.faults.set({
    seed: 12,
    rules: [
      { endpoint: 'storage.readRows', kind: 'streamReset', afterBatches: 1, probability: 0.15 },
      { endpoint: 'storage.readRows', kind: 'streamEnd', afterBatches: 1, probability: 0.1 },
    ],
  });
  const { daemon } = await mountTemp(t, serverArgs(emulator, PROJECT, DATASET));
  const file = join(daemon.mountpoint, 'shop', '@api', 'app', day, `${HOUR}.log`);
  const size = await sh(`stat -c %s '${file}'`);
  t.equal(size.stdout.trim(), String(expected.bytes), 'st_size is the merged hour’s size');
  t.equal(await sha256Of(file), expected.sha256, 'the bytes are the merge of the pods’ rows');
  t.equal(daemon.process.exitCode, null, 'the daemon is still running');
  const { injected } = emulator.faults.stats();
  t.ok(injected > 0, `${injected} streams were cut short`);
  t.comment(`the daemon's peak RSS: ${((await peakRssBytes(daemon.process.pid!)) / 2 ** 20).toFixed(0)} MiB`);
});
