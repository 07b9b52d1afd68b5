// Builds every SQL statement bqlogfs sends. All statements are GoogleSQL; every value is a named
// query parameter, and the only names pasted into the text are validated BigQuery identifiers.
// Which columns hold what is described by the source's LogSchema (a sink's tables, a Log Analytics
// linked dataset, or a table the user described); this file and the ones it re-exports turn that
// description into SQL.
import { DEFAULT_TIME_ZONE } from '../model/defaults.js';
import type { ContainerRef } from '../model/log-path.js';
import type { TimeRange } from '../model/time-model.js';
import type { BuiltQuery, LogSchema, LogSource, StreamTable } from './log-source.js';
import { podLabelFilter, type PodLabelScope } from './pod-label-filters.js';
import { containerFilter, scopeFilter } from './scope-filters.js';
import { andKept, entryItems, withSplit } from './entry-columns.js';
import { firstPartsOnly, joinedEntriesCtes, joinsSplitParts, splitScan } from './split-parts.js';
import {
  emptyQuery,
  nullString,
  schemaOf,
  tableReference,
  timestampItem,
  unionOfStreams,
  valueSql,
} from './sql-text.js';

export * from './log-source.js';
export * from './sweep-query.js';
export * from './entry-columns.js';
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

/** What a statement that counts hours or days reads: the branches, or only the first part of each split entry. */
function rowsOf(branches: string, columns: readonly string[], splits: boolean): { cte: string; from: string } {
  return splits ? firstPartsOnly(branches, columns) : { cte: '', from: branches };
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
