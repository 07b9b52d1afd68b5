// An in-process LogWarehouse over the tables a Cloud Logging sink writes, for tests that need
// BigQuery's answers without a server. Each query is answered from its spec and its source (never
// by reading the SQL), with the rows BigQuery gives for the statement built from the same spec: the
// same columns in the same order, the same value encodings. test/warehouse-conformance.test.ts
// checks that against the local BigQuery-compatible server.
//
// The sink it stands for:
// - One table per stream, `stdout` and `stderr`, partitioned by UTC day on `timestamp`; both exist
//   from the start. A row's stream is its table's.
// - A sink only creates a column once some entry had it: `jsonPayload` and `labels` are RECORDs whose
//   fields are the keys the entries of that stream had, in the order first seen (strings STRING,
//   numbers FLOAT, booleans BOOLEAN, objects RECORD), and the table has such a column only once it
//   has a field. A column the query's source says a table lacks reads as SQL NULL.
// - TO_JSON_STRING of a RECORD writes every field of its schema, `null` for those the entry lacked,
//   and `null` for a NULL record; FLOATs as the local server writes them (`3.0`, `1e21`), control
//   characters as `\u001F`.
// - Ascending order puts NULL first and compares strings by their UTF-8 bytes. Rows equal in every
//   ORDER BY key (a duplicate delivery) keep the order they were inserted in.
// - A query reads the entries as they were when it started (a job's snapshot); the result is handed
//   over in pages of `pageRows`, and an empty result as one empty page, as the real backend does.
//
// Bytes billed, after BigQuery's on-demand pricing: for each table the query reads, the bytes of
// every column it references in every day partition its time range touches, whether or not the rows
// match the other conditions (STRING 2 + UTF-8 length, TIMESTAMP and FLOAT 8, BOOLEAN 1, NULL 0, a
// RECORD the sum of its fields). A table that scans any bytes bills at least 10 MiB, and the total is
// rounded up to a whole MiB. More entries or a wider range never bill less.
import type { TableField } from '@google-cloud/bigquery';
import { failure } from '../../src/bigquery/failures.js';
import { linesOfRows } from '../../src/bigquery/line-spec.js';
import { columnPaths, type SchemaChoice } from '../../src/bigquery/log-schemas.js';
import type {
  EntriesSpec,
  HoursSpec,
  ListingSpec,
  LogQuery,
  PodsSpec,
  SweepSpec,
} from '../../src/bigquery/log-queries.js';
import type { LogWarehouse, PageSink, QueryResult, RawRow, RunOptions } from '../../src/bigquery/log-warehouse.js';
import {
  isDatasetId,
  isProjectId,
  LOG_ANALYTICS_VIEW,
  SINK_SCHEMA,
  type LogSource,
  type Stream,
  type StreamTable,
} from '../../src/bigquery/query-builder.js';
import { STREAMS } from '../../src/bigquery/sink-table-names.js';
import { sinkSchema } from '../../src/demo/sink-tables.js';
import { RESULT_PAGE_ROWS } from '../../src/model/defaults.js';
import type { ContainerRef } from '../../src/model/log-path.js';
import type { QueryLabel, QueryStats } from '../../src/model/stats.js';
import { microsToRfc3339, type TimeRange } from '../../src/model/time-model.js';

export type JsonValue = string | number | boolean | null | JsonObject;
export interface JsonObject {
  [key: string]: JsonValue;
}

/** One log entry as the sink received it. */
export interface FakeEntry {
  namespace: string;
  pod: string;
  container: string;
  /** resource.labels.cluster_name; NULL when absent. */
  cluster?: string;
  stream: Stream;
  /** Epoch microseconds. */
  timestamp: bigint;
  /** null: an entry without one. */
  insertId: string | null;
  textPayload?: string;
  jsonPayload?: JsonObject;
  severity?: string;
  labels?: Record<string, string>;
}

