// The emulator's BigQuery Storage Read API, driven through the official clients: rows are written
// and queried with @google-cloud/bigquery, read back as Arrow with BigQueryReadClient from
// @google-cloud/bigquery-storage, and compared row by row with the REST getQueryResults rows of the
// same job.
import type { BigQuery } from '@google-cloud/bigquery';
import { BigQueryReadClient } from '@google-cloud/bigquery-storage';
import { status } from '@grpc/grpc-js';
import t, { type Test } from 'tap';
import { emulatorClient } from '../src/emulator/client.js';
import { startEmulator, type Emulator } from '../src/emulator/server.js';
import { emulatorReadClientOptions } from '../src/emulator/storage/client-options.js';
import { serverStats } from './support/stats.js';
import { readStream, restQueryRows, restTableRows, type RestRow } from './support/storage-read.js';

const PROJECT = 'storage-project';
const DATASET = 'logs';
/** More rows than one stream takes by default, so an unordered result is split. */
const LOG_ROWS = 25_000;

const LOG_SCHEMA = [
  { name: 'timestamp', type: 'TIMESTAMP' },
  { name: 'insertId', type: 'STRING' },
  { name: 'stream', type: 'STRING' },
  { name: 'textPayload', type: 'STRING' },
  { name: 'jsonPayload', type: 'STRING' },
  { name: 'severity', type: 'STRING' },
  { name: 'labels', type: 'STRING' },
  { name: 'n', type: 'INT64' },
];
const LOG_COLUMNS = LOG_SCHEMA.map((field) => field.name);

const EPOCH_2024_MICROS = 1_704_067_200_000_000n;

/** ISO 8601 with six fraction digits, for a non-negative microsecond timestamp. */
function isoMicros(micros: bigint): string {
  const millis = new Date(Number(micros / 1000n)).toISOString();
  return `${millis.slice(0, 23)}${String(micros % 1000n).padStart(3, '0')}Z`;
}

type LogRow = Record<string, string | number | null>;

/** Rows at the edges: NULLs, empty strings, UTF-8, the 12/13-byte inline boundary, large strings. */
function edgeRows(): LogRow[] {
  const big = 'x'.repeat(300_000);
  const huge = 'é'.repeat(2_600_000); // 5.2 MB: a batch of its own
  return [
    {
      timestamp: null,
      insertId: null,
      stream: null,
      textPayload: null,
      jsonPayload: null,
      severity: null,
      labels: null,
      n: 0,
    },
    {
      timestamp: '1969-12-31T23:59:59.999999Z',
      insertId: '',
      stream: '',
      textPayload: '',
      jsonPayload: '',
      severity: '',
      labels: '',
      n: 1,
    },
    {
      timestamp: '1900-01-01T00:00:00.000001Z',
      insertId: 'abcdefghijkl',
      textPayload: 'abcdefghijklm',
      severity: 'INFO',
      n: 2,
    },
    {
      timestamp: '2024-02-29T23:59:59.000001Z',
      insertId: 'ééééé日',
      textPayload: 'héllo wörld ✓ 日本語 🎉',
      labels: '{"k":"v"}',
      n: 3,
    },
    { timestamp: '2024-06-01T12:00:00.5Z', textPayload: big, jsonPayload: big.toUpperCase(), n: 4 },
    { timestamp: '2024-06-01T12:00:01.123456Z', textPayload: huge, n: 5 },
  ];
}

function generatedRow(n: number): LogRow {
  return {
    timestamp: isoMicros(EPOCH_2024_MICROS + BigInt(n) * 1_234_567n),
    insertId: `id-${n.toString(36)}-${(n * 7919) % 104_729}`,
    stream: n % 5 === 0 ? 'stderr' : 'stdout',
    textPayload: `${n} ${'line of application output '.repeat(1 + (n % 12))}`.slice(0, 40 + (n % 200)),
    jsonPayload: n % 3 === 0 ? null : JSON.stringify({ msg: `request ${n}`, latencyMs: n % 977 }),
    severity: ['INFO', 'WARNING', 'ERROR', 'DEBUG'][n % 4]!,
    labels: JSON.stringify({ app: 'web', pod: `web-${n % 17}` }),
    n,
  };
}

