// Tests of the local BigQuery emulator, driven only through the real
// @google-cloud/bigquery client (plus raw fetch for the error body shape and
// the /emulator/stats endpoint). Expected values are computed from the rows
// the tests insert, never copied from emulator output.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BigQuery, type Table } from '@google-cloud/bigquery';
import t from 'tap';
import { createBigQueryClient } from '../src/bigquery/client.js';
import { emulatorClient } from '../src/emulator/client.js';
import { startEmulator, type Emulator } from '../src/emulator/server.js';
import { matchBrackets, tokenize } from '../src/emulator/sql/tokenizer.js';
import { translate } from '../src/emulator/sql/translate.js';

const PROJECT = 'test-project';
const MIB = 1_048_576;

/**
 * Client configured the BIGQUERY_EMULATOR_HOST way: the variable is read in
 * the constructor (base URL = its value exactly, no /bigquery/v2), so it can
 * be unset again right away. `auth: 'none'` keeps google-auth-library from
 * looking for credentials or a metadata server.
 */
function envStyleClient(url: string): BigQuery {
  const previous = process.env.BIGQUERY_EMULATOR_HOST;
  process.env.BIGQUERY_EMULATOR_HOST = url;
  try {
    return createBigQueryClient({ projectId: PROJECT, auth: 'none' });
  } finally {
    if (previous === undefined) delete process.env.BIGQUERY_EMULATOR_HOST;
    else process.env.BIGQUERY_EMULATOR_HOST = previous;
  }
}

/** Epoch microseconds of a UTC date-time plus a fraction, computed independently of the emulator. */
function micros(y: number, mo: number, d: number, h: number, mi: number, s: number, fraction = 0): bigint {
  return BigInt(Date.UTC(y, mo - 1, d, h, mi, s)) * 1000n + BigInt(fraction);
}

function utf8(s: string): number {
  return Buffer.byteLength(s, 'utf8');
}

/** BigQuery's stored size of a STRING value. */
function stringBytes(s: string | null | undefined): number {
  return s === null || s === undefined ? 0 : 2 + utf8(s);
}

function billed(perTable: number[]): number {
  const total = perTable.filter((b) => b > 0).reduce((sum, b) => sum + Math.max(b, 10 * MIB), 0);
  return Math.ceil(total / MIB) * MIB;
}

interface Stats {
  queries: number;
  bytesProcessed: number;
  bytesBilled: number;
}

async function stats(emu: Emulator): Promise<Stats> {
  return (await (await fetch(`${emu.url}/emulator/stats`)).json()) as Stats;
}

type RawRow = { f: Array<{ v: unknown }> };

const LOG_SCHEMA = [
  { name: 'timestamp', type: 'TIMESTAMP' },
  { name: 'insertId', type: 'STRING' },
  { name: 'textPayload', type: 'STRING' },
  {
    name: 'jsonPayload',
    type: 'RECORD',
    fields: [
      { name: 'msg', type: 'STRING' },
      { name: 'level', type: 'INTEGER' },
    ],
  },
  {
    name: 'resource',
    type: 'RECORD',
    fields: [
      { name: 'type', type: 'STRING' },
      {
        name: 'labels',
        type: 'RECORD',
        fields: [
          { name: 'namespace_name', type: 'STRING' },
          { name: 'pod_name', type: 'STRING' },
          { name: 'container_name', type: 'STRING' },
        ],
      },
    ],
  },
  { name: 'tags', type: 'STRING', mode: 'REPEATED' },
];

interface LogRow {
  timestamp: string;
  insertId: string;
  textPayload?: string | null;
  jsonPayload?: { msg: string; level: number } | null;
  resource: { type: string; labels: { namespace_name: string; pod_name: string; container_name: string } };
  tags?: string[];
}

function logRow(
  timestamp: string,
  insertId: string,
  pod: string,
  text: string | null,
  json?: { msg: string; level: number },
): LogRow {
  return {
    timestamp,
    insertId,
    textPayload: text,
    jsonPayload: json ?? null,
    resource: { type: 'k8s_container', labels: { namespace_name: 'default', pod_name: pod, container_name: 'app' } },
    tags: ['a', 'bc'],
  };
}

let emu: Emulator;
let bq: BigQuery;

t.before(async () => {
  emu = await startEmulator({ port: 0 });
  bq = emulatorClient(emu.url, PROJECT);
});
t.teardown(async () => {
  await emu.close();
});

t.test('datasets: create, get, list, delete (apiEndpoint style)', async (t) => {
  const [ds] = await bq.createDataset('ds_crud', { location: 'US' });
  t.equal(ds.id, 'ds_crud');
  const [meta] = await ds.getMetadata();
  t.same(meta.datasetReference, { projectId: PROJECT, datasetId: 'ds_crud' });
  const [exists] = await bq.dataset('ds_crud').exists();
  t.equal(exists, true);
  const [datasets] = await bq.getDatasets();
  t.ok(datasets.some((d) => d.id === 'ds_crud'));
  await ds.createTable('x', { schema: [{ name: 'a', type: 'STRING' }] });
  await t.rejects(ds.delete(), { code: 400 }, 'non-empty dataset needs deleteContents');
  await ds.delete({ force: true });
  const [after] = await bq.dataset('ds_crud').exists();
  t.equal(after, false);
});