/** Epoch microseconds of an RFC 3339 UTC time with up to six fraction digits. */
export function micros(rfc3339: string): bigint {
  const match = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,6}))?Z$/.exec(rfc3339);
  if (!match) throw new Error(`not an RFC 3339 UTC time: ${rfc3339}`);
  return BigInt(Date.parse(`${match[1]}Z`)) * 1000n + BigInt((match[2] ?? '').padEnd(6, '0'));
}

type FieldType = 'STRING' | 'FLOAT' | 'BOOLEAN' | RecordSchema;
/** A RECORD's fields by name, in schema order. */
type RecordSchema = Map<string, FieldType>;

interface SinkTable {
  entries: FakeEntry[];
  jsonPayload: RecordSchema;
  labels: RecordSchema;
}

const COLUMN_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

function typeOf(value: Exclude<JsonValue, null>, path: string): FieldType {
  if (typeof value === 'string') return 'STRING';
  if (typeof value === 'boolean') return 'BOOLEAN';
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new Error(`${path} is ${value}: JSON has no such number`);
    return 'FLOAT';
  }
  if (Array.isArray(value)) throw new Error(`${path} is an array: repeated fields are not modelled`);
  return new Map();
}

function typeName(type: FieldType): string {
  return typeof type === 'string' ? type : 'RECORD';
}

/** Adds the fields a value has and the schema lacks, as a sink widens its table. */
function widen(schema: RecordSchema, value: JsonObject, path: string): void {
  for (const [name, field] of Object.entries(value)) {
    const fieldPath = `${path}.${name}`;
    if (!COLUMN_NAME.test(name)) throw new Error(`${fieldPath}: not a BigQuery column name`);
    if (field === null) continue;
    const type = typeOf(field, fieldPath);
    const known = schema.get(name) ?? type;
    if (typeName(known) !== typeName(type)) {
      throw new Error(`${fieldPath} is ${typeName(type)}, but the table has it as ${typeName(known)}`);
    }
    schema.set(name, known);
    if (typeof known !== 'string') widen(known, field as JsonObject, fieldPath);
  }
}

function tableFields(schema: RecordSchema): TableField[] {
  return [...schema].map(([name, type]) => ({
    name,
    type: typeName(type),
    mode: 'NULLABLE',
    ...(typeof type !== 'string' && { fields: tableFields(type) }),
  }));
}

/** A FLOAT as the local server's TO_JSON_STRING writes it: shortest round trip, `.0` on whole numbers. */
function floatJson(value: number): string {
  const text = String(value === 0 ? 0 : value).replace('e+', 'e');
  return /[.e]/.test(text) ? text : `${text}.0`;
}

/** A STRING as JSON, control characters escaped with upper-case hex digits. */
function stringJson(value: string): string {
  return JSON.stringify(value).replace(/\\(\\|u[0-9a-f]{4})/g, (escape, what: string) =>
    what === '\\' ? escape : `\\u${what.slice(1).toUpperCase()}`,
  );
}

/** TO_JSON_STRING of a RECORD column. */
function recordJson(schema: RecordSchema, value: JsonObject | undefined): string {
  if (value === undefined) return 'null';
  const fields = [...schema].map(([name, type]) => `${JSON.stringify(name)}:${fieldJson(type, value[name])}`);
  return `{${fields.join(',')}}`;
}

function fieldJson(type: FieldType, value: JsonValue | undefined): string {
  if (value === undefined || value === null) return 'null';
  if (typeof type !== 'string') return recordJson(type, value as JsonObject);
  if (type === 'FLOAT') return floatJson(value as number);
  if (type === 'BOOLEAN') return String(value);
  return stringJson(value as string);
}

function stringBytes(value: string | null | undefined): number {
  return value === null || value === undefined ? 0 : 2 + Buffer.byteLength(value);
}