async function loadRows(bq: BigQuery, table: string, rows: LogRow[]): Promise<void> {
  for (let i = 0; i < rows.length; i += 2_000) {
    const batch = rows
      .slice(i, i + 2_000)
      .map((row) => Object.fromEntries(Object.entries(row).filter(([, v]) => v !== undefined)));
    await bq.dataset(DATASET).table(table).insert(batch);
  }
}

let emulator: Emulator;
let bq: BigQuery;
let reader: BigQueryReadClient;

interface QueryRun {
  jobId: string;
  table: string;
  rest: RestRow[];
}

/** Runs a query job; its rows as getQueryResults has them, unless `rest` is false. */
async function runQuery(query: string, rest = true): Promise<QueryRun> {
  // The server runs in this process: after a long synchronous decode, give its overdue keep-alive
  // timers a moment to close idle sockets before the client picks one for the next request.
  await new Promise((resolve) => setTimeout(resolve, 20));
  const [job] = await bq.createQueryJob({ query, location: 'US' });
  const [metadata] = await job.getMetadata();
  const destination = metadata.configuration.query.destinationTable as {
    projectId: string;
    datasetId: string;
    tableId: string;
  };
  return {
    jobId: job.id!,
    table: `projects/${destination.projectId}/datasets/${destination.datasetId}/tables/${destination.tableId}`,
    rest: rest ? await restQueryRows(emulator.url, PROJECT, job.id!) : [],
  };
}

async function createSession(
  table: string,
  options: { maxStreamCount?: number; selectedFields?: string[]; rowRestriction?: string } = {},
) {
  const { selectedFields, rowRestriction } = options;
  const [session] = await reader.createReadSession({
    parent: `projects/${PROJECT}`,
    readSession: {
      table,
      dataFormat: 'ARROW',
      ...((selectedFields || rowRestriction !== undefined) && {
        readOptions: {
          ...(selectedFields && { selectedFields }),
          ...(rowRestriction !== undefined && { rowRestriction }),
        },
      }),
    },
    maxStreamCount: options.maxStreamCount ?? 0,
  });
  return {
    session,
    schema: session.arrowSchema!.serializedSchema as Uint8Array,
    streams: session.streams!.map((s) => s.name!),
  };
}

async function readAll(table: string, maxStreamCount = 0): Promise<{ rows: RestRow[]; streams: number }> {
  const { schema, streams } = await createSession(table, { maxStreamCount });
  const rows: RestRow[] = [];
  for (const stream of streams) {
    const read = await readStream(reader, schema, stream);
    if (read.error) throw read.error;
    rows.push(...read.rows);
  }
  return { rows, streams: streams.length };
}

/** t.same for many rows, without the cost of tap's diffing unless a row differs. */
function sameRows(t: Test, actual: RestRow[], expected: RestRow[], message = 'same rows'): void {
  if (actual.length === expected.length && JSON.stringify(actual) === JSON.stringify(expected)) {
    t.pass(message);
    return;
  }
  const first = actual.findIndex((row, i) => JSON.stringify(row) !== JSON.stringify(expected[i]));
  t.same(
    { length: actual.length, first, row: actual[first] },
    { length: expected.length, first, row: expected[first] },
    message,
  );
}

const stats = () => serverStats(emulator.url);

