// Builds every SQL statement bqlogfs sends. All statements are GoogleSQL; every value is a named
// query parameter, and the only names pasted into the text are validated BigQuery identifiers.
import type { ContainerRef } from './log-path.js';
import { daysIn, shardSuffix, type TimeRange } from './time-model.js';

export type TableLayout = 'partitioned' | 'sharded';
export type Stream = 'stdout' | 'stderr';

export interface StreamTable {
  stream: Stream;
  /** `stdout`, or `stdout_*` for date-sharded tables. */
  tableId: string;
  /** Top-level columns that exist; a sink only creates a column once some entry had it. */
  columns: ReadonlySet<string>;
}

export interface LogSource {
  projectId: string;
  datasetId: string;
  layout: TableLayout;
  tables: readonly StreamTable[];
  /** When set, only these namespaces exist for this mount, in SQL as in the path layer. */
  namespaces?: NamespaceRestriction;
}

export interface NamespaceRestriction {
  names?: readonly string[];
  /** A regular expression every namespace name must match whole. */
  pattern?: string;
}

export type ParamType = 'STRING' | 'TIMESTAMP' | 'INT64' | ['STRING'];

export interface BuiltQuery {
  sql: string;
  params: Record<string, string | Date | number | string[]>;
  types: Record<string, ParamType>;
}

const PROJECT_ID = /^([a-z][a-z0-9.-]{0,62}:)?[a-z][-a-z0-9]{0,61}[a-z0-9]$/;
const DATASET_ID = /^[A-Za-z0-9_]{1,1024}$/;
const TABLE_ID = /^[A-Za-z0-9_]{1,1023}\*?$/;

export function isProjectId(id: string): boolean {
  return PROJECT_ID.test(id);
}
export function isDatasetId(id: string): boolean {
  return DATASET_ID.test(id);
}
export function isTableId(id: string): boolean {
  return TABLE_ID.test(id);
}

function tableReference(source: LogSource, table: StreamTable): string {
  if (!isProjectId(source.projectId)) throw new Error(`invalid BigQuery project id: ${source.projectId}`);
  if (!isDatasetId(source.datasetId)) throw new Error(`invalid BigQuery dataset id: ${source.datasetId}`);
  if (!isTableId(table.tableId)) throw new Error(`invalid BigQuery table id: ${table.tableId}`);
  return `\`${source.projectId}.${source.datasetId}.${table.tableId}\``;
}

/**
 * The WHERE conditions of every query: those that make BigQuery prune to the partitions or shards
 * of a time range, and the mount's namespace restriction.
 */
function scopeFilter(source: LogSource, query: BuiltQuery, range: TimeRange, prefix: string): string {
  query.params[`${prefix}_start`] = new Date(range.startMs);
  query.params[`${prefix}_end`] = new Date(range.endMs);
  query.types[`${prefix}_start`] = 'TIMESTAMP';
  query.types[`${prefix}_end`] = 'TIMESTAMP';
  const onTimestamp = `timestamp >= @${prefix}_start AND timestamp < @${prefix}_end${namespaceFilter(source, query)}`;
  if (source.layout === 'partitioned') return onTimestamp;
  const days = daysIn(range);
  query.params.first_shard = shardSuffix(days[0] ?? '');
  query.params.last_shard = shardSuffix(days[days.length - 1] ?? '');
  query.types.first_shard = 'STRING';
  query.types.last_shard = 'STRING';
  return `_TABLE_SUFFIX BETWEEN @first_shard AND @last_shard AND ${onTimestamp}`;
}

function namespaceFilter(source: LogSource, query: BuiltQuery): string {
  const restriction = source.namespaces;
  let sql = '';
  if (restriction?.names) {
    query.params.allowed_namespaces = [...restriction.names];
    query.types.allowed_namespaces = ['STRING'];
    sql += ' AND resource.labels.namespace_name IN UNNEST(@allowed_namespaces)';
  }
  if (restriction?.pattern !== undefined) {
    query.params.namespace_pattern = `^(?:${restriction.pattern})$`;
    query.types.namespace_pattern = 'STRING';
    sql += ' AND REGEXP_CONTAINS(resource.labels.namespace_name, @namespace_pattern)';
  }
  return sql;
}

function containerFilter(query: BuiltQuery, ref: ContainerRef): string {
  query.params.namespace = ref.namespace;
  query.params.pod = ref.pod;
  query.params.container = ref.container;
  query.types.namespace = 'STRING';
  query.types.pod = 'STRING';
  query.types.container = 'STRING';
  return (
    'resource.labels.namespace_name = @namespace AND resource.labels.pod_name = @pod' +
    ' AND resource.labels.container_name = @container'
  );
}

function emptyQuery(): BuiltQuery {
  return { sql: '', params: {}, types: {} };
}

function unionOfStreams(source: LogSource, branch: (table: StreamTable) => string): string {
  return source.tables.map(branch).join('\n  UNION ALL\n');
}

/**
 * Every (namespace, pod, container, day) with entries in the window, with a bitmask of the hours
 * that have entries: one query feeds every directory listing inside the window. Reads only label
 * and timestamp columns.
 */
