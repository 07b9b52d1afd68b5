// Builds every SQL statement bqlogfs sends. All statements are GoogleSQL; every value is a named
// query parameter, and the only names pasted into the text are validated BigQuery identifiers.
// Which columns hold what is described by the source's LogSchema (a sink's tables, a Log Analytics
// linked dataset, or a table the user described); this file turns that description into SQL.
import { DEFAULT_TIME_ZONE } from '../model/defaults.js';
import type { ContainerRef } from '../model/log-path.js';
import type { TimeRange } from '../model/time-model.js';
import type { BuiltQuery, ColumnRef, LogSchema, LogSource, StreamTable } from './log-source.js';
import { podLabelFilter, type PodLabelScope } from './pod-label-filters.js';
import { containerFilter, scopeFilter } from './scope-filters.js';
import { firstPartsOnly, joinedEntriesCtes, joinsSplitParts, splitItems, splitScan } from './split-parts.js';
import {
  emptyQuery,
  jsonTextSql,
  nullString,
  schemaOf,
  selectItem,
  tableHas,
  tableReference,
  timestampItem,
  unionOfStreams,
  valueSql,
} from './sql-text.js';

export * from './log-source.js';
export { isColumnPath, isDatasetId, isProjectId, isTableId } from './sql-text.js';

/**
 * Every (namespace, pod, container, day) with entries in the window, with a bitmask of the hours
 * that have entries, the pod's top-level controller (for workload directories) and the time of the
 * latest entry (for directory times): one query feeds every directory listing inside the window.
 * Reads only label and timestamp columns.
 */
export function containerDaysQuery(source: LogSource, window: TimeRange, timeZone = DEFAULT_TIME_ZONE): BuiltQuery {
  const schema = schemaOf(source);
  const query = emptyQuery();
  query.params.time_zone = timeZone;
  query.types.time_zone = 'STRING';
  const splits = joinsSplitParts(source);
  const { scanned, kept } = splitScan(query, window, splits);
  const branches = unionOfStreams(source, (table) => {
    const where = scopeFilter(source, query, scanned, 'window');
    return (
      `  SELECT ${valueSql(schema.namespace)} AS namespace, ${valueSql(schema.pod)} AS pod,` +
      ` ${valueSql(schema.container)} AS container, ${timestampItem(source)},\n` +
      `    ${controllerItem(schema, table)}${withSplit(source, table, splits)}\n` +
      `  FROM ${tableReference(source, table)}\n  WHERE ${where}`
    );
  });
  const rows = rowsOf(branches, ['namespace', 'pod', 'container', 'timestamp', 'controller'], splits);
  query.sql =
    `${rows.cte}SELECT namespace, pod, container, DATE(timestamp, @time_zone) AS day,` +
    ' BIT_OR(1 << EXTRACT(HOUR FROM timestamp AT TIME ZONE @time_zone)) AS hours,\n' +
    '  MAX(controller) AS controller, MAX(timestamp) AS latest\n' +
    `FROM (\n${rows.from}\n)\n` +
    `WHERE namespace IS NOT NULL AND pod IS NOT NULL AND container IS NOT NULL${andKept(kept)}\n` +
    'GROUP BY namespace, pod, container, day\nORDER BY namespace, pod, container, day';
  return query;
}

/** The pod's top-level controller (workload directories), NULL where the table has no such field. */
function controllerItem(schema: LogSchema, table: StreamTable): string {
  const { controller } = schema;
  if (!controller || !table.columns.has(controller.path)) return nullString('controller');
  return `${valueSql(controller)} AS controller`;
}

/** The hours of one container-day that hold at least one entry. Reads only label and timestamp columns. */
export function hoursQuery(
  source: LogSource,
  ref: ContainerRef,
  day: TimeRange,
  timeZone = DEFAULT_TIME_ZONE,
): BuiltQuery {
  const query = emptyQuery();
  query.params.time_zone = timeZone;
  query.types.time_zone = 'STRING';
  const splits = joinsSplitParts(source);
  const { scanned, kept } = splitScan(query, day, splits);
  const branches = unionOfStreams(source, (table) => {
    const where = `${scopeFilter(source, query, scanned, 'range')}\n    AND ${containerFilter(source, query, ref)}`;
    return (
      `  SELECT ${timestampItem(source)}${withSplit(source, table, splits)}\n` +
      `  FROM ${tableReference(source, table)}\n  WHERE ${where}`
    );
  });
  const rows = rowsOf(branches, ['timestamp'], splits);
  query.sql =
    `${rows.cte}SELECT DISTINCT EXTRACT(HOUR FROM timestamp AT TIME ZONE @time_zone) AS hour\nFROM (\n${rows.from}\n)\n` +
    (kept ? `WHERE ${kept}\n` : '') +
    'ORDER BY hour';
  return query;
}

/** The split columns a branch adds when the source's parts are joined; nothing otherwise. */
export function withSplit(source: LogSource, table: StreamTable, splits: boolean): string {
  return splits ? `, ${splitItems(source, table)}` : '';
}

