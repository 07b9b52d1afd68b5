// A workload's hour file is the merge of its pods' hours; the daemon must not hold those hours in
// memory to merge them. Three pods of one Deployment log an hour (31 MB merged) whose rows, as JS
// values, do not fit the daemon's heap (--max-old-space-size=128): a daemon that held them ran out
// of heap and died, and the mount with it. It must serve the merged file, byte for byte, and live,
// also when streams of the Storage Read API break or end early.
import t from 'tap';
import type { LogEntry } from '../src/demo/sink-tables.js';
import { checkMergedHour, mergedWorkloadHour, serverWith } from './support/big-hours.js';

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

t.test('a workload hour bigger than the heap is merged without holding it', async (t) => {
  const day = new Date(D).toISOString().slice(0, 10);
  const { emulator } = await serverWith(t, PROJECT, DATASET, day, entries());
  const expected = mergedWorkloadHour(entries());
  t.ok(expected.bytes > 0, `the merged hour holds ${expected.bytes} bytes`);
  // Each read of a pod's rows is a stream of its own: some break or end early, and are read again.
  await checkMergedHour(t, emulator, PROJECT, DATASET, ['shop', '@api', 'app', day, `${HOUR}.log`], expected, 12);
});
