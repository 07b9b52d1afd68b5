// `node --max-semi-space-size=2 --max-old-space-size=128 --import tsx bench/write-path.ts`: the
// daemon's side of a cold fetch through the Storage Read API without the network or the local
// server: Arrow record batches like the sweep's (2 048 rows each, the bench's ~200-byte lines) are
// decoded, checked as the container's, and written to an hour file of a disk cache, as a cold
// `cat` does. Prints the CPU time, and with `--allocations` what the JS heap allocated, by function
// (V8's sampling heap profiler, counting objects already collected). Run it with the daemon's heap
// flags, as above, so that the garbage collector works as it does in the daemon.
import { mkdtemp, rm } from 'node:fs/promises';
import { Session } from 'node:inspector/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import {
  Field,
  Int64,
  makeData,
  makeVector,
  RecordBatch,
  RecordBatchStreamWriter,
  Schema,
  Struct,
  TimestampMicrosecond,
  Utf8,
  vectorFromArray,
  type Vector,
} from 'apache-arrow';
import { BatchBuffer, rowSlicesOfBatch } from '../src/bigquery/arrow-rows.js';
import { SWEEP_INDEX_COLUMNS } from '../src/bigquery/query-builder.js';
import { TimeZoneModel } from '../src/model/time-model.js';
import { planDayFetch } from '../src/store/day-fetch-plan.js';
import { emptyDayState } from '../src/store/day-state.js';
import { DiskCache } from '../src/store/disk-cache.js';
import { lineBodyFormatter, TEXT_PAYLOAD_COLUMN } from '../src/store/entry-format.js';
import { HourWriter } from '../src/store/hour-writer.js';
import { entryColumnsOf } from '../src/store/sweep-index.js';
import { ofContainer } from '../src/store/sweeps.js';

const { values } = parseArgs({
  options: {
    batches: { type: 'string', default: '250' },
    runs: { type: 'string', default: '3' },
    allocations: { type: 'boolean', default: false },
  },
});
const ROWS = 2_048;
const DAY = '2026-03-08';
const HOUR_START_MICROS = 1_772_964_000_000_000n;
const ref = { namespace: 'bench-big', pod: 'big-7d9f8c6b5-x2x4z', container: 'app' };

function repeated<T>(value: (row: number) => T): T[] {
  return Array.from({ length: ROWS }, (_, row) => value(row));
}

/** The schema message and one record batch message of the sweep's columns, the `batch`-th of the hour. */
function sweepBatch(batch: number): { schema: Uint8Array; message: Uint8Array } {
  const first = batch * ROWS;
  const micros = BigInt64Array.from(repeated((row) => HOUR_START_MICROS + BigInt((first + row) * 6)));
  const columns: Record<string, Vector> = {
    part: vectorFromArray(
      repeated(() => 1n),
      new Int64(),
    ),
    namespace: vectorFromArray(
      repeated(() => ref.namespace),
      new Utf8(),
    ),
    pod: vectorFromArray(
      repeated(() => ref.pod),
      new Utf8(),
    ),
    container: vectorFromArray(
      repeated(() => ref.container),
      new Utf8(),
    ),
    day: vectorFromArray(
      repeated(() => null),
      new Utf8(),
    ),
    hour: vectorFromArray(
      repeated(() => null),
      new Int64(),
    ),
    entries: vectorFromArray(
      repeated(() => null),
      new Int64(),
    ),
    timestamp: makeVector(makeData({ type: new TimestampMicrosecond('UTC'), length: ROWS, data: micros })),
    insertId: vectorFromArray(
      repeated((row) => `bench-${String(first + row).padStart(12, '0')}`),
      new Utf8(),
    ),
    stream: vectorFromArray(
      repeated((row) => (row % 7 === 0 ? 'stderr' : 'stdout')),
      new Utf8(),
    ),
    textPayload: vectorFromArray(
      repeated((row) => `${String(first + row).padStart(9, '0')} level=INFO msg="benchmark line" ${'p'.repeat(150)}`),
      new Utf8(),
    ),
    jsonPayload: vectorFromArray(
      repeated(() => null),
      new Utf8(),
    ),
  };
  const fields = Object.entries(columns).map(([name, vector]) => new Field(name, vector.type, true));
  const schema = new Schema(fields);
  const children = Object.values(columns).map((vector) => vector.data[0]!);
  const recordBatch = new RecordBatch(
    schema,
    makeData({ type: new Struct(fields), length: ROWS, nullCount: 0, children }),
  );
  const schemaOnly = new RecordBatchStreamWriter();
  schemaOnly.reset(undefined, schema);
  // A stream of messages ends with an 8-byte marker: what is before it is the schema message.
  const schemaLength = schemaOnly.toUint8Array(true).byteLength - 8;
  const stream = RecordBatchStreamWriter.writeAll([recordBatch]).toUint8Array(true);
  return { schema: stream.slice(0, schemaLength), message: stream.slice(schemaLength) };
}