const ALL_COLUMNS = `SELECT ${LOG_COLUMNS.map((c) => `\`${c}\``).join(', ')} FROM ${DATASET}.entries`;

t.before(async () => {
  emulator = await startEmulator({ port: 0 });
  bq = emulatorClient(emulator.url, PROJECT);
  reader = new BigQueryReadClient(emulatorReadClientOptions(emulator.storageAddress));
  await bq.createDataset(DATASET, { location: 'US' });
  await bq.dataset(DATASET).createTable('entries', { schema: LOG_SCHEMA });
  await loadRows(bq, 'entries', [...edgeRows(), ...Array.from({ length: LOG_ROWS }, (_, i) => generatedRow(i + 10))]);
});

t.teardown(async () => {
  await reader.close();
  await emulator.close();
});

t.test('a finished query job names its anonymous destination table', async (t) => {
  const [job] = await bq.createQueryJob({ query: `SELECT n FROM ${DATASET}.entries WHERE n < 3` });
  const [metadata] = await job.getMetadata();
  const destination = metadata.configuration.query.destinationTable;
  t.equal(destination.projectId, PROJECT);
  t.match(destination.datasetId, /^_[0-9a-f]{40}$/);
  t.match(destination.tableId, /^anon[0-9a-f]{40}$/);
  const [dryRun] = await bq.createQueryJob({ query: `SELECT n FROM ${DATASET}.entries`, dryRun: true });
  t.notOk(dryRun.metadata.configuration.query.destinationTable, 'a dry run has no destination');
});

t.test(
  'one stream: every row equals the REST row, NULLs, UTF-8, large strings and µs timestamps included',
  async (t) => {
    const run = await runQuery(ALL_COLUMNS);
    t.equal(run.rest.length, LOG_ROWS + 6);
    const { session, schema, streams } = await createSession(run.table, { maxStreamCount: 1 });
    t.equal(streams.length, 1);
    t.match(session.name, new RegExp(`^projects/${PROJECT}/locations/us/sessions/[^/]+$`));
    t.equal(streams[0], `${session.name}/streams/0`);
    t.equal(Number(session.estimatedRowCount), run.rest.length);
    t.equal(session.dataFormat, 'ARROW');
    const read = await readStream(reader, schema, streams[0]!);
    t.error(read.error);
    t.equal(read.rows.length, run.rest.length);
    sameRows(t, read.rows, run.rest, 'identical to getQueryResults');
    t.ok(read.firstHasSchema, 'the first response carries the schema');
    t.equal(
      read.batchRows.reduce((a, b) => a + b, 0),
      run.rest.length,
      'row_count adds up',
    );
    t.ok(read.batchRows.length > 1, 'streamed in several batches');
    t.equal(read.progress.at(-1)!.atResponseEnd, 1);
    t.ok(read.progress.every((p, i) => i === 0 || p.atResponseStart === read.progress[i - 1]!.atResponseEnd));
  },
);

t.test('Arrow types are those of BigQuery', async (t) => {
  const run = await runQuery(`${ALL_COLUMNS} WHERE n = 3`);
  const { schema, streams } = await createSession(run.table);
  const [first] = (await readStream(reader, schema, streams[0]!)).rows;
  t.ok(first);
  const { RecordBatchReader } = await import('apache-arrow');
  const fields = RecordBatchReader.from(schema)
    .open()
    .schema.fields.map((f) => `${f.name}:${String(f.type)}`);
  t.same(fields, [
    'timestamp:Timestamp<MICROSECOND, UTC>',
    'insertId:Utf8',
    'stream:Utf8',
    'textPayload:Utf8',
    'jsonPayload:Utf8',
    'severity:Utf8',
    'labels:Utf8',
    'n:Int64',
  ]);
});

t.test('an unordered result is split into contiguous streams; ORDER BY gets exactly one', async (t) => {
  const unordered = await runQuery(ALL_COLUMNS);
  const split = await readAll(unordered.table);
  t.equal(split.streams, 3, 'one stream per 10 000 rows, at most 4 by default');
  sameRows(t, split.rows, unordered.rest);
  t.equal((await readAll(unordered.table, 2)).streams, 2, 'max_stream_count caps the streams');

  const ordered = await runQuery(`${ALL_COLUMNS} ORDER BY severity, n DESC`);
  const single = await readAll(ordered.table, 10);
  t.equal(single.streams, 1, 'a query with ORDER BY is read through one stream');
  sameRows(t, single.rows, ordered.rest, 'in ORDER BY order');
  const windowed = await runQuery(`SELECT n, ROW_NUMBER() OVER (ORDER BY n DESC) AS r FROM ${DATASET}.entries`);
  t.equal((await readAll(windowed.table)).streams, 3, 'an ORDER BY inside a window does not order the result');
});

t.test('a result keeps its ORDER BY order, also when a column is named rowid', async (t) => {
  const ns = [0, 1, 2, 3, 4, 5, ...Array.from({ length: LOG_ROWS }, (_, i) => i + 10)];
  const key = (n: number) => (n * 7919) % 104_729;
  const expected = [...ns].sort((a, b) => key(b) - key(a) || a - b);
  const values = (rows: RestRow[], column: number) => rows.map((row) => Number(row.f[column]!.v));
  // DuckDB names a table's row numbers `rowid`; a result column of that name must not be taken for them.
  for (const alias of ['twice', 'rowid', 'RowID']) {
    const run = await runQuery(
      `SELECT n, n * 2 AS ${alias} FROM ${DATASET}.entries ORDER BY MOD(n * 7919, 104729) DESC, n`,
    );
    t.same(values(run.rest, 0), expected, `${alias}: REST pages in ORDER BY order`);
    t.same(
      values(run.rest, 1),
      expected.map((n) => n * 2),
      `${alias}: the column's own values`,
    );
    const read = await readAll(run.table, 1);
    t.same(values(read.rows, 0), expected, `${alias}: the Storage Read API in ORDER BY order`);
    t.same(
      values(read.rows, 1),
      expected.map((n) => n * 2),
      `${alias}: the column's own values, read as Arrow`,
    );
  }
});