/** Bytes BigQuery counts for a RECORD value: the sum of its leaves. */
function recordBytes(schema: RecordSchema, value: JsonObject | undefined): number {
  if (value === undefined) return 0;
  let bytes = 0;
  for (const [name, type] of schema) {
    const field = value[name];
    if (field === undefined || field === null) continue;
    if (typeof type !== 'string') bytes += recordBytes(type, field as JsonObject);
    else if (type === 'STRING') bytes += stringBytes(field as string);
    else bytes += type === 'FLOAT' ? 8 : 1;
  }
  return bytes;
}

/** BigQuery's ascending order of STRINGs: NULL first, then by UTF-8 bytes. */
function compareStrings(a: string | null, b: string | null): number {
  if (a === b) return 0;
  if (a === null) return -1;
  if (b === null) return 1;
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

/** The entry's top-level controller label, as the listing reads it: NULL where its table lacks the field. */
function controllerOf(entry: FakeEntry, table: StreamTable): string | null {
  const controller = SINK_SCHEMA.controller;
  if (!controller || !table.columns.has(controller.path)) return null;
  return entry.labels?.[controller.path.slice('labels.'.length)] ?? null;
}

function compareRows(a: readonly (string | null)[], b: readonly (string | null)[]): number {
  for (let index = 0; index < a.length; index++) {
    const order = compareStrings(a[index] ?? null, b[index] ?? null);
    if (order !== 0) return order;
  }
  return 0;
}

const localTimeFormats = new Map<string, Intl.DateTimeFormat>();

/** DATE(timestamp, zone) and EXTRACT(HOUR FROM timestamp AT TIME ZONE zone). */
function localTime(timestamp: bigint, timeZone: string): { day: string; hour: number } {
  let format = localTimeFormats.get(timeZone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
    });
    localTimeFormats.set(timeZone, format);
  }
  const parts: Record<string, string> = {};
  for (const part of format.formatToParts(Number(timestamp / 1000n))) parts[part.type] = part.value;
  return { day: `${parts.year}-${parts.month}-${parts.day}`, hour: Number(parts.hour) };
}

const MIB = 1_048_576;
const MIN_BYTES_PER_TABLE = 10 * MIB;
const DAY_MICROS = 86_400_000_000n;
const TIMESTAMP_BYTES = 8;

/** Where a held query stops until the test lets it go on. */
export class Gate {
  private isOpen = false;
  private arrivals = 0;
  private readonly waiting: (() => void)[] = [];
  private readonly watchers: { count: number; resolve: () => void }[] = [];

  /** Queries that have come to the gate so far, waiting or let through. */
  get arrived(): number {
    return this.arrivals;
  }

  /** Resolves once `count` queries have come to the gate. */
  reached(count = 1): Promise<void> {
    if (this.arrivals >= count) return Promise.resolve();
    return new Promise((resolve) => this.watchers.push({ count, resolve }));
  }

  /** Lets every waiting query, and every later one, through. */
  open(): void {
    this.isOpen = true;
    for (const resume of this.waiting.splice(0)) resume();
  }

  /** Waits here while the gate is closed. */
  async pass(): Promise<void> {
    this.arrivals++;
    for (const watcher of this.watchers.filter((candidate) => candidate.count <= this.arrivals)) {
      this.watchers.splice(this.watchers.indexOf(watcher), 1);
      watcher.resolve();
    }
    if (!this.isOpen) await new Promise<void>((resolve) => this.waiting.push(resolve));
  }
}

export interface HoldOptions {
  /** Which queries stop at the gate; every one when absent. */
  match?: (query: LogQuery) => boolean;
  /** Stop after handing over this many pages; 0 (the default) before the first. */
  afterPages?: number;
  /**
   * Stop the reads of kept results (openResult's readRows) instead of queries. `afterPages` then
   * counts the pages of entries handed over by all the reads of matching results together, in the
   * order they were handed over; reads that start in a sweep's index (at its head) neither count
   * nor stop.
   */
  reads?: boolean;
}

export interface FakeWarehouseOptions {
  /** Rows per result page; the real backend's page size when absent. */
  pageRows?: number;
  /** Time each query takes before its first page. */
  latencyMs?: number;
  /** Time between two pages. */
  pageLatencyMs?: number;
}