t.test('tables: create with partitioning and nested schema, get, list with pagination, delete', async (t) => {
  const [ds] = await bq.createDataset('ds_tables');
  const [table] = await ds.createTable('logs', {
    schema: LOG_SCHEMA,
    timePartitioning: { type: 'DAY', field: 'timestamp' },
  });
  const [meta] = await table.getMetadata();
  t.same(meta.timePartitioning, { type: 'DAY', field: 'timestamp' });
  t.equal(meta.type, 'TABLE');
  t.same(meta.tableReference, { projectId: PROJECT, datasetId: 'ds_tables', tableId: 'logs' });
  t.equal(meta.numRows, '0');
  const resource = meta.schema.fields.find((f: { name: string }) => f.name === 'resource');
  t.equal(resource.type, 'RECORD');
  t.equal(resource.fields[1].fields[1].name, 'pod_name');
  t.equal(meta.schema.fields.find((f: { name: string }) => f.name === 'tags').mode, 'REPEATED');
  t.ok(Number(meta.creationTime) > 0);

  const [ingestion] = await ds.createTable('ingested', {
    schema: [{ name: 'a', type: 'STRING' }],
    timePartitioning: { type: 'DAY' },
  });
  t.same((await ingestion.getMetadata())[0].timePartitioning, { type: 'DAY' });

  for (let i = 0; i < 5; i++) await ds.createTable(`page_${i}`, { schema: [{ name: 'a', type: 'INT64' }] });
  const seen: string[] = [];
  let query: Record<string, unknown> | null = { maxResults: 3, autoPaginate: false };
  let pages = 0;
  while (query) {
    const [tables, next]: [Table[], Record<string, unknown> | null] = (await ds.getTables(query)) as unknown as [
      Table[],
      Record<string, unknown> | null,
    ];
    seen.push(...tables.map((x) => x.id!));
    query = next;
    pages++;
  }
  t.equal(pages, 3);
  t.same(seen, ['ingested', 'logs', 'page_0', 'page_1', 'page_2', 'page_3', 'page_4']);

  await ds.table('page_0').delete();
  const [gone] = await ds.table('page_0').exists();
  t.equal(gone, false);
});

t.test('BIGQUERY_EMULATOR_HOST style client', async (t) => {
  const envBq = envStyleClient(emu.url);
  const [ds] = await envBq.createDataset('ds_env');
  const [table] = await ds.createTable('t', { schema: [{ name: 'n', type: 'INT64' }] });
  await table.insert([{ n: 1 }, { n: 2 }]);
  const [rows] = await envBq.query({ query: 'SELECT SUM(n) AS total FROM `ds_env.t`' });
  t.same(rows, [{ total: 3 }]);
});

t.test('insertAll: microsecond timestamps, nested records and repeated fields read back exactly', async (t) => {
  const [ds] = await bq.createDataset('ds_insert');
  const [table] = await ds.createTable('logs', {
    schema: LOG_SCHEMA,
    timePartitioning: { type: 'DAY', field: 'timestamp' },
  });
  const inputs: Array<{ ts: string | number; expected: bigint }> = [
    { ts: '2026-11-26T10:00:00.123456Z', expected: micros(2026, 11, 26, 10, 0, 0, 123456) },
    { ts: '2026-11-26 10:00:00.000001 UTC', expected: micros(2026, 11, 26, 10, 0, 0, 1) },
    { ts: '2026-11-26T12:30:00.5+02:00', expected: micros(2026, 11, 26, 10, 30, 0, 500000) },
    { ts: 1795687200.654321, expected: 1795687200654321n },
    { ts: '2026-11-26 10:00:00', expected: micros(2026, 11, 26, 10, 0, 0) },
  ];
  const rows = inputs.map((x, i) => ({
    ...logRow('', `id${i}`, `pod${i}`, `text ${i}`, { msg: `m${i}`, level: i }),
    timestamp: x.ts,
  }));
  await table.insert(rows);
  // duplicate delivery with the same insertId is kept as a separate row
  await table.insert([{ insertId: 'dup', json: rows[0] }], { raw: true });
  await table.insert([{ insertId: 'dup', json: rows[0] }], { raw: true });

  const [result] = (await bq.query({
    query: 'SELECT timestamp, insertId, jsonPayload, resource, tags FROM `ds_insert.logs` ORDER BY insertId, timestamp',
    skipParsing: true,
  })) as unknown as [RawRow[]];
  t.equal(result.length, inputs.length + 2);
  const byId = new Map<string, RawRow[]>();
  for (const r of result) byId.set(String(r.f[1]!.v), [...(byId.get(String(r.f[1]!.v)) ?? []), r]);
  inputs.forEach((x, i) => {
    const [row] = byId.get(`id${i}`)!;
    t.equal(row!.f[0]!.v, x.expected.toString(), `timestamp ${String(x.ts)}`);
    t.same(row!.f[2]!.v, { f: [{ v: `m${i}` }, { v: String(i) }] });
    t.same(row!.f[3]!.v, {
      f: [{ v: 'k8s_container' }, { v: { f: [{ v: 'default' }, { v: `pod${i}` }, { v: 'app' }] } }],
    });
    t.same(row!.f[4]!.v, [{ v: 'a' }, { v: 'bc' }]);
  });
  t.equal(byId.get('id0')!.length, 3, 'insertId duplicates are stored as separate rows');

  const [iso] = (await bq.query(
    { query: 'SELECT timestamp FROM `ds_insert.logs` WHERE insertId = "id0" LIMIT 1', skipParsing: true },
    { 'formatOptions.timestampOutputFormat': 'ISO8601_STRING', 'formatOptions.useInt64Timestamp': false } as never,
  )) as unknown as [RawRow[]];
  t.equal(iso[0]!.f[0]!.v, '2026-11-26T10:00:00.123456Z');

  const [parsed] = await bq.query({ query: 'SELECT timestamp FROM `ds_insert.logs` WHERE insertId = "id1"' });
  t.match((parsed[0].timestamp as { value: string }).value, /^2026-11-26T10:00:00\.000001/);

  const [listed] = (await table.getRows({ skipParsing: true } as never)) as unknown as [RawRow[]];
  t.equal(listed.length, inputs.length + 2, 'tabledata.list returns every row');

  const [meta] = await table.getMetadata();
  t.equal(meta.numRows, String(inputs.length + 2));
});

