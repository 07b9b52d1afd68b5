// The fake warehouse answers like BigQuery: the same known entries are loaded into the fake and,
// through the real client, into the local BigQuery-compatible server; then every kind of query, in
// its variants, must give the same rows from both, in the same pages, billing the same.
import type { BigQuery } from '@google-cloud/bigquery';
import { pino } from 'pino';
import t, { type Test } from 'tap';
import { logQuery, type QuerySpec } from '../src/bigquery/log-queries.js';
import type { LogWarehouse, RawRow } from '../src/bigquery/log-warehouse.js';
import type { LogSource, NamespaceRestriction, TableLayout } from '../src/bigquery/query-builder.js';
import { STREAMS } from '../src/bigquery/sink-table-names.js';
import { bigQueryBackend } from '../src/bigquery/warehouse.js';
import { emulatorClient } from '../src/emulator/client.js';
import { startEmulator, type Emulator } from '../src/emulator/server.js';
import type { ContainerRef } from '../src/model/log-path.js';
import { shardSuffix, TimeZoneModel, type TimeRange } from '../src/model/time-model.js';
import { FakeWarehouse, micros, sinkRow, type FakeEntry } from './support/fake-warehouse.js';
import { serverStats } from './support/stats.js';

const PROJECT = 'test-project';
/** A Sunday on which New York's clocks skip from 02:00 to 03:00. */
const D1 = '2026-03-08';
const D2 = '2026-03-09';
const OTHER_DAY = '2026-01-15';

const app: ContainerRef = { namespace: 'shop', pod: 'web-1', container: 'app' };
const nginx: ContainerRef = { namespace: 'shop', pod: 'web-1', container: 'nginx' };
const app2: ContainerRef = { namespace: 'shop', pod: 'web-2.canary', container: 'app' };
const worker: ContainerRef = { namespace: 'batch', pod: 'report-1', container: 'worker' };
/** Where entries with and without an insert id share a timestamp. */
const sidecar: ContainerRef = { namespace: 'shop', pod: 'web-1', container: 'sidecar' };

let nextId = 0;
function entry(ref: ContainerRef, time: string, fields: Partial<FakeEntry> = {}): FakeEntry {
  return {
    ...ref,
    cluster: 'prod',
    stream: 'stdout',
    insertId: `id-${String(nextId++).padStart(4, '0')}`,
    timestamp: micros(time),
    textPayload: `entry at ${time}`,
    ...fields,
  };
}