/** A query the fake ran, in the order they started. */
export interface RanQuery {
  spec: LogQuery['spec'];
  label: QueryLabel;
  source: LogSource;
  /** Set once the query has handed over its last page. */
  stats?: QueryStats;
}

function sleep(ms: number): Promise<void> {
  return ms > 0 ? new Promise((resolve) => setTimeout(resolve, ms)) : Promise.resolve();
}

function containerOf(entry: FakeEntry, ref: ContainerRef): boolean {
  return entry.namespace === ref.namespace && entry.pod === ref.pod && entry.container === ref.container;
}

/** An entry as the query reads it: with the table it came from. */
interface Scanned {
  entry: FakeEntry;
  table: StreamTable;
  schema: SinkTable;
}

export class FakeWarehouse implements LogWarehouse {
  private readonly tables = new Map<Stream, SinkTable>(
    STREAMS.map((stream) => [stream, { entries: [], jsonPayload: new Map(), labels: new Map() }]),
  );
  private readonly holds: { gate: Gate; options: HoldOptions; pagesRead: number }[] = [];
  private nextJob = 1;
  private inFlight = 0;
  private mostInFlight = 0;
  /** Every query run, in the order they started. */
  readonly queries: RanQuery[] = [];
  /** Calls of discoverSource. */
  discoveries = 0;

  constructor(private readonly options: FakeWarehouseOptions = {}) {}

  /** Adds entries, as the sink's streaming inserts would; an entry inserted twice is there twice. */
  insert(entries: Iterable<FakeEntry>): void {
    for (const entry of entries) {
      const table = this.table(entry.stream);
      if (entry.jsonPayload) widen(table.jsonPayload, entry.jsonPayload, 'jsonPayload');
      if (entry.labels) widen(table.labels, entry.labels, 'labels');
      table.entries.push(entry);
    }
  }

  /** Queries still running. */
  get running(): number {
    return this.inFlight;
  }

  /** The most queries that ran at once. */
  get peakRunning(): number {
    return this.mostInFlight;
  }

  /** What all queries that finished billed together. */
  get bytesBilled(): number {
    return this.queries.reduce((total, query) => total + (query.stats?.bytesBilled ?? 0), 0);
  }

  queriesOf(kind: LogQuery['spec']['kind']): RanQuery[] {
    return this.queries.filter((query) => query.spec.kind === kind);
  }

  /** Stops matching queries at a gate until it is opened. */
  hold(options: HoldOptions = {}): Gate {
    const gate = new Gate();
    this.holds.push({ gate, options, pagesRead: 0 });
    return gate;
  }

  /** The schema the sink would have given a stream's table for the entries inserted so far. */
  sinkTableFields(stream: Stream): TableField[] {
    const table = this.table(stream);
    return sinkSchema(tableFields(table.jsonPayload)).flatMap((field) => {
      if (field.name !== 'labels') return [field];
      return table.labels.size > 0 ? [{ ...field, fields: tableFields(table.labels) }] : [];
    });
  }

  async discoverSource(
    projectId: string,
    datasetId: string,
    choice: SchemaChoice = { kind: 'auto' },
  ): Promise<LogSource> {
    if (!isProjectId(projectId)) throw new Error(`invalid BigQuery project id: "${projectId}"`);
    if (!isDatasetId(datasetId)) throw new Error(`invalid BigQuery dataset id: "${datasetId}"`);
    this.discoveries++;
    await sleep(this.options.latencyMs ?? 0);
    if (choice.kind === 'log-analytics') {
      throw failure(`dataset ${projectId}:${datasetId} has no ${LOG_ANALYTICS_VIEW} view`, 'notFound');
    }
    if (choice.kind === 'custom')
      throw failure(`Not found: Table ${projectId}:${datasetId}.${choice.table}`, 'notFound');
    const tables = STREAMS.map((stream) => ({
      stream,
      tableId: stream,
      columns: columnPaths(this.sinkTableFields(stream)),
    }));
    // Where BigQuery puts a dataset created without a location, as the local server does too.
    return { projectId, datasetId, layout: 'partitioned', tables, schema: SINK_SCHEMA, location: 'US' };
  }