t.test('insertAll: invalid rows produce insertErrors in the real shape', async (t) => {
  const [ds] = await bq.createDataset('ds_invalid');
  const [table] = await ds.createTable('t', {
    schema: [
      { name: 'n', type: 'INT64', mode: 'REQUIRED' },
      { name: 's', type: 'STRING' },
    ],
  });
  const err = await table.insert([{ n: 1 }, { n: 'x' }, { s: 'no n' }, { n: 2, nope: true }]).then(
    () => undefined,
    (e: { name: string; errors: Array<{ errors: Array<{ reason: string; message: string }>; row: unknown }> }) => e,
  );
  t.equal(err?.name, 'PartialFailureError');
  t.same(
    err?.errors.map((e) => e.errors[0]!.reason),
    ['stopped', 'invalid', 'invalid', 'invalid'],
  );
  const [rows] = await bq.query('SELECT COUNT(*) AS c FROM `ds_invalid.t`');
  t.same(rows, [{ c: 0 }], 'nothing is inserted without skipInvalidRows');
  await table.insert([{ n: 1 }, { n: 'x' }], { skipInvalidRows: true }).catch(() => undefined);
  const [after] = await bq.query('SELECT COUNT(*) AS c FROM `ds_invalid.t`');
  t.same(after, [{ c: 1 }]);
});

t.test('pagination: pageToken loop and startIndex, via jobs.insert + getQueryResults', async (t) => {
  const [ds] = await bq.createDataset('ds_pages');
  const [table] = await ds.createTable('nums', {
    schema: [
      { name: 'n', type: 'INT64' },
      { name: 'label', type: 'STRING' },
    ],
  });
  const total = 53;
  await table.insert(Array.from({ length: total }, (_, n) => ({ n, label: `row ${n}` })));
  const [job] = await bq.createQueryJob({ query: 'SELECT n, label FROM `ds_pages.nums` ORDER BY n DESC' });
  const seen: number[] = [];
  let pageToken: string | undefined;
  let pages = 0;
  do {
    const [rows, , resp] = (await job.getQueryResults({
      autoPaginate: false,
      maxResults: 10,
      ...(pageToken ? { pageToken } : {}),
    })) as unknown as [Array<{ n: number }>, unknown, { pageToken?: string; totalRows: string }];
    seen.push(...rows.map((r) => r.n));
    t.equal(resp.totalRows, String(total));
    pageToken = resp.pageToken;
    pages++;
  } while (pageToken);
  t.equal(pages, Math.ceil(total / 10));
  t.same(
    seen,
    Array.from({ length: total }, (_, i) => total - 1 - i),
  );

  const [slice] = (await job.getQueryResults({
    autoPaginate: false,
    startIndex: '20',
    maxResults: 5,
  } as never)) as unknown as [Array<{ n: number }>];
  t.same(
    slice.map((r) => r.n),
    [32, 31, 30, 29, 28],
  );

  // jobs.query fast path with a small first page, then automatic pagination
  const [all] = await bq.query({ query: 'SELECT n FROM `ds_pages.nums` ORDER BY n', maxResults: 7 } as never);
  t.same(
    (all as Array<{ n: number }>).map((r) => r.n),
    Array.from({ length: total }, (_, i) => i),
  );
});

t.test('named parameters of each type', async (t) => {
  const [ds] = await bq.createDataset('ds_params');
  const [table] = await ds.createTable('t', {
    schema: [
      { name: 's', type: 'STRING' },
      { name: 'i', type: 'INT64' },
      { name: 'f', type: 'FLOAT64' },
      { name: 'b', type: 'BOOL' },
      { name: 'ts', type: 'TIMESTAMP' },
      { name: 'd', type: 'DATE' },
    ],
  });
  await table.insert([
    { s: 'x', i: 1, f: 1.5, b: true, ts: '2026-11-26T10:00:00.000002Z', d: '2026-11-26' },
    { s: 'y', i: 2, f: 2.5, b: false, ts: '2026-11-27T10:00:00Z', d: '2026-11-27' },
  ]);
  const [rows] = (await bq.query({
    query: 'SELECT s FROM `ds_params.t` WHERE s = @s AND i = @i AND f = @f AND b = @b AND ts = @ts AND d = @d',
    params: {
      s: 'x',
      i: 1,
      f: 1.5,
      b: true,
      ts: bq.timestamp('2026-11-26T10:00:00.000002Z'),
      d: bq.date('2026-11-26'),
    },
  })) as unknown as [Array<{ s: string }>];
  t.same(rows, [{ s: 'x' }]);

  const [echo] = (await bq.query({
    query: 'SELECT @s AS s, @i AS i, @f AS f, @b AS b, @ts AS ts, @d AS d, @big AS big',
    params: {
      s: "it's",
      i: -42,
      f: 0.25,
      b: false,
      ts: bq.timestamp('2026-01-02T03:04:05.678901Z'),
      d: bq.date('2026-01-02'),
      big: bq.int('9007199254740993'),
    },
    skipParsing: true,
  })) as unknown as [RawRow[]];
  t.same(
    echo[0]!.f.map((c) => c.v),
    ["it's", '-42', '0.25', 'false', micros(2026, 1, 2, 3, 4, 5, 678901).toString(), '2026-01-02', '9007199254740993'],
  );
});