/** The entries both warehouses hold. */
function knownEntries(): FakeEntry[] {
  const json = (jsonPayload: FakeEntry['jsonPayload']) => ({ jsonPayload, textPayload: undefined });
  const duplicate = entry(app, `${D1}T10:09:00.000000Z`, { textPayload: 'delivered twice' });
  const duplicateErr = entry(app, `${D1}T10:09:30.000000Z`, { stream: 'stderr', textPayload: 'ERROR twice' });
  const sameTime = `${D1}T10:08:00.123456Z`;
  const entries: FakeEntry[] = [
    // Hour boundaries, in UTC, in Asia/Kolkata (+05:30) and around New York's skipped hour.
    entry(app, `${D1}T09:59:59.999999Z`),
    entry(app, `${D1}T10:00:00.000000Z`),
    entry(app, `${D1}T10:59:59.999999Z`),
    entry(app, `${D1}T11:00:00.000000Z`),
    entry(app, `${D1}T18:29:59.999999Z`),
    entry(app, `${D1}T18:30:00.000000Z`),
    entry(app, `${D1}T06:59:59.999999Z`),
    entry(app, `${D1}T07:00:00.000000Z`),
    entry(app, `${D1}T23:59:59.999999Z`),
    entry(app, `${D2}T00:00:00.000000Z`),
    // Equal timestamps on both streams: by insert id, then stream.
    entry(app, sameTime, { insertId: 'same-b', textPayload: 'same time, stdout, id b' }),
    entry(app, sameTime, { stream: 'stderr', insertId: 'same-a', textPayload: 'same time, stderr, id a' }),
    entry(app, sameTime, { stream: 'stderr', insertId: 'same-c', textPayload: 'same time, stderr, id c' }),
    entry(app, sameTime, { stream: 'stderr', insertId: 'same-d', textPayload: 'same id, stderr' }),
    entry(app, sameTime, { insertId: 'same-d', textPayload: 'same id, stdout' }),
    // Insert ids that UTF-16 and UTF-8 order differently.
    entry(app, `${D1}T10:08:30.000000Z`, { insertId: '\u{1F600}', textPayload: 'emoji id' }),
    entry(app, `${D1}T10:08:30.000000Z`, { insertId: '\uFF5E', textPayload: 'fullwidth tilde id' }),
    duplicate,
    duplicate,
    duplicateErr,
    duplicateErr,
    // No insert id, at times of their own.
    entry(app, `${D1}T10:10:00.000001Z`, { insertId: null, textPayload: 'no insert id' }),
    entry(app, `${D1}T10:10:00.000002Z`, { insertId: null, stream: 'stderr', textPayload: 'no insert id either' }),
    // UTF-8 and other text.
    entry(app, `${D1}T10:05:00.000001Z`, { textPayload: 'héllo wörld — 日本語 🎉' }),
    entry(app, `${D1}T10:05:00.000002Z`, { textPayload: 'tabs\tand "quotes" and \\backslashes\\\n' }),
    entry(app, `${D1}T10:05:00.000003Z`, { textPayload: '' }),
    entry(app, `${D1}T10:05:00.000004Z`, { textPayload: 'two lines\nin one entry' }),
    // JSON payloads: nested objects, nulls, numbers, booleans, control characters.
    entry(app, `${D1}T10:07:00.000000Z`, {
      ...json({ message: 'json entry', level: 'info', count: 3, ok: true, detail: { code: 'A1', attempts: 2.5 } }),
      severity: 'INFO',
      labels: { app: 'web', team: 'shop' },
    }),
    entry(app, `${D1}T10:07:00.000001Z`, {
      ...json({ message: 'json with nulls', level: null, count: 0.1, ok: false, detail: null }),
      severity: 'WARNING',
      labels: { app: 'web' },
    }),
    entry(app, `${D1}T10:07:00.000002Z`, {
      ...json({
        message: 'ctl \u0001\u001f \u007f é 🎉 </>',
        count: 1e21,
        detail: { code: null, nested: { deep: true } },
      }),
    }),
    entry(app, `${D1}T10:07:00.000003Z`, { ...json({ count: 123456789.125, detail: {} }), labels: {} }),
    entry(app, `${D1}T10:07:00.000004Z`, { ...json({}), severity: 'DEBUG' }),
    entry(app, `${D1}T10:07:00.000005Z`, {
      ...json({ error: { code: 'E42', retry: true } }),
      stream: 'stderr',
      severity: 'ERROR',
    }),
    entry(app, `${D1}T10:07:00.000006Z`, { ...json({ count: -1e-7 }), textPayload: 'text and json' }),
    // Other containers, pods, namespaces and clusters, on both days.
    entry(nginx, `${D1}T10:30:00.000000Z`, { textPayload: 'GET / 200' }),
    entry(nginx, `${D2}T03:00:00.000000Z`, { textPayload: 'GET /health 200' }),
    entry(app2, `${D1}T20:00:00.000000Z`, { cluster: 'staging' }),
    entry(app2, `${D2}T01:15:00.000000Z`, { cluster: 'staging', stream: 'stderr' }),
    entry(worker, `${D1}T02:00:00.000000Z`),
    entry(worker, `${D1}T12:00:00.000000Z`),
    entry(worker, `${D2}T22:45:00.500000Z`, { stream: 'stderr' }),
    entry(worker, `${D2}T23:59:59.999999Z`, { cluster: undefined, textPayload: 'no cluster' }),
    entry(app, `${D2}T12:00:00.000000Z`),
    entry(sidecar, `${D1}T12:00:00.000000Z`, { insertId: 'b' }),
    entry(sidecar, `${D1}T12:00:00.000000Z`, { insertId: null, textPayload: 'no id, same time as b' }),
    entry(sidecar, `${D1}T12:00:00.000000Z`, { insertId: 'a', stream: 'stderr' }),
  ];
  return entries;
}

const ENTRIES = knownEntries();
const log = pino({ level: 'silent' });
let emulator: Emulator;
let client: BigQuery;
const fake = new FakeWarehouse();
const smallPages = new FakeWarehouse({ pageRows: 4 });
const real: Partial<Record<TableLayout, { warehouse: LogWarehouse; source: LogSource }>> = {};

function datasetOf(layout: TableLayout): string {
  return `conformance_${layout}`;
}