t.test('selected_fields serves those columns, in table order', async (t) => {
  const run = await runQuery(ALL_COLUMNS);
  const { schema, streams } = await createSession(run.table, { maxStreamCount: 1, selectedFields: ['N', 'timestamp'] });
  const read = await readStream(reader, schema, streams[0]!);
  sameRows(
    t,
    read.rows,
    run.rest.map((row) => ({ f: [row.f[0]!, row.f[7]!] })),
  );
  await t.rejects(createSession(run.table, { selectedFields: ['nope'] }), { code: status.INVALID_ARGUMENT });
});

t.test('row_restriction: TRUE keeps every row, FALSE none, anything else is refused', async (t) => {
  const run = await runQuery(ALL_COLUMNS);
  const kept = await createSession(run.table, { maxStreamCount: 1, rowRestriction: 'true' });
  const read = await readStream(reader, kept.schema, kept.streams[0]!);
  t.equal(read.rows.length, run.rest.length, 'TRUE: every row');
  const before = await serverStats(emulator.url);
  const none = await createSession(run.table, { selectedFields: ['timestamp'], rowRestriction: ' (FALSE) ' });
  t.same(none.streams, [], 'FALSE: no stream, as no row is left');
  t.equal(String(none.session.estimatedRowCount), '0');
  const after = await serverStats(emulator.url);
  t.equal(after.storageReadSessions - before.storageReadSessions, 1, 'the session was created');
  t.equal(after.storageRowsRead, before.storageRowsRead, 'no row read');
  await t.rejects(createSession(run.table, { rowRestriction: 'n > 5' }), { code: status.INVALID_ARGUMENT });
});

t.test('other column types: BOOL, FLOAT64, BYTES, DATE, NUMERIC, STRUCT, REPEATED', async (t) => {
  await bq.dataset(DATASET).createTable('typed', {
    schema: [
      { name: 'b', type: 'BOOL' },
      { name: 'f', type: 'FLOAT64' },
      { name: 'by', type: 'BYTES' },
      { name: 'd', type: 'DATE' },
      { name: 'num', type: 'NUMERIC' },
      {
        name: 'rec',
        type: 'RECORD',
        fields: [
          { name: 'ts', type: 'TIMESTAMP' },
          { name: 's', type: 'STRING' },
          { name: 'i', type: 'INT64' },
        ],
      },
      { name: 'tags', type: 'STRING', mode: 'REPEATED' },
      { name: 'k', type: 'INT64' },
    ],
  });
  const rows = Array.from({ length: 40 }, (_, k) => ({
    b: k % 3 === 0 ? null : k % 2 === 0,
    f: k % 4 === 0 ? null : k / 7,
    by: k % 5 === 0 ? null : Buffer.from([k, 255 - k, 0, 10]).toString('base64'),
    d: k % 6 === 0 ? null : `20${String(10 + (k % 20)).padStart(2, '0')}-0${1 + (k % 9)}-1${k % 10}`,
    num: k % 7 === 0 ? null : `${k - 20}.${String(k * 37).padStart(3, '0')}`,
    rec:
      k % 8 === 0
        ? null
        : {
            ts: isoMicros(EPOCH_2024_MICROS + BigInt(k) * 1_000_001n),
            s: k % 3 ? `s${k}` : null,
            i: k * 1_000_000_007,
          },
    tags: k % 9 === 0 ? [] : Array.from({ length: k % 4 }, (_, j) => `t${k}-${j}`),
    k,
  }));
  await bq.dataset(DATASET).table('typed').insert(rows);
  const run = await runQuery(`SELECT * FROM ${DATASET}.typed ORDER BY k`);
  t.equal(run.rest.length, 40);
  const read = await readAll(run.table);
  sameRows(t, read.rows, run.rest);
});

