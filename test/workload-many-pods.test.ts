// A workload directory merges its pods' hours; a DaemonSet on a big cluster has hundreds of pods.
// The merge must not hold a page of rows per pod in memory: 150 pods of one DaemonSet, 1 000 entries
// each in one hour (a 110 MB merged hour), were enough for a daemon holding two pages of 500 rows per
// pod to run out of heap (--max-old-space-size=128) and die, and the mount with it. It must serve the
// merged file, byte for byte, and live, also when streams of the Storage Read API break or end early.
import t from 'tap';
import type { LogEntry } from '../src/demo/sink-tables.js';
import { checkMergedHour, mergedWorkloadHour, serverWith } from './support/big-hours.js';
import { sh } from './support/shell.js';

const PROJECT = 'many-pods-project';
const DATASET = 'logs';
const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;
const D = Math.floor(Date.now() / DAY_MS) * DAY_MS - 2 * DAY_MS;
const HOUR = 14;
const POD_COUNT = 150;
const ROWS_PER_POD = 1_000;
const PODS = Array.from({ length: POD_COUNT }, (_, p) => `agent-${(p * 7_919).toString(36).padStart(5, 'a')}`);

/** Pod p's n-th entry: the pods' entries interleave in time, and some share a timestamp. */
function entryOf(p: number, n: number): LogEntry {
  const micros = (D + HOUR * HOUR_MS) * 1000 + Math.floor((n * 3_599_000_000) / ROWS_PER_POD) + (n % 5 === 0 ? 0 : p);
  const iso = new Date(Math.floor(micros / 1000)).toISOString().slice(0, 19);
  return {
    namespace: 'kube-system',
    pod: PODS[p]!,
    container: 'agent',
    stream: n % 13 === 0 ? 'stderr' : 'stdout',
    timestamp: `${iso}.${String(micros % 1_000_000).padStart(6, '0')}Z`,
    insertId: `${String(n).padStart(5, '0')}-${p}`,
    textPayload: `${String(n).padStart(5, '0')} node ${p} shipped batch ${(n * 7919) % 100_000} ${'w'.repeat(600 + ((n + p) % 200))}`,
    controller: { name: 'agent', kind: 'DaemonSet' },
  };
}

function* entries(): Generator<LogEntry> {
  for (let n = 0; n < ROWS_PER_POD; n++) for (let p = 0; p < POD_COUNT; p++) yield entryOf(p, n);
}

t.test('a workload of 150 pods is merged without a page per pod in memory', async (t) => {
  const day = new Date(D).toISOString().slice(0, 10);
  const { emulator } = await serverWith(t, PROJECT, DATASET, day, entries());
  const expected = mergedWorkloadHour(entries());
  t.ok(expected.bytes > 0, `the merged hour holds ${expected.bytes} bytes`);
  // Each read of a pod's rows is a stream of its own: some break or end early, and are read again.
  const { cacheDir } = await checkMergedHour(
    t,
    emulator,
    PROJECT,
    DATASET,
    ['kube-system', '@agent', 'agent', day, `${HOUR}.log`],
    expected,
    21,
  );
  const scratch = await sh(`find '${cacheDir}' -type d -name .scratch; find '${cacheDir}' -path '*/.scratch/*'`);
  t.match(scratch.stdout, /\.scratch\n$/, 'the pods went through scratch files, and none is left');
});