const batches = Array.from({ length: Number(values.batches) }, (_, batch) => sweepBatch(batch));
const dir = await mkdtemp(join(tmpdir(), 'bqlogfs-write-path-'));
const cache = await DiskCache.open(dir, 'bench', 1e12);
const zone = new TimeZoneModel('UTC');
const lineOf = lineBodyFormatter({ timestamps: false, format: 'text' });
/** The sweep row's textPayload column, read as bytes as `Sweeps` asks for plain text lines. */
const TEXT_PAYLOAD = SWEEP_INDEX_COLUMNS.length + TEXT_PAYLOAD_COLUMN;

async function fetchHour(): Promise<void> {
  const state = emptyDayState(Date.now());
  const request = { knownThroughMs: 0, firstHour: 10, sealAfterMs: 0, nowMs: Date.now(), refresh: false };
  const plan = planDayFetch(zone, DAY, request);
  const writer = new HourWriter(cache, zone, lineOf, { ref, day: DAY, state, plan });
  const buffer = new BatchBuffer();
  for (const { schema, message } of batches) {
    for (const slice of rowSlicesOfBatch(buffer.join(schema, message), 256, TEXT_PAYLOAD)) {
      await writer.writePage(slice.map((row) => entryColumnsOf(ofContainer(row, ref))));
    }
  }
  await writer.finish();
}

await fetchHour();
const session = new Session();
session.connect();
const rows = batches.length * ROWS;
for (let run = 0; run < Number(values.runs); run++) {
  if (values.allocations) {
    const sampling = { samplingInterval: 4096, includeObjectsCollectedByMajorGC: true };
    await session.post('HeapProfiler.startSampling', { ...sampling, includeObjectsCollectedByMinorGC: true });
  }
  const cpu = process.cpuUsage();
  await fetchHour();
  const { user, system } = process.cpuUsage(cpu);
  process.stdout.write(`${rows} rows: ${((user + system) / 1000).toFixed(0)} ms of CPU\n`);
  if (!values.allocations) continue;
  const { profile } = await session.post('HeapProfiler.stopSampling');
  const bySite = new Map<string, number>();
  const visit = (node: typeof profile.head): void => {
    const { functionName, url, lineNumber } = node.callFrame;
    const site = `${functionName || '(anonymous)'} ${url.split('/').slice(-2).join('/')}:${lineNumber + 1}`;
    bySite.set(site, (bySite.get(site) ?? 0) + node.selfSize);
    node.children.forEach(visit);
  };
  visit(profile.head);
  const total = [...bySite.values()].reduce((sum, bytes) => sum + bytes, 0);
  process.stdout.write(`  allocated on the JS heap: ${(total / 2 ** 20).toFixed(0)} MiB\n`);
  for (const [site, bytes] of [...bySite].sort((a, b) => b[1] - a[1]).slice(0, 8)) {
    process.stdout.write(`    ${(bytes / 2 ** 20).toFixed(0).padStart(5)} MiB ${site}\n`);
  }
}
session.disconnect();
await cache.close();
await rm(dir, { recursive: true, force: true });