  async openResult(query: LogQuery, options: RunOptions = {}): Promise<QueryResult> {
    const requestedAtMs = options.requestedAtMs ?? Date.now();
    const ran: RanQuery = { spec: query.spec, label: query.label, source: query.source };
    this.queries.push(ran);
    this.inFlight++;
    this.mostInFlight = Math.max(this.mostInFlight, this.inFlight);
    // The result is the job's snapshot: entries inserted while it runs are not in it.
    const rows = this.answer(query);
    let stats: QueryStats;
    try {
      const billing = this.billing(query);
      await sleep(this.options.latencyMs ?? 0);
      await this.passHolds(query, 0);
      stats = {
        jobId: `fake_job_${this.nextJob++}`,
        ...billing,
        durationMs: Date.now() - requestedAtMs,
        rows: rows.length,
      };
      ran.stats = stats;
    } finally {
      this.inFlight--;
    }
    const pageRows = this.options.pageRows ?? RESULT_PAGE_ROWS;
    // A sweep's result starts with its index (part 0); reads of the rows after it are entry reads.
    const head = query.spec.kind === 'sweep' ? rows.filter((row) => row[0] === '0').length : 0;
    const readRows = async (start: number, count: number, deliver: (rows: RawRow[]) => Promise<void>) => {
      for (let next = start, end = Math.min(rows.length, start + count); next < end; next += pageRows) {
        await sleep(this.options.pageLatencyMs ?? 0);
        if (start >= head) await this.passReadHolds(query);
        await deliver(rows.slice(next, Math.min(end, next + pageRows)));
      }
    };
    return {
      stats,
      totalRows: rows.length,
      readRows,
      // As the Storage Read API path hands lines over: a page at a time, checked row by row.
      readLines: async (start, count, spec, deliver) => {
        let next = start;
        await readRows(start, count, async (page) => {
          const first = next;
          next += page.length;
          await deliver(linesOfRows(page, first, spec), page.length);
        });
      },
    };
  }

  async runQuery(query: LogQuery, sink: PageSink, options: RunOptions = {}): Promise<QueryStats> {
    const requestedAtMs = options.requestedAtMs ?? Date.now();
    const ran: RanQuery = { spec: query.spec, label: query.label, source: query.source };
    this.queries.push(ran);
    this.inFlight++;
    this.mostInFlight = Math.max(this.mostInFlight, this.inFlight);
    try {
      const rows = this.answer(query);
      const billing = this.billing(query);
      await sleep(this.options.latencyMs ?? 0);
      const pageRows = this.options.pageRows ?? RESULT_PAGE_ROWS;
      for (let index = 0, start = 0; index === 0 || start < rows.length; index++, start += pageRows) {
        if (index > 0) await sleep(this.options.pageLatencyMs ?? 0);
        await this.passHolds(query, index);
        await sink.page(rows.slice(start, start + pageRows));
      }
      ran.stats = {
        jobId: `fake_job_${this.nextJob++}`,
        ...billing,
        durationMs: Date.now() - requestedAtMs,
        rows: rows.length,
      };
      return ran.stats;
    } finally {
      this.inFlight--;
    }
  }

  private table(stream: Stream): SinkTable {
    const table = this.tables.get(stream);
    if (!table) throw new Error(`no table for stream ${String(stream)}`);
    return table;
  }

  /** The sink table a table of the query's source reads. */
  private tableOf(table: StreamTable): SinkTable {
    if (table.stream === undefined) throw new Error(`table ${table.tableId} has no stream: not a sink's table`);
    return this.table(table.stream);
  }