/** What a statement that counts hours or days reads: the branches, or only the first part of each split entry. */
function rowsOf(branches: string, columns: readonly string[], splits: boolean): { cte: string; from: string } {
  return splits ? firstPartsOnly(branches, columns) : { cte: '', from: branches };
}

export function andKept(kept: string): string {
  return kept ? ` AND ${kept}` : '';
}

/** The stream column of one table's branch. */
function streamItem(schema: LogSchema, table: StreamTable): string {
  const { stream } = schema;
  if (stream.from === 'table') return table.stream === undefined ? nullString('stream') : `'${table.stream}' AS stream`;
  if (!tableHas(table, stream.column)) return nullString('stream');
  if (stream.from === 'column') return selectItem(valueSql(stream.column), 'stream');
  return `IF(${valueSql(stream.column)} LIKE '%/stderr', 'stderr', 'stdout') AS stream`;
}

/** One table's entry columns: timestamp, insertId, stream, textPayload, jsonPayload (and severity, labels). */
export function entryItems(source: LogSource, table: StreamTable, fullEntries: boolean): string {
  const schema = schemaOf(source);
  const value = (role: ColumnRef | undefined, name: string) =>
    tableHas(table, role) ? selectItem(valueSql(role), name) : nullString(name);
  const json = (role: ColumnRef | undefined, name: string) =>
    tableHas(table, role) ? `${jsonTextSql(role)} AS ${name}` : nullString(name);
  const extra = fullEntries ? `, ${value(schema.severity, 'severity')}, ${json(schema.labels, 'labels')}` : '';
  return (
    `${timestampItem(source)}, ${value(schema.insertId, 'insertId')}, ${streamItem(schema, table)},` +
    ` ${value(schema.text, 'textPayload')}, ${json(schema.json, 'jsonPayload')}${extra}`
  );
}

/**
 * The entries of one container in a range, stdout and stderr merged, in file order
 * (timestamp, insertId, stream), with the entries of `first` (the requested hour) streamed first.
 * Columns, in this order: timestamp, insertId, stream, textPayload, jsonPayload, and with
 * `fullEntries` also severity and labels (JSON text).
 */
export function entriesQuery(
  source: LogSource,
  ref: ContainerRef,
  range: TimeRange,
  first: TimeRange,
  fullEntries = false,
): BuiltQuery {
  const schema = schemaOf(source);
  const query = emptyQuery();
  const splits = joinsSplitParts(source);
  const { scanned, kept } = splitScan(query, range, splits);
  const branches = unionOfStreams(source, (table) => {
    const where = `${scopeFilter(source, query, scanned, 'range')}\n    AND ${containerFilter(source, query, ref)}`;
    return (
      `  SELECT ${entryItems(source, table, fullEntries)}${withSplit(source, table, splits)}\n` +
      `  FROM ${tableReference(source, table)}\n  WHERE ${where}`
    );
  });
  const columns = ['timestamp', 'insertId', 'stream', 'textPayload', 'jsonPayload'];
  if (fullEntries) columns.push('severity', 'labels');
  query.params.first_start = new Date(first.startMs);
  query.params.first_end = new Date(first.endMs);
  query.types.first_start = 'TIMESTAMP';
  query.types.first_end = 'TIMESTAMP';
  // Without an insert id, entries of the same time and stream are ordered by their text, so every
  // fetch writes them in the same order.
  const tieBreak = schema.insertId === undefined ? ', textPayload, jsonPayload' : '';
  query.sql =
    (splits ? `WITH ${joinedEntriesCtes(branches, [], columns)}\n` : '') +
    `SELECT ${columns.join(', ')}\n` +
    (splits ? `FROM entries WHERE ${kept}\n` : `FROM (\n${branches}\n)\n`) +
    `ORDER BY IF(timestamp >= @first_start AND timestamp < @first_end, 0, 1), timestamp, insertId, stream${tieBreak}`;
  return query;
}

/**
 * The days on which each pod of a container (optionally in one namespace) has entries in the window:
 * what `fetch` needs to know which pods to write and which container-days to read. Reads only label
 * and timestamp columns.
 */
export function podDaysQuery(
  source: LogSource,
  /** Also: only pods whose labels match. */
  selection: { container: string; namespace?: string } & PodLabelScope,
  window: TimeRange,
  /** Names the days, as the hour files do. */
  timeZone = DEFAULT_TIME_ZONE,
): BuiltQuery {
  const schema = schemaOf(source);
  const query = emptyQuery();
  query.params.time_zone = timeZone;
  query.types.time_zone = 'STRING';
  query.params.container = selection.container;
  query.types.container = 'STRING';
  let labels = `${valueSql(schema.container)} = @container`;
  if (selection.namespace !== undefined) {
    query.params.namespace = selection.namespace;
    query.types.namespace = 'STRING';
    labels += ` AND ${valueSql(schema.namespace)} = @namespace`;
  }
  const splits = joinsSplitParts(source);
  const { scanned, kept } = splitScan(query, window, splits);
  const branches = unionOfStreams(source, (table) => {
    const where = `${scopeFilter(source, query, scanned, 'window')}\n    AND ${labels}${podLabelFilter(source, table, selection, query)}`;
    return (
      `  SELECT ${valueSql(schema.namespace)} AS namespace, ${valueSql(schema.pod)} AS pod,` +
      ` ${timestampItem(source)}${withSplit(source, table, splits)}\n` +
      `  FROM ${tableReference(source, table)}\n  WHERE ${where}`
    );
  });
  const rows = rowsOf(branches, ['namespace', 'pod', 'timestamp'], splits);
  query.sql =
    `${rows.cte}SELECT DISTINCT namespace, pod, DATE(timestamp, @time_zone) AS day\nFROM (\n${rows.from}\n)\n` +
    `WHERE namespace IS NOT NULL AND pod IS NOT NULL${andKept(kept)}\nORDER BY namespace, pod, day`;
  return query;
}