/** Creates a sink's tables for the entries (one per stream, or per stream and day) and loads them. */
async function load(layout: TableLayout, entries: FakeEntry[]): Promise<void> {
  const [dataset] = await client.dataset(datasetOf(layout)).get({ autoCreate: true });
  const rows = new Map<string, Record<string, unknown>[]>();
  for (const stream of STREAMS) {
    const days = layout === 'partitioned' ? [''] : [D1, D2].map((day) => `_${shardSuffix(day)}`);
    for (const suffix of days) {
      await dataset.createTable(`${stream}${suffix}`, {
        schema: { fields: fake.sinkTableFields(stream) },
        ...(layout === 'partitioned' && { timePartitioning: { type: 'DAY', field: 'timestamp' } }),
      });
    }
  }
  for (const loaded of entries) {
    const day = new Date(Number(loaded.timestamp / 1000n)).toISOString().slice(0, 10);
    const table = layout === 'partitioned' ? loaded.stream : `${loaded.stream}_${shardSuffix(day)}`;
    rows.set(table, [...(rows.get(table) ?? []), sinkRow(loaded, PROJECT)]);
  }
  for (const [table, tableRows] of rows) await dataset.table(table).insert(tableRows);
}

t.before(async () => {
  fake.insert(ENTRIES);
  smallPages.insert(ENTRIES);
  emulator = await startEmulator({ port: 0 });
  client = emulatorClient(emulator.url, PROJECT);
  for (const layout of ['partitioned', 'sharded'] as const) {
    await load(layout, ENTRIES);
    const warehouse = bigQueryBackend(client, log, {
      timeoutMs: 30_000,
      mountName: 'conformance',
      readApi: 'rest',
      readTarget: {},
    });
    real[layout] = { warehouse, source: await warehouse.discoverSource(PROJECT, datasetOf(layout)) };
  }
});
t.teardown(() => emulator.close());

function realFor(layout: TableLayout): { warehouse: LogWarehouse; source: LogSource } {
  const found = real[layout];
  if (!found) throw new Error('the server is loaded before the first test');
  return found;
}

async function pagesOf(warehouse: LogWarehouse, spec: QuerySpec, source: LogSource) {
  const pages: RawRow[][] = [];
  const stats = await warehouse.runQuery(logQuery(source, spec), { page: async (rows) => void pages.push(rows) });
  return { pages, stats };
}

t.test('discovery finds the same tables and columns', async (t) => {
  const fromFake = await fake.discoverSource(PROJECT, datasetOf('partitioned'));
  const fromServer = realFor('partitioned').source;
  t.same(fromFake, fromServer);
  t.same(
    fromFake.tables.map((table) => [...table.columns].sort()),
    fromServer.tables.map((table) => [...table.columns].sort()),
  );
  t.ok(fromFake.tables.find((table) => table.stream === 'stderr')?.columns.has('jsonPayload'));
  t.notOk(
    fromFake.tables.find((table) => table.stream === 'stderr')?.columns.has('labels'),
    'no stderr entry had labels',
  );
});

const utc = new TimeZoneModel('UTC');
const kolkata = new TimeZoneModel('Asia/Kolkata');
const newYork = new TimeZoneModel('America/New_York');

function days(zone: TimeZoneModel, first: string, last: string): TimeRange {
  return { startMs: zone.dayRange(first).startMs, endMs: zone.dayRange(last).endMs };
}

function hourOf(zone: TimeZoneModel, day: string, hour: number): TimeRange {
  const range = zone.hourRange(day, hour);
  if (!range) throw new Error(`no hour ${hour} on ${day} in ${zone.zone}`);
  return range;
}

interface Case {
  name: string;
  spec: QuerySpec;
  restriction?: { namespaces?: NamespaceRestriction; cluster?: string };
  /** Whether the result must have rows, so that an empty answer from both cannot pass unnoticed. */
  rows: boolean;
  /** Also against date-sharded tables; the rows must not depend on the layout. */
  sharded?: boolean;
}

const restrictions: Record<string, Case['restriction']> = {
  'namespace names': { namespaces: { names: ['shop'] } },
  'namespace pattern': { namespaces: { pattern: 'b[a-z]+' } },
  'names and pattern': { namespaces: { names: ['shop', 'batch'], pattern: 'sh.p' } },
  cluster: { cluster: 'prod' },
  'cluster and names': { cluster: 'staging', namespaces: { names: ['shop'] } },
};