  private async passHolds(query: LogQuery, pagesHandedOver: number): Promise<void> {
    for (const { gate, options } of [...this.holds]) {
      if (options.reads || (options.afterPages ?? 0) !== pagesHandedOver || !(options.match?.(query) ?? true)) continue;
      await gate.pass();
    }
  }

  /** Before a page of entries of a kept result is handed over. */
  private async passReadHolds(query: LogQuery): Promise<void> {
    for (const hold of [...this.holds]) {
      const { gate, options } = hold;
      if (!options.reads || !(options.match?.(query) ?? true)) continue;
      if (hold.pagesRead++ === (options.afterPages ?? 0)) await gate.pass();
    }
  }

  private answer(query: LogQuery): RawRow[] {
    const { spec } = query;
    switch (spec.kind) {
      case 'sweep':
        return this.sweep(query, spec);
      case 'entries':
        return this.entries(query, spec);
      case 'listing':
        return this.listing(query, spec);
      case 'hours':
        return this.hours(query, spec);
      case 'pods':
        if (spec.labels !== undefined) throw new Error('the fake warehouse does not select pods by label');
        return this.pods(query, spec);
      case 'search':
        throw new Error('the fake warehouse does not search; test grep against the local server');
    }
  }

  /** The entries the statement's WHERE keeps: in the range, and inside the mount's restrictions. */
  private scan(source: LogSource, range: TimeRange): Scanned[] {
    if ((source.schema ?? SINK_SCHEMA).kind !== 'sink')
      throw new Error('the fake warehouse holds a sink’s tables only');
    const names = source.namespaces?.names;
    const pattern = source.namespaces?.pattern;
    const wholeMatch = pattern === undefined ? undefined : new RegExp(`^(?:${pattern})$`);
    const start = BigInt(range.startMs) * 1000n;
    const end = BigInt(range.endMs) * 1000n;
    const scanned: Scanned[] = [];
    for (const table of source.tables) {
      const schema = this.tableOf(table);
      for (const entry of schema.entries) {
        if (entry.timestamp < start || entry.timestamp >= end) continue;
        if (names && !names.includes(entry.namespace)) continue;
        if (wholeMatch && !wholeMatch.test(entry.namespace)) continue;
        if (source.cluster !== undefined && entry.cluster !== source.cluster) continue;
        scanned.push({ entry, table, schema });
      }
    }
    return scanned;
  }

  private entries(query: LogQuery, spec: EntriesSpec): RawRow[] {
    const firstStart = BigInt(spec.first.startMs) * 1000n;
    const firstEnd = BigInt(spec.first.endMs) * 1000n;
    const rows = this.scan(query.source, spec.range)
      .filter(({ entry }) => containerOf(entry, spec.ref))
      .map((scanned) => ({
        first: scanned.entry.timestamp >= firstStart && scanned.entry.timestamp < firstEnd,
        timestamp: scanned.entry.timestamp,
        row: this.entryRow(scanned, spec.fullEntries),
      }));
    rows.sort(
      (a, b) =>
        Number(b.first) - Number(a.first) ||
        (a.timestamp === b.timestamp ? 0 : a.timestamp < b.timestamp ? -1 : 1) ||
        // insertId, then stream
        compareRows(a.row.slice(1, 3), b.row.slice(1, 3)),
    );
    return rows.map(({ row }) => row);
  }