t.test('a stored table is read directly, with the rows tabledata.list has', async (t) => {
  const before = await stats();
  const read = await readAll(`projects/${PROJECT}/datasets/${DATASET}/tables/entries`);
  sameRows(t, read.rows, await restTableRows(emulator.url, PROJECT, DATASET, 'entries'));
  const after = await stats();
  t.equal(after.queries, before.queries, 'no query ran');
  await t.rejects(createSession(`projects/${PROJECT}/datasets/${DATASET}/tables/missing`), { code: status.NOT_FOUND });
  await t.rejects(createSession('datasets/x'), { code: status.INVALID_ARGUMENT });
});

t.test('an empty result has a schema and no streams', async (t) => {
  const run = await runQuery(`${ALL_COLUMNS} WHERE n < 0`);
  const { session, streams } = await createSession(run.table);
  t.equal(streams.length, 0);
  t.equal(Number(session.estimatedRowCount), 0);
  t.ok((session.arrowSchema?.serializedSchema?.length ?? 0) > 0);
});

t.test('offset resumes a stream where it left off', async (t) => {
  const run = await runQuery(ALL_COLUMNS);
  const { schema, streams } = await createSession(run.table, { maxStreamCount: 1 });
  for (const offset of [1, 2_047, 2_048, 10_000, run.rest.length]) {
    const read = await readStream(reader, schema, streams[0]!, offset);
    t.error(read.error);
    sameRows(t, read.rows, run.rest.slice(offset), `from ${offset}`);
  }
  const beyond = await readStream(reader, schema, streams[0]!, run.rest.length + 1);
  t.equal(beyond.error?.code, status.OUT_OF_RANGE);
  const unknown = await readStream(reader, schema, `${streams[0]!}0`);
  t.equal(unknown.error?.code, status.NOT_FOUND);
});

t.test('SplitReadStream divides a stream into two back-to-back streams', async (t) => {
  const run = await runQuery(ALL_COLUMNS);
  const { schema, streams } = await createSession(run.table, { maxStreamCount: 1 });
  const [split] = await reader.splitReadStream({ name: streams[0]!, fraction: 0.25 });
  const primary = await readStream(reader, schema, split.primaryStream!.name!);
  const remainder = await readStream(reader, schema, split.remainderStream!.name!);
  t.equal(primary.rows.length, Math.round(run.rest.length * 0.25));
  sameRows(t, [...primary.rows, ...remainder.rows], run.rest);
});

t.test('reading a result is not a query: nothing billed, bytes counted apart', async (t) => {
  const run = await runQuery(ALL_COLUMNS);
  const before = await stats();
  await readAll(run.table);
  const after = await stats();
  t.equal(after.queries, before.queries);
  t.equal(after.bytesProcessed, before.bytesProcessed);
  t.equal(after.bytesBilled, before.bytesBilled);
  t.equal(after.storageReadSessions, before.storageReadSessions + 1);
  t.equal(after.storageRowsRead, before.storageRowsRead + run.rest.length);
  t.ok(after.storageBytesRead - before.storageBytesRead > 5_000_000);
});

t.test('a client that stops reading holds the server back', async (t) => {
  // A million rows in some 500 batches: far more than the client, gRPC and the sockets buffer.
  const run = await runQuery(
    `SELECT a.n, b.n AS m FROM ${DATASET}.entries a CROSS JOIN (SELECT n FROM ${DATASET}.entries WHERE n < 44) b`,
    false,
  );
  const { session, streams } = await createSession(run.table, { maxStreamCount: 1 });
  const total = Number(session.estimatedRowCount);
  t.equal(total, (LOG_ROWS + 6) * 40);
  const before = await stats();
  const stream = reader.readRows({ readStream: streams[0]!, offset: 0 });
  await new Promise<void>((resolve) => stream.once('data', () => resolve()));
  stream.pause();
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  const sent = (await stats()).storageRowsRead - before.storageRowsRead;
  t.ok(sent < total / 2, `only ${sent} of ${total} rows left the server`);
  stream.destroy();
});