function listingCases(): Case[] {
  const cases: Case[] = [];
  for (const zone of [utc, kolkata, newYork]) {
    const timeZone = zone.zone;
    cases.push(
      {
        name: `both days, ${timeZone}`,
        spec: { kind: 'listing', window: days(zone, D1, D2), timeZone },
        rows: true,
        sharded: zone === kolkata,
      },
      { name: `second day, ${timeZone}`, spec: { kind: 'listing', window: days(zone, D2, D2), timeZone }, rows: true },
    );
  }
  cases.push({
    name: 'a day without entries',
    spec: { kind: 'listing', window: days(utc, OTHER_DAY, OTHER_DAY), timeZone: 'UTC' },
    rows: false,
    sharded: true,
  });
  for (const [name, restriction] of Object.entries(restrictions)) {
    const spec: QuerySpec = { kind: 'listing', window: days(kolkata, D1, D2), timeZone: 'Asia/Kolkata' };
    cases.push({ name, spec, restriction, rows: true, sharded: name === 'namespace pattern' });
  }
  cases.push({
    name: 'no such namespace',
    spec: { kind: 'listing', window: days(utc, D1, D2), timeZone: 'UTC' },
    restriction: { namespaces: { names: ['nope'] } },
    rows: false,
  });
  return cases;
}

function hoursCases(): Case[] {
  const cases: Case[] = [];
  for (const [ref, zone] of [
    [app, utc],
    [app, kolkata],
    [app, newYork],
    [worker, newYork],
  ] as const) {
    const spec: QuerySpec = { kind: 'hours', ref, day: D1, range: zone.dayRange(D1), timeZone: zone.zone };
    cases.push({ name: `${ref.container} on ${D1}, ${zone.zone}`, spec, rows: true, sharded: zone === kolkata });
  }
  const dayRange = utc.dayRange(D1);
  cases.push(
    {
      name: 'from 10:00 on',
      spec: {
        kind: 'hours',
        ref: app,
        day: D1,
        range: { ...dayRange, startMs: hourOf(utc, D1, 10).startMs },
        timeZone: 'UTC',
      },
      rows: true,
    },
    {
      name: 'a namespace the mount hides',
      spec: { kind: 'hours', ref: app, day: D1, range: dayRange, timeZone: 'UTC' },
      restriction: { namespaces: { names: ['batch'] } },
      rows: false,
    },
    {
      name: 'another cluster',
      spec: { kind: 'hours', ref: app2, day: D1, range: dayRange, timeZone: 'UTC' },
      restriction: { cluster: 'prod' },
      rows: false,
    },
  );
  return cases;
}

function podsCases(): Case[] {
  const window = days(utc, D1, D2);
  return [
    { name: 'app in every namespace', spec: { kind: 'pods', container: 'app', window, timeZone: 'UTC' }, rows: true },
    {
      name: 'app in shop, Asia/Kolkata',
      spec: {
        kind: 'pods',
        container: 'app',
        namespace: 'shop',
        window: days(kolkata, D1, D2),
        timeZone: 'Asia/Kolkata',
      },
      rows: true,
      sharded: true,
    },
    {
      name: 'worker, America/New_York',
      spec: { kind: 'pods', container: 'worker', window: days(newYork, D1, D2), timeZone: 'America/New_York' },
      rows: true,
    },
    { name: 'no such container', spec: { kind: 'pods', container: 'nope', window, timeZone: 'UTC' }, rows: false },
    {
      name: 'namespace pattern',
      spec: { kind: 'pods', container: 'app', window, timeZone: 'UTC' },
      restriction: restrictions['namespace pattern'],
      rows: false,
    },
    {
      name: 'cluster',
      spec: { kind: 'pods', container: 'app', window, timeZone: 'UTC' },
      restriction: restrictions.cluster,
      rows: true,
    },
  ];
}

