// Reading a kept result through the Storage Read API when its streams break, end early or are
// refused partway through a range of several record batches: every row exactly once, in order,
// the same rows REST pages give.
import { pino } from 'pino';
import t from 'tap';
import { logQuery } from '../src/bigquery/log-queries.js';
import type { LogWarehouse, RawRow } from '../src/bigquery/log-warehouse.js';
import type { LogSource } from '../src/bigquery/query-builder.js';
import { bigQueryBackend } from '../src/bigquery/warehouse.js';
import { createSinkTables, insertEntries, type LogEntry } from '../src/demo/sink-tables.js';
import { emulatorClient } from '../src/emulator/client.js';
import type { FaultPlan } from '../src/emulator/fault-plan.js';
import { startEmulator, type Emulator } from '../src/emulator/server.js';
import { TimeZoneModel } from '../src/model/time-model.js';
import { hourLineSpec } from '../src/store/sweep-lines.js';

const PROJECT = 'storage-project';
const DATASET = 'logs';
const DAY = '2026-03-08';
/** Several of the local server's record batches (a DuckDB chunk of 2 048 rows each). */
const ROWS = 7_000;

function* entries(): Generator<LogEntry> {
  for (let n = 0; n < ROWS; n++) {
    const second = String(n % 60).padStart(2, '0');
    const minute = String(Math.floor(n / 60) % 60).padStart(2, '0');
    yield {
      namespace: 'shop',
      pod: 'web-1',
      container: 'app',
      stream: n % 7 === 0 ? 'stderr' : 'stdout',
      timestamp: `${DAY}T10:${minute}:${second}.${String(n).padStart(6, '0')}Z`,
      insertId: `id-${n}`,
      textPayload: `line ${n}`,
    };
  }
}

let emulator: Emulator;
let source: LogSource;
const log = pino({ level: 'silent' });

function warehouse(readApi: 'storage' | 'rest'): LogWarehouse {
  return bigQueryBackend(emulatorClient(emulator.url, PROJECT), log, {
    timeoutMs: 60_000,
    mountName: 'storage-results',
    readApi,
    readTarget: { apiEndpoint: emulator.url, readApiEndpoint: emulator.storageAddress, auth: 'none' },
  });
}

/** The sweep of the day's entries, whose result both reads are from. */
function shopSweep(): ReturnType<typeof logQuery> {
  return logQuery(source, {
    kind: 'sweep',
    scope: { namespaces: ['shop'] },
    range: new TimeZoneModel('UTC').dayRange(DAY),
    timeZone: 'UTC',
    fullEntries: false,
  });
}

async function keptRows(from: LogWarehouse, plan?: FaultPlan): Promise<{ rows: RawRow[]; injected: number }> {
  const result = await from.openResult(shopSweep());
  if (plan) emulator.faults.set(plan);
  const rows: RawRow[] = [];
  try {
    await result.readRows(0, result.totalRows, async (page) => void rows.push(...page));
    return { rows, injected: emulator.faults.stats().injected };
  } finally {
    emulator.faults.clear();
  }
}

t.before(async () => {
  emulator = await startEmulator({ port: 0 });
  const client = emulatorClient(emulator.url, PROJECT);
  await createSinkTables(client, DATASET, 'partitioned', [DAY], []);
  await insertEntries(client, DATASET, 'partitioned', entries(), 2_000);
  source = await warehouse('rest').discoverSource(PROJECT, DATASET);
});
t.teardown(() => emulator.close());

const cases: [string, FaultPlan][] = [
  [
    'a stream reset after each first batch',
    { rules: [{ endpoint: 'storage.readRows', kind: 'streamReset', afterBatches: 1, count: 3 }] },
  ],
  [
    'a stream that ends early, twice',
    { rules: [{ endpoint: 'storage.readRows', kind: 'streamEnd', afterBatches: 2, count: 2 }] },
  ],
  [
    'RESOURCE_EXHAUSTED before the first batch',
    { rules: [{ endpoint: 'storage.readRows', kind: 'error', status: 429, count: 2 }] },
  ],
];

t.test('every row once, in order, whatever the stream does', async (t) => {
  const expected = (await keptRows(warehouse('rest'))).rows;
  t.equal(expected.length, ROWS + 1, 'the index row and every entry');
  t.same((await keptRows(warehouse('storage'))).rows, expected, 'no fault');
  for (const [name, plan] of cases) {
    const { rows, injected } = await keptRows(warehouse('storage'), plan);
    t.equal(injected, plan.rules[0]?.count, `${name}: injected`);
    t.equal(rows.length, expected.length, `${name}: as many rows`);
    t.same(rows, expected, `${name}: the same rows in the same order`);
  }
});

/** The entries' lines, read from the kept sweep by `readLines` as a plain text hour is. */
async function keptLines(from: LogWarehouse, plan?: FaultPlan): Promise<{ lines: Buffer; injected: number }> {
  const result = await from.openResult(shopSweep());
  t.ok(result.readLines, 'the result reads lines');
  const ref = { namespace: 'shop', pod: 'web-1', container: 'app' };
  const spec = hourLineSpec(ref, new TimeZoneModel('UTC'), DAY, 10);
  if (plan) emulator.faults.set(plan);
  const chunks: Buffer[] = [];
  try {
    // Row 0 is the index row; the entries follow it.
    await result.readLines!(1, ROWS, spec, async (lines) => void chunks.push(Buffer.from(lines)));
    return { lines: Buffer.concat(chunks), injected: emulator.faults.stats().injected };
  } finally {
    emulator.faults.clear();
  }
}

/** The entries' lines in file order: by time (these timestamps, all of one format and distinct, sort as strings). */
function expectedLines(): Buffer {
  const inOrder = [...entries()].sort((a, b) => (a.timestamp < b.timestamp ? -1 : 1));
  return Buffer.from(inOrder.map((entry) => `${entry.textPayload}\n`).join(''));
}

t.test('every line once, in order, whatever the stream does; the same over REST', async (t) => {
  const expected = expectedLines();
  t.same((await keptLines(warehouse('rest'))).lines, expected, 'over REST');
  t.same((await keptLines(warehouse('storage'))).lines, expected, 'no fault');
  for (const [name, plan] of cases) {
    const { lines, injected } = await keptLines(warehouse('storage'), plan);
    t.equal(injected, plan.rules[0]?.count, `${name}: injected`);
    t.same(lines, expected, `${name}: the same lines in the same order`);
  }
});

t.test('REST pages, several asked for at once: every line once, in order, whatever the pages do', async (t) => {
  const expected = expectedLines();
  const restCases: [string, FaultPlan][] = [
    // The range's first page answers after the pages asked for behind it.
    [
      'the first page answering last',
      { rules: [{ endpoint: 'jobs.getQueryResults', kind: 'latency', ms: 300, count: 1 }] },
    ],
    ['a later page cut off', { rules: [{ endpoint: 'jobs.getQueryResults', kind: 'reset', after: 1, count: 1 }] }],
    [
      'a page refused with 503',
      { rules: [{ endpoint: 'jobs.getQueryResults', kind: 'error', status: 503, after: 2, count: 1 }] },
    ],
    [
      'a page saying the job is not complete',
      { rules: [{ endpoint: 'jobs.getQueryResults', kind: 'jobIncomplete', after: 1, count: 1 }] },
    ],
  ];
  for (const [name, plan] of restCases) {
    const { lines, injected } = await keptLines(warehouse('rest'), plan);
    t.equal(injected, 1, `${name}: injected`);
    t.same(lines, expected, `${name}: the same lines in the same order`);
  }
});