t.test('wildcard tables with _TABLE_SUFFIX and shards with differing schemas', async (t) => {
  const [ds] = await bq.createDataset('ds_shards');
  const oldSchema = [
    { name: 'timestamp', type: 'TIMESTAMP' },
    { name: 'jsonPayload', type: 'RECORD', fields: [{ name: 'msg', type: 'STRING' }] },
  ];
  const newSchema = [
    { name: 'timestamp', type: 'TIMESTAMP' },
    { name: 'textPayload', type: 'STRING' },
    {
      name: 'jsonPayload',
      type: 'RECORD',
      fields: [
        { name: 'msg', type: 'STRING' },
        { name: 'extra', type: 'INT64' },
      ],
    },
  ];
  const [old] = await ds.createTable('stdout_20261125', { schema: oldSchema });
  await new Promise((r) => setTimeout(r, 5));
  const [mid] = await ds.createTable('stdout_20261126', { schema: oldSchema });
  await new Promise((r) => setTimeout(r, 5));
  const [latest] = await ds.createTable('stdout_20261127', { schema: newSchema });
  await old.insert([{ timestamp: '2026-11-25T01:00:00Z', jsonPayload: { msg: 'old' } }]);
  await mid.insert([{ timestamp: '2026-11-26T01:00:00Z', jsonPayload: { msg: 'middle' } }]);
  await latest.insert([
    { timestamp: '2026-11-27T01:00:00Z', textPayload: 'new text', jsonPayload: { msg: 'new', extra: 7 } },
  ]);

  const [rows] = await bq.query({
    query:
      'SELECT _TABLE_SUFFIX AS suffix, textPayload, jsonPayload.msg AS msg, jsonPayload.extra AS extra, TO_JSON_STRING(jsonPayload) AS j FROM `test-project.ds_shards.stdout_*` WHERE _TABLE_SUFFIX BETWEEN @first AND @last ORDER BY suffix',
    params: { first: '20261126', last: '20261127' },
  });
  t.same(rows, [
    { suffix: '20261126', textPayload: null, msg: 'middle', extra: null, j: '{"msg":"middle","extra":null}' },
    { suffix: '20261127', textPayload: 'new text', msg: 'new', extra: 7, j: '{"msg":"new","extra":7}' },
  ]);

  // billing: only the surviving shards' referenced columns are processed
  const [job] = await bq.createQueryJob({
    query: "SELECT jsonPayload.msg FROM `ds_shards.stdout_*` WHERE _TABLE_SUFFIX = '20261125'",
  });
  const [meta] = await job.getMetadata();
  t.equal(meta.statistics.totalBytesProcessed, String(stringBytes('old')));
  const [inJob] = await bq.createQueryJob({
    query: "SELECT jsonPayload.msg FROM `ds_shards.stdout_*` WHERE _TABLE_SUFFIX IN ('20261125', '20261127')",
  });
  t.equal(
    (await inJob.getMetadata())[0].statistics.totalBytesProcessed,
    String(stringBytes('old') + stringBytes('new')),
  );
});

