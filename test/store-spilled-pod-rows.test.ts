// SpilledPodRows, a pod's rows of an hour through a scratch file of the disk cache, for the merge of
// a workload with many pods: every row comes back as it was read, whatever it holds (newlines,
// multi-byte characters, nulls, rows longer than a chunk), and the scratch file is gone afterwards.
import t from 'tap';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { QueryResult, RawRow } from '../src/bigquery/log-warehouse.js';
import { DiskCache } from '../src/store/disk-cache.js';
import { ReadQueue } from '../src/store/pod-hour-rows.js';
import { SpilledPodRows } from '../src/store/spilled-pod-rows.js';
import { testDir } from './support/daemon.js';

/** A kept result of `rows`, read by row index in slices of 256 as the Storage Read API path delivers them. */
function resultOf(rows: RawRow[]): QueryResult {
  return {
    stats: { jobId: 'job', bytesProcessed: 0, bytesBilled: 0, durationMs: 0, rows: rows.length },
    totalRows: rows.length,
    readRows: async (start, count, deliver) => {
      for (let at = start; at < start + count; at += 256)
        await deliver(rows.slice(at, Math.min(at + 256, start + count)));
    },
  };
}

function rowOf(n: number): RawRow {
  const micros = String(1_764_000_000_000_000 + n * 1000);
  const text =
    n % 97 === 0
      ? `long ${'é'.repeat(40_000)} ${n}`
      : n % 5 === 0
        ? `line ${n}\nwith a second line ✓ and "quotes" \\ ${'ü'.repeat(n % 300)}`
        : `plain ${n} ${'x'.repeat(n % 700)}`;
  return [
    micros,
    `id-${n}`,
    n % 3 === 0 ? 'stderr' : 'stdout',
    n % 11 === 0 ? null : text,
    n % 11 === 0 ? '{"a":1}' : null,
  ];
}

t.test('rows come back as they went in, and the scratch file is removed', async (t) => {
  const cacheDir = await testDir(t, 'spill-cache');
  const cache = await DiskCache.open(cacheDir, 'key', 2 ** 30);
  t.teardown(() => cache.close());
  const rows = Array.from({ length: 3_000 }, (_, n) => rowOf(n));
  const result = resultOf(rows);
  // Two spans of the pod, as two sweeps' results or two parts of one, skipping rows of other pods.
  const spans = [
    { result, start: 10, count: 1_500 },
    { result, start: 2_000, count: 990 },
  ];
  const seen: RawRow[] = [];
  const pod = await SpilledPodRows.spill(
    'api-1',
    spans,
    new ReadQueue(),
    (row) => [...row],
    (name) => cache.createScratch(name),
    4096,
  );
  const scratchDir = join(cacheDir, 'key', '.scratch');
  t.equal((await readdir(scratchDir)).length, 1, 'one scratch file while the rows are merged');
  while (await pod.ensureRow()) {
    seen.push(pod.row);
    t.equal(pod.key?.micros, BigInt(pod.row[0]!), 'each row carries its key');
    pod.advance();
  }
  t.same(seen, [...rows.slice(10, 1_510), ...rows.slice(2_000, 2_990)], 'every row of the spans, in order, unchanged');
  t.notOk(await pod.ensureRow(), 'no row after the last');
  await pod.remove();
  t.same(await readdir(scratchDir), [], 'the scratch file is removed');
});

t.test('a read that fails leaves no scratch file', async (t) => {
  const cacheDir = await testDir(t, 'spill-cache');
  const cache = await DiskCache.open(cacheDir, 'key', 2 ** 30);
  t.teardown(() => cache.close());
  const rows = Array.from({ length: 600 }, (_, n) => rowOf(n));
  const failing: QueryResult = {
    ...resultOf(rows),
    readRows: async (start, _count, deliver) => {
      await deliver(rows.slice(start, start + 256));
      throw new Error('stream reset');
    },
  };
  await t.rejects(
    SpilledPodRows.spill(
      'api-1',
      [{ result: failing, start: 0, count: 600 }],
      new ReadQueue(),
      (row) => row,
      (name) => cache.createScratch(name),
      4096,
    ),
    /stream reset/,
  );
  t.same(await readdir(join(cacheDir, 'key', '.scratch')), [], 'nothing left');
});