function entriesCases(): Case[] {
  const cases: Case[] = [];
  const containerDays: [ContainerRef, string, boolean][] = [
    [app, D1, false],
    [app, D1, true],
    [app, D2, true],
    [nginx, D1, false],
    [nginx, D2, true],
    [app2, D1, false],
    [app2, D2, true],
    [worker, D1, true],
    [worker, D2, false],
  ];
  for (const [ref, day, fullEntries] of containerDays) {
    const range = utc.dayRange(day);
    const spec: QuerySpec = { kind: 'entries', ref, day, range, first: range, fullEntries };
    cases.push({
      name: `${ref.pod}/${ref.container} ${day}, full ${fullEntries}`,
      spec,
      rows: true,
      sharded: ref === app,
    });
  }
  for (const [hour, fullEntries] of [
    [10, true],
    [0, false],
    [23, true],
  ] as const) {
    const range = utc.dayRange(D1);
    const spec: QuerySpec = { kind: 'entries', ref: app, day: D1, range, first: hourOf(utc, D1, hour), fullEntries };
    cases.push({ name: `hour ${hour} first, full ${fullEntries}`, spec, rows: true, sharded: hour === 10 });
  }
  const kolkataDay = kolkata.dayRange(D1);
  const fromTen = { ...utc.dayRange(D1), startMs: hourOf(utc, D1, 10).startMs };
  cases.push(
    {
      name: 'a day of Asia/Kolkata, its midnight hour first',
      spec: { kind: 'entries', ref: app, day: D1, range: kolkataDay, first: hourOf(kolkata, D1, 0), fullEntries: true },
      rows: true,
    },
    {
      name: 'a day of America/New_York, the hour after the skipped one first',
      spec: {
        kind: 'entries',
        ref: app,
        day: D1,
        range: newYork.dayRange(D1),
        first: hourOf(newYork, D1, 3),
        fullEntries: false,
      },
      rows: true,
    },
    {
      name: 'the rest of a day, as a refresh asks',
      spec: { kind: 'entries', ref: app, day: D1, range: fromTen, first: hourOf(utc, D1, 18), fullEntries: false },
      rows: true,
    },
    {
      name: 'a namespace the mount hides',
      spec: {
        kind: 'entries',
        ref: worker,
        day: D2,
        range: utc.dayRange(D2),
        first: utc.dayRange(D2),
        fullEntries: false,
      },
      restriction: restrictions['namespace names'],
      rows: false,
    },
    {
      name: 'only the cluster given: the entry without one goes',
      spec: {
        kind: 'entries',
        ref: worker,
        day: D2,
        range: utc.dayRange(D2),
        first: utc.dayRange(D2),
        fullEntries: true,
      },
      restriction: restrictions.cluster,
      rows: true,
    },
    {
      name: 'a day without entries',
      spec: {
        kind: 'entries',
        ref: app,
        day: OTHER_DAY,
        range: utc.dayRange(OTHER_DAY),
        first: utc.dayRange(OTHER_DAY),
        fullEntries: true,
      },
      rows: false,
    },
  );
  return cases;
}

function sweepCases(): Case[] {
  const cases: Case[] = [];
  for (const [zone, fullEntries] of [
    [utc, false],
    [kolkata, true],
    [newYork, false],
  ] as const) {
    const timeZone = zone.zone;
    const range = utc.dayRange(D1);
    cases.push(
      {
        name: `every container of shop on ${D1}, ${timeZone}`,
        spec: { kind: 'sweep', scope: { namespaces: ['shop'] }, range, timeZone, fullEntries },
        rows: true,
        sharded: zone === kolkata,
      },
      {
        name: `container app everywhere on ${D1}, ${timeZone}`,
        spec: { kind: 'sweep', scope: { container: 'app' }, range, timeZone, fullEntries },
        rows: true,
      },
    );
  }
  cases.push(
    {
      name: 'two namespaces from 10:00 on, as a refresh asks',
      spec: {
        kind: 'sweep',
        scope: { namespaces: ['shop', 'batch'] },
        range: { ...utc.dayRange(D1), startMs: hourOf(utc, D1, 10).startMs },
        timeZone: 'UTC',
        fullEntries: false,
      },
      rows: true,
    },
    {
      name: 'a namespace the mount hides',
      spec: {
        kind: 'sweep',
        scope: { namespaces: ['shop'] },
        range: utc.dayRange(D1),
        timeZone: 'UTC',
        fullEntries: false,
      },
      restriction: restrictions['namespace pattern'],
      rows: false,
    },
    {
      name: 'a day without entries',
      spec: { kind: 'sweep', scope: {}, range: utc.dayRange(OTHER_DAY), timeZone: 'UTC', fullEntries: true },
      rows: false,
    },
  );
  return cases;
}

function restricted(source: LogSource, restriction: Case['restriction']): LogSource {
  return { ...source, ...restriction };
}