t.test('log queries the project emits: tree listing, entries, hours', async (t) => {
  const [ds] = await bq.createDataset('ds_logs');
  const opts = { schema: LOG_SCHEMA, timePartitioning: { type: 'DAY', field: 'timestamp' } };
  const [stdout] = await ds.createTable('stdout', opts);
  const [stderr] = await ds.createTable('stderr', {
    schema: LOG_SCHEMA.filter((f) => f.name !== 'jsonPayload'),
    timePartitioning: { type: 'DAY', field: 'timestamp' },
  });
  const outRows = [
    logRow('2026-11-26T10:15:00.000001Z', 'o1', 'web-1', null, { msg: 'hello', level: 1 }),
    logRow('2026-11-26T11:00:00Z', 'o2', 'web-1', 'plain'),
    logRow('2026-11-27T09:00:00Z', 'o3', 'web-2', 'other pod'),
  ];
  const errRows = [logRow('2026-11-26T10:15:00.000001Z', 'e1', 'web-1', 'oops')].map(({ jsonPayload, ...rest }) => {
    void jsonPayload;
    return rest;
  });
  await stdout.insert(outRows);
  await stderr.insert(errRows);

  const tree = `SELECT namespace, pod, container, day
FROM (
  SELECT resource.labels.namespace_name AS namespace, resource.labels.pod_name AS pod, resource.labels.container_name AS container, DATE(timestamp) AS day
  FROM \`${PROJECT}.ds_logs.stdout\` WHERE timestamp >= @window_start AND timestamp < @window_end
  UNION ALL
  SELECT resource.labels.namespace_name AS namespace, resource.labels.pod_name AS pod, resource.labels.container_name AS container, DATE(timestamp) AS day
  FROM \`${PROJECT}.ds_logs.stderr\` WHERE timestamp >= @window_start AND timestamp < @window_end
)
WHERE namespace IS NOT NULL AND pod IS NOT NULL AND container IS NOT NULL
GROUP BY namespace, pod, container, day
ORDER BY namespace, pod, container, day`;
  const [treeRows] = (await bq.query({
    query: tree,
    params: { window_start: bq.timestamp('2026-11-26T00:00:00Z'), window_end: bq.timestamp('2026-11-28T00:00:00Z') },
    skipParsing: true,
  })) as unknown as [RawRow[]];
  t.same(
    treeRows.map((r) => r.f.map((c) => c.v)),
    [
      ['default', 'web-1', 'app', '2026-11-26'],
      ['default', 'web-2', 'app', '2026-11-27'],
    ],
  );

  const where = `WHERE timestamp >= @range_start AND timestamp < @range_end
    AND resource.labels.namespace_name = @namespace AND resource.labels.pod_name = @pod AND resource.labels.container_name = @container`;
  const entries = `SELECT timestamp, insertId, stream, textPayload, jsonPayload
FROM (
  SELECT timestamp, insertId, 'stdout' AS stream, textPayload, TO_JSON_STRING(jsonPayload) AS jsonPayload
  FROM \`${PROJECT}.ds_logs.stdout\` ${where}
  UNION ALL
  SELECT timestamp, insertId, 'stderr' AS stream, textPayload, CAST(NULL AS STRING) AS jsonPayload FROM \`${PROJECT}.ds_logs.stderr\` ${where}
)
ORDER BY IF(TIMESTAMP_TRUNC(timestamp, HOUR) = @first_hour, 0, 1), timestamp, insertId, stream`;
  const params = {
    range_start: bq.timestamp('2026-11-26T00:00:00Z'),
    range_end: bq.timestamp('2026-11-27T00:00:00Z'),
    namespace: 'default',
    pod: 'web-1',
    container: 'app',
    first_hour: bq.timestamp('2026-11-26T11:00:00Z'),
  };
  const [entryRows] = (await bq.query({ query: entries, params, skipParsing: true })) as unknown as [RawRow[]];
  t.same(
    entryRows.map((r) => r.f.map((c) => c.v)),
    [
      [micros(2026, 11, 26, 11, 0, 0).toString(), 'o2', 'stdout', 'plain', 'null'],
      [micros(2026, 11, 26, 10, 15, 0, 1).toString(), 'e1', 'stderr', 'oops', null],
      [micros(2026, 11, 26, 10, 15, 0, 1).toString(), 'o1', 'stdout', null, '{"msg":"hello","level":1}'],
    ],
  );

  const hours = `SELECT DISTINCT EXTRACT(HOUR FROM timestamp) AS hour FROM (
  SELECT timestamp FROM \`${PROJECT}.ds_logs.stdout\` ${where}
  UNION ALL
  SELECT timestamp FROM \`${PROJECT}.ds_logs.stderr\` ${where}
) ORDER BY hour`;
  const [hourRows, , resp] = (await bq.query({ query: hours, params })) as unknown as [
    Array<{ hour: number }>,
    unknown,
    { schema: { fields: Array<{ name: string; type: string }> } },
  ];
  t.same(hourRows, [{ hour: 10 }, { hour: 11 }]);
  t.equal(resp.schema.fields[0]!.type, 'INTEGER');

  // Billing of the tree query: four leaves of each table, both days in the window.
  const treeBytes = (rows: LogRow[]): number =>
    rows.reduce(
      (sum, r) =>
        sum +
        8 +
        stringBytes(r.resource.labels.namespace_name) +
        stringBytes(r.resource.labels.pod_name) +
        stringBytes(r.resource.labels.container_name),
      0,
    );
  const [treeJob] = await bq.createQueryJob({
    query: tree,
    params: { window_start: bq.timestamp('2026-11-26T00:00:00Z'), window_end: bq.timestamp('2026-11-28T00:00:00Z') },
  });
  const [treeMeta] = await treeJob.getMetadata();
  const expected = [treeBytes(outRows), treeBytes(errRows as LogRow[])];
  t.equal(treeMeta.statistics.query.totalBytesProcessed, String(expected[0]! + expected[1]!));
  t.equal(treeMeta.statistics.query.totalBytesBilled, String(billed(expected)), '10 MiB minimum per table');
});