t.test('faults: stream reset, early end, RESOURCE_EXHAUSTED, hang, latency', async (t) => {
  const run = await runQuery(ALL_COLUMNS);
  const { schema, streams } = await createSession(run.table, { maxStreamCount: 1 });
  t.teardown(() => emulator.faults.clear());

  emulator.faults.set({ rules: [{ endpoint: 'storage.readRows', kind: 'streamReset', afterBatches: 2, count: 1 }] });
  const reset = await readStream(reader, schema, streams[0]!);
  t.equal(reset.error?.code, status.UNAVAILABLE, 'the stream fails with UNAVAILABLE');
  t.equal(reset.batchRows.length, 2, 'after two batches');
  const resumed = await readStream(reader, schema, streams[0]!, reset.rows.length);
  t.error(resumed.error);
  sameRows(t, [...reset.rows, ...resumed.rows], run.rest, 'resuming at the offset completes the rows');

  emulator.faults.set({ rules: [{ endpoint: 'storage.readRows', kind: 'streamEnd', afterBatches: 3 }] });
  const ended = await readStream(reader, schema, streams[0]!);
  t.error(ended.error, 'the stream ends with OK');
  t.equal(ended.batchRows.length, 3);
  t.ok(ended.rows.length < run.rest.length, 'before all its rows');
  t.ok(ended.progress.at(-1)!.atResponseEnd < 1, 'as its progress shows');
  sameRows(t, ended.rows, run.rest.slice(0, ended.rows.length));

  emulator.faults.set({ rules: [{ endpoint: 'storage.createReadSession', kind: 'error', status: 429, count: 1 }] });
  await t.rejects(createSession(run.table), { code: status.RESOURCE_EXHAUSTED });
  t.equal((await createSession(run.table)).streams.length, 3, 'the next call goes through');
  t.same(emulator.faults.stats().byKind, { error: 1 });

  emulator.faults.set({ rules: [{ endpoint: 'storage.readRows', kind: 'hang', count: 1 }] });
  const hungAt = Date.now();
  const hung = reader.readRows({ readStream: streams[0]!, offset: 0 }, { timeout: 300 });
  // The client gives up at its deadline; BigQueryReadClient then calls again by itself, and gets rows.
  await new Promise((resolve) => hung.once('data', resolve).once('error', resolve));
  hung.destroy();
  t.ok(Date.now() - hungAt >= 300, 'nothing arrives before the deadline');
  t.same(emulator.faults.stats().byKind, { hang: 1 });

  emulator.faults.set({ latencyMs: 150, rules: [] });
  let started = Date.now();
  await createSession(run.table);
  t.ok(Date.now() - started >= 150, 'CreateReadSession is delayed');
  started = Date.now();
  await readStream(reader, schema, streams[0]!, run.rest.length - 5);
  t.ok(Date.now() - started >= 150, 'opening a ReadRows stream is delayed');
  started = Date.now();
  await restQueryRows(emulator.url, PROJECT, run.jobId);
  t.ok(Date.now() - started >= 150 * 3, 'each REST page is delayed');
  t.equal(emulator.faults.stats().injected, 0, 'latencyMs is not counted as a fault');
});

t.test('expired results are NOT_FOUND', async (t) => {
  const run = await runQuery(`${ALL_COLUMNS} WHERE n < 100`);
  const { schema, streams } = await createSession(run.table);
  await fetch(`${emulator.url}/bigquery/v2/projects/${PROJECT}/jobs/${run.jobId}/delete`, { method: 'DELETE' });
  await t.rejects(createSession(run.table), { code: status.NOT_FOUND });
  const read = await readStream(reader, schema, streams[0]!);
  t.equal(read.error?.code, status.NOT_FOUND);
});