/** Which entries a sweep reads: every container of some namespaces, or of one container name. */
export interface SweepScope {
  /** Only these namespaces; all that the mount shows when absent. */
  namespaces?: readonly string[];
  /** Only containers of this name. */
  container?: string;
}

/** Columns a sweep's result starts with; the entry columns of `entriesQuery` follow them. */
export const SWEEP_INDEX_COLUMNS = ['part', 'namespace', 'pod', 'container', 'day', 'hour', 'entries'] as const;

/**
 * Every entry in a range of all containers in a scope, in one statement that BigQuery bills once for
 * the range's partitions, whatever the number of containers. Its result starts with an index: one
 * row per (namespace, pod, container, local day, local hour) with the number of entries
 * (`part` 0), followed by the entries themselves (`part` 1) in the same container order, each
 * container's in file order (timestamp, insertId, stream). So the rows of any container-hour sit at
 * an offset the index gives, and can be read from the query's result without another query.
 * Columns: SWEEP_INDEX_COLUMNS, then those of `entriesQuery`.
 */
export function sweepQuery(
  source: LogSource,
  scope: SweepScope,
  range: TimeRange,
  timeZone: string,
  fullEntries = false,
): BuiltQuery {
  const schema = schemaOf(source);
  const query = emptyQuery();
  query.params.time_zone = timeZone;
  query.types.time_zone = 'STRING';
  let labels = '';
  if (scope.namespaces !== undefined) {
    query.params.sweep_namespaces = [...scope.namespaces];
    query.types.sweep_namespaces = ['STRING'];
    labels += `\n    AND ${valueSql(schema.namespace)} IN UNNEST(@sweep_namespaces)`;
  }
  if (scope.container !== undefined) {
    query.params.container = scope.container;
    query.types.container = 'STRING';
    labels += `\n    AND ${valueSql(schema.container)} = @container`;
  }
  const entryColumns = ['timestamp', 'insertId', 'stream', 'textPayload', 'jsonPayload'];
  if (fullEntries) entryColumns.push('severity', 'labels');
  const splits = joinsSplitParts(source);
  const { scanned, kept } = splitScan(query, range, splits);
  const branches = unionOfStreams(source, (table) => {
    const where = `${scopeFilter(source, query, scanned, 'range')}${labels}`;
    return (
      `  SELECT ${valueSql(schema.namespace)} AS namespace, ${valueSql(schema.pod)} AS pod,` +
      ` ${valueSql(schema.container)} AS container, ${entryItems(source, table, fullEntries)}` +
      `${withSplit(source, table, splits)}\n  FROM ${tableReference(source, table)}\n  WHERE ${where}`
    );
  });
  const keys = ['namespace', 'pod', 'container'];
  const named = `namespace IS NOT NULL AND pod IS NOT NULL AND container IS NOT NULL${andKept(kept)}`;
  const noEntry = entryColumns
    .map((column) => (column === 'timestamp' ? 'CAST(NULL AS TIMESTAMP) AS timestamp' : nullString(column)))
    .join(', ');
  const tieBreak = schema.insertId === undefined ? ', textPayload, jsonPayload' : '';
  query.sql =
    `WITH ${splits ? joinedEntriesCtes(branches, keys, entryColumns) : `entries AS (\n${branches}\n)`}\n` +
    'SELECT * FROM (\n' +
    '  SELECT 0 AS part, namespace, pod, container, DATE(timestamp, @time_zone) AS day,' +
    ' EXTRACT(HOUR FROM timestamp AT TIME ZONE @time_zone) AS hour, COUNT(*) AS entries,' +
    ` ${noEntry}\n  FROM entries WHERE ${named}\n  GROUP BY namespace, pod, container, day, hour\n` +
    '  UNION ALL\n' +
    '  SELECT 1 AS part, namespace, pod, container, CAST(NULL AS DATE) AS day, CAST(NULL AS INT64) AS hour,' +
    ` CAST(NULL AS INT64) AS entries, ${entryColumns.join(', ')}\n  FROM entries WHERE ${named}\n)\n` +
    `ORDER BY part, namespace, pod, container, day, hour, timestamp, insertId, stream${tieBreak}`;
  return query;
}