  /** The index (part 0), then every entry of the scope (part 1), both in container order. */
  private sweep(query: LogQuery, spec: SweepSpec): RawRow[] {
    const { namespaces, container } = spec.scope;
    const scanned = this.scan(query.source, spec.range).filter(
      ({ entry }) =>
        (namespaces === undefined || namespaces.includes(entry.namespace)) &&
        (container === undefined || entry.container === container),
    );
    const names = (entry: FakeEntry) => [entry.namespace, entry.pod, entry.container];
    // lineBytes: the bytes of the hour's text lines, null once an entry has no text payload or
    // shares its insert id with another.
    type IndexEntry = { key: string[]; hour: number; count: number; lineBytes: number | null; ids: Set<string> };
    const index = new Map<string, IndexEntry>();
    for (const item of scanned) {
      const { entry } = item;
      const { day, hour } = localTime(entry.timestamp, spec.timeZone);
      const key = [...names(entry), day];
      const id = JSON.stringify([...key, hour]);
      const found = index.get(id) ?? { key, hour, count: 0, lineBytes: 0, ids: new Set<string>() };
      found.count++;
      const [, insertId, , text] = this.entryRow(item, false);
      const entryId = String(insertId);
      if (text === null || text === undefined || (insertId != null && found.ids.has(entryId))) found.lineBytes = null;
      else if (found.lineBytes !== null) found.lineBytes += Buffer.byteLength(text.replace(/\n$/, '')) + 1;
      if (insertId != null) found.ids.add(entryId);
      index.set(id, found);
    }
    const noEntry = Array<null>(spec.fullEntries ? 7 : 5).fill(null);
    const indexRows = [...index.values()]
      .sort((a, b) => compareRows(a.key, b.key) || a.hour - b.hour)
      .map(({ key, hour, count, lineBytes }): RawRow => [
        '0',
        ...key,
        String(hour),
        String(count),
        lineBytes === null ? null : String(lineBytes),
        ...noEntry,
      ]);
    const entryRows = scanned
      .map((item) => ({
        names: names(item.entry),
        timestamp: item.entry.timestamp,
        row: this.entryRow(item, spec.fullEntries),
      }))
      .sort(
        (a, b) =>
          compareRows(a.names, b.names) ||
          (a.timestamp === b.timestamp ? 0 : a.timestamp < b.timestamp ? -1 : 1) ||
          compareRows(a.row.slice(1, 3), b.row.slice(1, 3)),
      )
      .map(({ names, row }): RawRow => ['1', ...names, null, null, null, null, ...row]);
    return [...indexRows, ...entryRows];
  }

  private entryRow({ entry, table, schema }: Scanned, fullEntries: boolean): RawRow {
    const column = <T>(name: string, value: () => T): T | null => (table.columns.has(name) ? value() : null);
    const row: RawRow = [
      entry.timestamp.toString(),
      column('insertId', () => entry.insertId),
      table.stream ?? null,
      column('textPayload', () => entry.textPayload ?? null),
      column('jsonPayload', () => recordJson(schema.jsonPayload, entry.jsonPayload)),
    ];
    if (fullEntries) {
      row.push(
        column('severity', () => entry.severity ?? null),
        column('labels', () => recordJson(schema.labels, entry.labels)),
      );
    }
    return row;
  }

  private listing(query: LogQuery, spec: ListingSpec): RawRow[] {
    const days = new Map<string, { key: string[]; hours: number; controller: string | null; latest: bigint }>();
    const largest = (a: string | null, b: string | null) =>
      a === null ? b : b === null || compareStrings(a, b) >= 0 ? a : b;
    for (const { entry, table } of this.scan(query.source, spec.window)) {
      const { day, hour } = localTime(entry.timestamp, spec.timeZone);
      const key = [entry.namespace, entry.pod, entry.container, day];
      const found = days.get(JSON.stringify(key)) ?? { key, hours: 0, controller: null, latest: entry.timestamp };
      found.hours |= 1 << hour;
      if (entry.timestamp > found.latest) found.latest = entry.timestamp;
      found.controller = largest(found.controller, controllerOf(entry, table));
      days.set(JSON.stringify(key), found);
    }
    return [...days.values()]
      .map(({ key, hours, controller, latest }) => [...key, String(hours), controller, latest.toString()])
      .sort(compareRows);
  }

  private hours(query: LogQuery, spec: HoursSpec): RawRow[] {
    const hours = new Set<number>();
    for (const { entry } of this.scan(query.source, spec.range)) {
      if (containerOf(entry, spec.ref)) hours.add(localTime(entry.timestamp, spec.timeZone).hour);
    }
    return [...hours].sort((a, b) => a - b).map((hour) => [String(hour)]);
  }