export function containerDaysQuery(source: LogSource, window: TimeRange, timeZone = 'UTC'): BuiltQuery {
  const query = emptyQuery();
  query.params.time_zone = timeZone;
  query.types.time_zone = 'STRING';
  const branches = unionOfStreams(source, (table) => {
    const where = scopeFilter(source, query, window, 'window');
    return (
      '  SELECT resource.labels.namespace_name AS namespace, resource.labels.pod_name AS pod,' +
      ' resource.labels.container_name AS container, timestamp\n' +
      `  FROM ${tableReference(source, table)}\n  WHERE ${where}`
    );
  });
  query.sql =
    'SELECT namespace, pod, container, DATE(timestamp, @time_zone) AS day,' +
    ' BIT_OR(1 << EXTRACT(HOUR FROM timestamp AT TIME ZONE @time_zone)) AS hours\n' +
    `FROM (\n${branches}\n)\n` +
    'WHERE namespace IS NOT NULL AND pod IS NOT NULL AND container IS NOT NULL\n' +
    'GROUP BY namespace, pod, container, day\nORDER BY namespace, pod, container, day';
  return query;
}

/** The hours of one container-day that hold at least one entry. Reads only label and timestamp columns. */
export function hoursQuery(source: LogSource, ref: ContainerRef, day: TimeRange, timeZone = 'UTC'): BuiltQuery {
  const query = emptyQuery();
  query.params.time_zone = timeZone;
  query.types.time_zone = 'STRING';
  const branches = unionOfStreams(source, (table) => {
    const where = `${scopeFilter(source, query, day, 'range')}\n    AND ${containerFilter(query, ref)}`;
    return `  SELECT timestamp\n  FROM ${tableReference(source, table)}\n  WHERE ${where}`;
  });
  query.sql =
    `SELECT DISTINCT EXTRACT(HOUR FROM timestamp AT TIME ZONE @time_zone) AS hour\nFROM (\n${branches}\n)\n` +
    'ORDER BY hour';
  return query;
}

/**
 * The entries of one container in a range, stdout and stderr merged, in file order
 * (timestamp, insertId, stream), with the entries of `first` (the requested hour) streamed first.
 */
export function entriesQuery(
  source: LogSource,
  ref: ContainerRef,
  range: TimeRange,
  first: TimeRange,
  fullEntries = false,
): BuiltQuery {
  const query = emptyQuery();
  const branches = unionOfStreams(source, (table) => {
    const where = `${scopeFilter(source, query, range, 'range')}\n    AND ${containerFilter(query, ref)}`;
    const text = table.columns.has('textPayload') ? 'textPayload' : 'CAST(NULL AS STRING) AS textPayload';
    const json = table.columns.has('jsonPayload')
      ? 'TO_JSON_STRING(jsonPayload) AS jsonPayload'
      : 'CAST(NULL AS STRING) AS jsonPayload';
    const insertId = table.columns.has('insertId') ? 'insertId' : 'CAST(NULL AS STRING) AS insertId';
    const severity = table.columns.has('severity') ? 'severity' : 'CAST(NULL AS STRING) AS severity';
    const labels = table.columns.has('labels') ? 'TO_JSON_STRING(labels) AS labels' : 'CAST(NULL AS STRING) AS labels';
    const extra = fullEntries ? `, ${severity}, ${labels}` : '';
    return (
      `  SELECT timestamp, ${insertId}, '${table.stream}' AS stream, ${text}, ${json}${extra}\n` +
      `  FROM ${tableReference(source, table)}\n  WHERE ${where}`
    );
  });
  query.params.first_start = new Date(first.startMs);
  query.params.first_end = new Date(first.endMs);
  query.types.first_start = 'TIMESTAMP';
  query.types.first_end = 'TIMESTAMP';
  query.sql =
    `SELECT timestamp, insertId, stream, textPayload, jsonPayload${fullEntries ? ', severity, labels' : ''}\n` +
    `FROM (\n${branches}\n)\n` +
    'ORDER BY IF(timestamp >= @first_start AND timestamp < @first_end, 0, 1), timestamp, insertId, stream';
  return query;
}

/**
 * The days on which each pod of a container (optionally in one namespace) has entries in the window:
 * what `fetch` needs to know which pods to write and which container-days to read. Reads only label
 * and timestamp columns.
 */
export function podDaysQuery(
  source: LogSource,
  selection: { container: string; namespace?: string },
  window: TimeRange,
): BuiltQuery {
  const query = emptyQuery();
  query.params.container = selection.container;
  query.types.container = 'STRING';
  let labels = 'resource.labels.container_name = @container';
  if (selection.namespace !== undefined) {
    query.params.namespace = selection.namespace;
    query.types.namespace = 'STRING';
    labels += ' AND resource.labels.namespace_name = @namespace';
  }
  const branches = unionOfStreams(source, (table) => {
    const where = `${scopeFilter(source, query, window, 'window')}\n    AND ${labels}`;
    return (
      '  SELECT resource.labels.namespace_name AS namespace, resource.labels.pod_name AS pod, timestamp\n' +
      `  FROM ${tableReference(source, table)}\n  WHERE ${where}`
    );
  });
  query.sql =
    `SELECT DISTINCT namespace, pod, DATE(timestamp) AS day\nFROM (\n${branches}\n)\n` +
    'WHERE namespace IS NOT NULL AND pod IS NOT NULL\nORDER BY namespace, pod, day';
  return query;
}