/** Checks one case against the server in one layout: rows and pages, and for partitioned tables what it bills. */
async function conforms(t: Test, item: Case, layout: TableLayout): Promise<void> {
  const server = realFor(layout);
  const source = restricted(server.source, item.restriction);
  const expected = await pagesOf(server.warehouse, item.spec, source);
  const got = await pagesOf(fake, item.spec, source);
  t.same(got.pages, expected.pages, 'same rows in the same pages');
  t.equal(expected.pages.flat().length > 0, item.rows, item.rows ? 'has rows' : 'has no rows');
  t.equal(got.stats.rows, expected.stats.rows, 'same row count');
  if (layout === 'partitioned') t.equal(got.stats.bytesBilled, expected.stats.bytesBilled, 'bills the same');
  const paged = await pagesOf(smallPages, item.spec, source);
  t.same(paged.pages.flat(), expected.pages.flat(), 'same rows in small pages');
  t.ok(
    paged.pages.every((page, index) => page.length === 4 || (index === paged.pages.length - 1 && page.length <= 4)),
    'every page but the last is full',
  );
}

const kinds: [string, () => Case[]][] = [
  ['listing', listingCases],
  ['hours', hoursCases],
  ['pods', podsCases],
  ['entries', entriesCases],
  ['sweep', sweepCases],
];
for (const [kind, cases] of kinds) {
  t.test(`${kind} queries`, async (t) => {
    for (const item of cases()) {
      await t.test(item.name, async (t) => {
        await conforms(t, item, 'partitioned');
        if (item.sharded) await conforms(t, item, 'sharded');
      });
    }
  });
}

t.test('entries: every loaded entry of a container-day comes back, duplicates included', async (t) => {
  const range = utc.dayRange(D1);
  const spec: QuerySpec = { kind: 'entries', ref: app, day: D1, range, first: range, fullEntries: false };
  const { pages } = await pagesOf(fake, spec, realFor('partitioned').source);
  const loaded = ENTRIES.filter(
    (known) =>
      known.container === 'app' &&
      known.pod === 'web-1' &&
      known.timestamp >= BigInt(range.startMs) * 1000n &&
      known.timestamp < BigInt(range.endMs) * 1000n,
  );
  t.equal(pages.flat().length, loaded.length);
});

t.test('entries: NULL insert ids sort before others of the same time, as in BigQuery', async (t) => {
  const range = utc.dayRange(D1);
  const spec: QuerySpec = { kind: 'entries', ref: sidecar, day: D1, range, first: range, fullEntries: false };
  const server = realFor('partitioned');
  const expected = await pagesOf(server.warehouse, spec, server.source);
  const got = await pagesOf(fake, spec, server.source);
  t.same(
    got.pages.flat().map((row) => row[1]),
    [null, 'a', 'b'],
  );
  t.same(got.pages, expected.pages, 'the same rows as the local server');
});

/** Every row of a kept result, read in ranges of `step` rows. */
async function keptRows(warehouse: LogWarehouse, spec: QuerySpec, source: LogSource, step: number) {
  const result = await warehouse.openResult(logQuery(source, spec));
  const rows: RawRow[] = [];
  for (let start = 0; start < result.totalRows; start += step) {
    await result.readRows(start, Math.min(step, result.totalRows - start), async (page) => void rows.push(...page));
  }
  return { rows, totalRows: result.totalRows, bytesBilled: result.stats.bytesBilled };
}

t.test('kept results read the same rows over REST, over the Storage Read API and from the fake', async (t) => {
  const storage = bigQueryBackend(client, log, {
    timeoutMs: 30_000,
    mountName: 'conformance',
    readTarget: { apiEndpoint: emulator.url, readApiEndpoint: emulator.storageAddress, auth: 'none' },
  });
  const { source } = realFor('partitioned');
  const before = (await serverStats(emulator.url)).storageReadSessions;
  for (const item of sweepCases()) {
    await t.test(item.name, async (t) => {
      const itemSource = restricted(source, item.restriction);
      const rest = await keptRows(realFor('partitioned').warehouse, item.spec, itemSource, 1_000);
      for (const step of [1_000, 3]) {
        const arrow = await keptRows(storage, item.spec, itemSource, step);
        t.same(arrow.rows, rest.rows, `the Storage Read API in ranges of ${step} rows`);
        t.equal(arrow.totalRows, rest.totalRows);
        t.equal(arrow.bytesBilled, rest.bytesBilled, 'reading the result bills nothing more');
      }
      t.same((await keptRows(fake, item.spec, itemSource, 7)).rows, rest.rows, 'the fake');
      t.equal(rest.rows.length > 0, item.rows, item.rows ? 'has rows' : 'has no rows');
    });
  }
  t.ok((await serverStats(emulator.url)).storageReadSessions > before, 'the reads went through read sessions');
});