  private pods(query: LogQuery, spec: PodsSpec): RawRow[] {
    const found = new Map<string, RawRow>();
    for (const { entry } of this.scan(query.source, spec.window)) {
      if (entry.container !== spec.container) continue;
      if (spec.namespace !== undefined && entry.namespace !== spec.namespace) continue;
      const row = [entry.namespace, entry.pod, localTime(entry.timestamp, spec.timeZone).day];
      found.set(JSON.stringify(row), row);
    }
    return [...found.values()].sort(compareRows);
  }

  private billing(query: LogQuery): { bytesProcessed: number; bytesBilled: number } {
    const { spec, source } = query;
    const range = spec.kind === 'listing' || spec.kind === 'pods' ? spec.window : spec.range;
    // Whole partitions: every entry of each UTC day the range touches.
    const firstPartition = ((BigInt(range.startMs) * 1000n) / DAY_MICROS) * DAY_MICROS;
    const afterLastPartition = ((BigInt(range.endMs) * 1000n + DAY_MICROS - 1n) / DAY_MICROS) * DAY_MICROS;
    let processed = 0;
    let billed = 0;
    for (const table of source.tables) {
      const schema = this.tableOf(table);
      let bytes = 0;
      for (const entry of schema.entries) {
        if (entry.timestamp < firstPartition || entry.timestamp >= afterLastPartition) continue;
        bytes += this.referencedBytes(entry, query, table, schema);
      }
      processed += bytes;
      if (bytes > 0) billed += Math.max(bytes, MIN_BYTES_PER_TABLE);
    }
    return { bytesProcessed: processed, bytesBilled: Math.ceil(billed / MIB) * MIB };
  }

  private referencedBytes(entry: FakeEntry, query: LogQuery, table: StreamTable, schema: SinkTable): number {
    let bytes = TIMESTAMP_BYTES + stringBytes(entry.namespace) + stringBytes(entry.pod) + stringBytes(entry.container);
    if (query.source.cluster !== undefined) bytes += stringBytes(entry.cluster);
    if (query.spec.kind === 'listing') bytes += stringBytes(controllerOf(entry, table));
    if (query.spec.kind !== 'entries' && query.spec.kind !== 'sweep') return bytes;
    const has = (name: string) => table.columns.has(name);
    if (has('insertId')) bytes += stringBytes(entry.insertId);
    if (has('textPayload')) bytes += stringBytes(entry.textPayload);
    if (has('jsonPayload')) bytes += recordBytes(schema.jsonPayload, entry.jsonPayload);
    if (query.spec.fullEntries) {
      if (has('severity')) bytes += stringBytes(entry.severity);
      if (has('labels')) bytes += recordBytes(schema.labels, entry.labels);
    }
    return bytes;
  }
}

/** The row the sink writes for an entry, as insertAll takes it: what the conformance test loads. */
export function sinkRow(entry: FakeEntry, projectId: string): Record<string, unknown> {
  const time = microsToRfc3339(entry.timestamp);
  return {
    logName: `projects/${projectId}/logs/${entry.stream}`,
    resource: {
      type: 'k8s_container',
      labels: {
        project_id: projectId,
        location: 'europe-west1',
        ...(entry.cluster !== undefined && { cluster_name: entry.cluster }),
        namespace_name: entry.namespace,
        pod_name: entry.pod,
        container_name: entry.container,
      },
    },
    ...(entry.textPayload !== undefined && { textPayload: entry.textPayload }),
    ...(entry.jsonPayload !== undefined && { jsonPayload: entry.jsonPayload }),
    timestamp: time,
    receiveTimestamp: time,
    ...(entry.severity !== undefined && { severity: entry.severity }),
    ...(entry.insertId !== null && { insertId: entry.insertId }),
    ...(entry.labels !== undefined && { labels: entry.labels }),
  };
}