t.test('GoogleSQL dialect: functions, literals, clauses', async (t) => {
  const [ds] = await bq.createDataset('ds_dialect');
  const [table] = await ds.createTable('t', {
    schema: [
      { name: 'timestamp', type: 'TIMESTAMP' },
      { name: 'name', type: 'STRING' },
      { name: 'n', type: 'INT64' },
      {
        name: 'rec',
        type: 'RECORD',
        fields: [
          { name: 'a', type: 'STRING' },
          { name: 'b', type: 'FLOAT' },
        ],
      },
      { name: 'arr', type: 'INT64', mode: 'REPEATED' },
    ],
  });
  await table.insert([
    { timestamp: '2026-11-26T10:30:00.123456Z', name: 'alpha', n: 1, rec: { a: 'x', b: 1.5 }, arr: [1, 2, 3] },
    { timestamp: '2026-11-26T11:45:00Z', name: 'beta', n: 2, rec: { a: 'y', b: null }, arr: [] },
    { timestamp: '2026-11-27T00:00:00Z', name: "o'neil", n: 2, rec: null },
  ]);
  const q = async (query: string, params?: Record<string, unknown>) =>
    (await bq.query({ query, ...(params ? { params } : {}), skipParsing: true })) as unknown as [RawRow[]];
  const values = (rows: RawRow[]) => rows.map((r) => r.f.map((c) => c.v));

  t.same(
    values((await q('SELECT name FROM ds_dialect.t WHERE name = "alpha"'))[0]),
    [['alpha']],
    'double-quoted string, unquoted path',
  );
  t.same(
    values(
      (await q('WITH x AS (SELECT name, n FROM `ds_dialect.t`) SELECT COUNT(DISTINCT n) AS dn, COUNT(*) FROM x'))[0],
    ),
    [['2', '3']],
  );
  t.same(
    values(
      (
        await q(
          'WITH x AS (SELECT name, n FROM `ds_dialect.t`), y AS (SELECT n FROM x WHERE n > 1)' +
            ' SELECT (SELECT COUNT(*) FROM x), (SELECT COUNT(*) FROM y), (SELECT SUM(n) FROM x), (SELECT SUM(n) FROM y)',
        )
      )[0],
    ),
    [['3', '2', '5', '4']],
    'WITH tables referenced more than once and by each other',
  );
  const duckSql = (query: string) => {
    const tokens = tokenize(query);
    return translate({ tokens, brackets: matchBrackets(tokens), tables: new Map(), itemAliases: new Map() }).sql;
  };
  t.match(
    duckSql('WITH x AS (SELECT 1 AS a), y AS (SELECT a FROM x) SELECT * FROM x, y'),
    /^WITH "x" AS NOT MATERIALIZED \(.*\) , "y" AS NOT MATERIALIZED \(/,
    'a WITH table is evaluated where it is referenced, as BigQuery does, not copied into memory first',
  );
  t.notMatch(
    duckSql('WITH RECURSIVE x AS (SELECT 1 AS a UNION ALL SELECT a + 1 FROM x WHERE a < 3) SELECT * FROM x'),
    /MATERIALIZED/,
    'a recursive WITH clause is left as it is',
  );
  t.same(
    values(
      (
        await q(
          "SELECT BYTE_LENGTH(@text), BYTE_LENGTH(@escape), BYTE_LENGTH(b'\\xAA\\x00'), ENDS_WITH(@text, CHR(10))",
          { text: 'caf\u00e9 \u{1f680}\n', escape: '\\x41' },
        )
      )[0],
    ),
    [['11', '4', '2', 'true']],
    'BYTE_LENGTH counts UTF-8 bytes of strings, escapes as written, and bytes',
  );
  const [anon] = await bq.query('SELECT COUNT(*), MAX(n) AS m, 1 FROM `ds_dialect.t`');
  t.same(anon, [{ f0_: 3, m: 2, f1_: 1 }], 'unnamed columns are f0_, f1_');
  t.same(values((await q('SELECT * EXCEPT (rec, arr, timestamp) FROM `ds_dialect.t` ORDER BY n, name'))[0]), [
    ['alpha', '1'],
    ['beta', '2'],
    ["o'neil", '2'],
  ]);
  t.same(
    values(
      (
        await q(
          'SELECT name FROM `ds_dialect.t` WHERE TRUE QUALIFY ROW_NUMBER() OVER (PARTITION BY n ORDER BY name DESC) = 1 ORDER BY n',
        )
      )[0],
    ),
    [['alpha'], ["o'neil"]],
  );
  t.same(
    values(
      (
        await q(
          "SELECT CAST(n AS STRING), SAFE_CAST('x' AS INT64), CAST('2026-01-01 00:00:00+01' AS TIMESTAMP), CAST('2026-01-02' AS DATE), 2.5 * 2 FROM `ds_dialect.t` WHERE n = 1",
        )
      )[0],
    ),
    [['1', null, micros(2025, 12, 31, 23, 0, 0).toString(), '2026-01-02', '5']],
  );
  t.same(
    values(
      (
        await q(
          "SELECT CONCAT(name, '-', CAST(n AS STRING)), LENGTH(name), STARTS_WITH(name, 'al'), REGEXP_CONTAINS(name, r'^b'), IFNULL(rec.b, -1) FROM `ds_dialect.t` ORDER BY name",
        )
      )[0],
    ),
    [
      ['alpha-1', '5', 'true', 'false', '1.5'],
      ['beta-2', '4', 'false', 'true', '-1'],
      ["o'neil-2", '6', 'false', 'false', '-1'],
    ],
  );
  t.same(
    values(
      (
        await q(
          "SELECT FORMAT_TIMESTAMP('%F', timestamp), UNIX_MICROS(timestamp), TIMESTAMP_TRUNC(timestamp, DAY), EXTRACT(DATE FROM timestamp), EXTRACT(MINUTE FROM timestamp), TIMESTAMP_ADD(timestamp, INTERVAL @h HOUR), TIMESTAMP_SUB(timestamp, INTERVAL 1 DAY), TIMESTAMP('2026-11-26 10:00:00+00') FROM `ds_dialect.t` WHERE n = 1",
          { h: 2 },
        )
      )[0],
    ),
    [
      [
        '2026-11-26',
        micros(2026, 11, 26, 10, 30, 0, 123456).toString(),
        micros(2026, 11, 26, 0, 0, 0).toString(),
        '2026-11-26',
        '30',
        micros(2026, 11, 26, 12, 30, 0, 123456).toString(),
        micros(2026, 11, 25, 10, 30, 0, 123456).toString(),
        micros(2026, 11, 26, 10, 0, 0).toString(),
      ],
    ],
  );
  t.same(
    values(
      (
        await q('SELECT arr[OFFSET(0)], arr[SAFE_OFFSET(5)], ARRAY_LENGTH(arr), arr FROM `ds_dialect.t` WHERE n = 1')
      )[0],
    ),
    [['1', null, '3', [{ v: '1' }, { v: '2' }, { v: '3' }]]],
  );
  t.same(values((await q('SELECT name FROM `ds_dialect.t` WHERE n IN UNNEST(@ns) ORDER BY name', { ns: [1, 5] }))[0]), [
    ['alpha'],
  ]);
  t.same(values((await q('SELECT TO_JSON_STRING(rec) FROM `ds_dialect.t` ORDER BY name'))[0]), [
    ['{"a":"x","b":1.5}'],
    ['{"a":"y","b":null}'],
    ['null'],
  ]);
  t.same(
    values(
      (
        await q(
          "SELECT IF(n > 1, 'big', 'small') AS size, COUNT(*), SUM(n) FROM `ds_dialect.t` GROUP BY size ORDER BY size",
        )
      )[0],
    ),
    [
      ['big', '2', '4'],
      ['small', '1', '1'],
    ],
  );
  t.same(
    values(
      (
        await q(
          'SELECT t.name, t.rec.a FROM `test-project.ds_dialect.t` AS t WHERE t.n = @n ORDER BY t.name LIMIT 1 OFFSET 1',
          { n: 2 },
        )
      )[0],
    ),
    [["o'neil", null]],
  );
  t.same(
    values(
      (
        await q(
          'SELECT name FROM (SELECT name, n FROM `ds_dialect.t` UNION ALL SELECT "extra", 9) WHERE n > 1 ORDER BY name',
        )
      )[0],
    ),
    [['beta'], ['extra'], ["o'neil"]],
  );
  const concurrent = await Promise.all(
    Array.from({ length: 8 }, (_, i) => q('SELECT @i + n FROM `ds_dialect.t` WHERE n = 1', { i })),
  );
  t.same(
    concurrent.map(([rows]) => values(rows)),
    Array.from({ length: 8 }, (_, i) => [[String(i + 1)]]),
    'concurrent queries',
  );
});

t.test('dry run validates, reports bytes and schema, bills nothing', async (t) => {
  const [ds] = await bq.createDataset('ds_dry');
  const [table] = await ds.createTable('t', {
    schema: [
      { name: 'name', type: 'STRING' },
      { name: 'n', type: 'INT64' },
    ],
  });
  const names = ['alpha', 'βeta', ''];
  await table.insert(names.map((name, n) => ({ name, n })));
  const before = await stats(emu);
  const [job] = await bq.createQueryJob({ query: 'SELECT name, n * 2 AS doubled FROM `ds_dry.t`', dryRun: true });
  const meta = job.metadata;
  const expected = names.reduce((s, n) => s + stringBytes(n) + 8, 0);
  t.equal(meta.statistics.totalBytesProcessed, String(expected));
  t.equal(meta.statistics.query.totalBytesProcessed, String(expected));
  t.same(
    meta.statistics.query.schema.fields.map((f: { name: string; type: string }) => [f.name, f.type]),
    [
      ['name', 'STRING'],
      ['doubled', 'INTEGER'],
    ],
  );
  t.equal((await stats(emu)).queries, before.queries, 'dry run did not execute');
  await t.rejects(bq.createQueryJob({ query: 'SELECT nope FROM `ds_dry.t`', dryRun: true }), { code: 400 });
});

t.test('errors: shape and HTTP codes', async (t) => {
  const [ds] = await bq.createDataset('ds_errors');
  await ds.createTable('t', { schema: [{ name: 'a', type: 'STRING' }] });

  await t.rejects(bq.query('SELECT a FROM `ds_errors.missing`'), {
    code: 404,
    errors: [{ reason: 'notFound' }],
    message: /Not found: Table test-project:ds_errors\.missing/,
  });
  await t.rejects(bq.query('SELECT a FROM `ds_errors.t` WHERE'), { code: 400, errors: [{ reason: 'invalidQuery' }] });
  await t.rejects(bq.query('SELECT no_such_column FROM `ds_errors.t`'), {
    code: 400,
    errors: [{ reason: 'invalidQuery' }],
    message: /no_such_column/,
  });
  await t.rejects(ds.createTable('t', { schema: [{ name: 'a', type: 'STRING' }] }), {
    code: 409,
    errors: [{ reason: 'duplicate' }],
    message: /Already Exists: Table test-project:ds_errors\.t/,
  });
  await t.rejects(bq.dataset('ds_nope').table('t').getMetadata(), { code: 404 });

  const res = await fetch(`${emu.url}/bigquery/v2/projects/${PROJECT}/datasets/ds_errors/tables/nope`);
  t.equal(res.status, 404);
  t.same(await res.json(), {
    error: {
      code: 404,
      message: `Not found: Table ${PROJECT}:ds_errors.nope`,
      errors: [{ message: `Not found: Table ${PROJECT}:ds_errors.nope`, domain: 'global', reason: 'notFound' }],
      status: 'NOT_FOUND',
    },
  });

  // via jobs.insert the job is created and fails; getQueryResults reports the error
  const failed = await bq.createQueryJob({ query: 'SELEC 1' }).then(
    () => undefined,
    (e: { errors: Array<{ reason: string }> }) => e,
  );
  t.equal(failed?.errors[0]?.reason, 'invalidQuery');
});

t.test('billing: exact processed bytes, 10 MiB minimum, MiB rounding, partition pruning', async (t) => {
  const [ds] = await bq.createDataset('ds_billing');
  const [table] = await ds.createTable('events', {
    schema: [
      { name: 'timestamp', type: 'TIMESTAMP' },
      { name: 'msg', type: 'STRING' },
      { name: 'big', type: 'STRING' },
      { name: 'n', type: 'INT64' },
    ],
    timePartitioning: { type: 'DAY', field: 'timestamp' },
  });
  const rows: Array<{ timestamp: string; msg: string; big: string; n: number }> = [];
  for (let day = 1; day <= 3; day++) {
    for (let i = 0; i < 40; i++)
      rows.push({
        timestamp: `2026-11-0${day}T${String(i % 24).padStart(2, '0')}:00:00.000001Z`,
        msg: `day ${day} message ${i} ✓`,
        big: 'x'.repeat(100_000),
        n: i,
      });
  }
  for (let i = 0; i < rows.length; i += 20) await table.insert(rows.slice(i, i + 20));

  const msgBytes = (filter: (r: (typeof rows)[number]) => boolean): number =>
    rows.filter(filter).reduce((s, r) => s + stringBytes(r.msg), 0);
  const run = async (query: string, params?: Record<string, unknown>) => {
    const [job] = await bq.createQueryJob({ query, ...(params ? { params } : {}) });
    const [meta] = await job.getMetadata();
    return {
      processed: Number(meta.statistics.query.totalBytesProcessed),
      billed: Number(meta.statistics.query.totalBytesBilled),
    };
  };

  const rowsOn = (day: string): number => rows.filter((r) => r.timestamp.startsWith(day)).length;
  // one column plus the filter column, one partition (pruned with parameters)
  const day2 = await run('SELECT msg FROM `ds_billing.events` WHERE timestamp >= @a AND timestamp < @b', {
    a: bq.timestamp('2026-11-02T00:00:00Z'),
    b: bq.timestamp('2026-11-03T00:00:00Z'),
  });
  t.equal(day2.processed, msgBytes((r) => r.timestamp.startsWith('2026-11-02')) + 8 * rowsOn('2026-11-02'));
  t.equal(day2.billed, 10 * MIB, '10 MiB minimum');

  // literal bounds and BETWEEN prune the same way
  const day3 = await run(
    "SELECT msg FROM `ds_billing.events` WHERE timestamp BETWEEN TIMESTAMP '2026-11-03 00:00:00' AND '2026-11-03 23:59:59.999999'",
  );
  t.equal(day3.processed, msgBytes((r) => r.timestamp.startsWith('2026-11-03')) + 8 * rowsOn('2026-11-03'));

  // a single column without any filter: every partition
  const onlyMsg = await run('SELECT msg FROM `ds_billing.events`');
  t.equal(
    onlyMsg.processed,
    msgBytes(() => true),
  );

  // no filter: all partitions; a filter on another column does not prune
  const all = await run('SELECT msg FROM `ds_billing.events` WHERE n > 5');
  t.equal(all.processed, msgBytes(() => true) + rows.length * 8);

  // above the minimum: rounded up to a whole MiB
  const bigBytes = rows.reduce((s, r) => s + stringBytes(r.big), 0);
  const big = await run('SELECT big FROM `ds_billing.events`');
  t.equal(big.processed, bigBytes);
  t.ok(bigBytes > 10 * MIB);
  t.equal(big.billed, Math.ceil(bigBytes / MIB) * MIB);

  // SELECT * bills every column of the partitions read
  const star = await run('SELECT * FROM `ds_billing.events` WHERE timestamp >= @a', {
    a: bq.timestamp('2026-11-03T00:00:00Z'),
  });
  const day3Rows = rows.filter((r) => r.timestamp.startsWith('2026-11-03'));
  t.equal(
    star.processed,
    day3Rows.reduce((s, r) => s + 8 + stringBytes(r.msg) + stringBytes(r.big) + 8, 0),
  );

  const s = await stats(emu);
  t.ok(s.bytesBilled >= 10 * MIB && s.queries > 0);
});

t.test('maximumBytesBilled refuses the query without executing it', async (t) => {
  const [ds] = await bq.createDataset('ds_limit');
  const [table] = await ds.createTable('t', { schema: [{ name: 's', type: 'STRING' }] });
  await table.insert([{ s: 'abc' }]);
  const before = await stats(emu);
  await t.rejects(bq.query({ query: 'SELECT s FROM `ds_limit.t`', maximumBytesBilled: String(MIB) }), {
    code: 400,
    errors: [{ reason: 'bytesBilledLimitExceeded' }],
    message: `Query exceeded limit for bytes billed: ${MIB}. ${10 * MIB} or higher required.`,
  });
  t.equal((await stats(emu)).queries, before.queries);
  const [ok] = await bq.query({ query: 'SELECT s FROM `ds_limit.t`', maximumBytesBilled: String(10 * MIB) });
  t.same(ok, [{ s: 'abc' }]);
});

t.test('persistence: a dbPath database survives a restart', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'bq-emulator-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const dbPath = join(dir, 'emulator.duckdb');
  const first = await startEmulator({ port: 0, dbPath });
  const c1 = emulatorClient(first.url, PROJECT);
  const [ds] = await c1.createDataset('ds_persist');
  const [table] = await ds.createTable('t', {
    schema: LOG_SCHEMA,
    timePartitioning: { type: 'DAY', field: 'timestamp' },
  });
  const rows = [
    logRow('2026-11-26T10:00:00.000007Z', 'p1', 'pod', 'persisted text'),
    logRow('2026-11-27T10:00:00Z', 'p2', 'pod', 'second'),
  ];
  await table.insert(rows);
  await first.close();

  const second = await startEmulator({ port: 0, dbPath });
  t.teardown(() => second.close());
  const c2 = emulatorClient(second.url, PROJECT);
  const [meta] = await c2.dataset('ds_persist').table('t').getMetadata();
  t.equal(meta.numRows, '2');
  t.same(meta.timePartitioning, { type: 'DAY', field: 'timestamp' });
  const [back] = (await c2.query({
    query: 'SELECT timestamp, textPayload FROM `ds_persist.t` ORDER BY timestamp',
    skipParsing: true,
  })) as unknown as [RawRow[]];
  t.same(
    back.map((r) => r.f.map((c) => c.v)),
    [
      [micros(2026, 11, 26, 10, 0, 0, 7).toString(), 'persisted text'],
      [micros(2026, 11, 27, 10, 0, 0).toString(), 'second'],
    ],
  );
  const [job] = await c2.createQueryJob({
    query: 'SELECT textPayload FROM `ds_persist.t` WHERE timestamp < @b',
    params: { b: c2.timestamp('2026-11-27T00:00:00Z') },
  });
  t.equal(
    (await job.getMetadata())[0].statistics.query.totalBytesProcessed,
    String(stringBytes('persisted text') + 8),
    'billing counters persisted',
  );
});
