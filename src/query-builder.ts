// Builds every SQL statement bqlogfs sends. All statements are GoogleSQL; every value is a named
// query parameter, and the only names pasted into the text are validated BigQuery identifiers.
// Which columns hold what is described by the source's LogSchema (a sink's tables, a Log Analytics
// linked dataset, or a table the user described); this file turns that description into SQL.
import type { ContainerRef } from './log-path.js';
import { daysIn, shardSuffix, type TimeRange } from './time-model.js';

export type TableLayout = 'partitioned' | 'sharded';
export type Stream = 'stdout' | 'stderr';

export interface StreamTable {
  /** The stream every entry of this table has; unset when the schema derives it per row. */
  stream?: Stream;
  /** `stdout`, or `stdout_*` for date-sharded tables. */
  tableId: string;
  /** Top-level columns that exist; a sink only creates a column once some entry had it. */
  columns: ReadonlySet<string>;
}

/**
 * Where one value of an entry is: a column path (`resource.labels.namespace_name`), and when that
 * column is of type JSON and the value is a field inside it, the field's path (`namespace_name`).
 */
export interface ColumnRef {
  path: string;
  jsonField?: string;
}

export type SchemaKind = 'sink' | 'log-analytics' | 'custom';

/**
 * Which columns of the log table(s) play which role. Roles that are unset, or whose top-level
 * column a table lacks, read as NULL.
 */
export interface LogSchema {
  kind: SchemaKind;
  /** A TIMESTAMP column: the entry's time, and the column every statement filters on (partitioning). */
  timestamp: string;
  namespace: ColumnRef;
  pod: ColumnRef;
  container: ColumnRef;
  /** What `--cluster` compares with. */
  cluster?: ColumnRef;
  insertId?: ColumnRef;
  /**
   * stdout or stderr: the table's own if it has one (a sink writes one table per stream, else NULL),
   * a column holding it, or a log name that ends in `/stderr` for stderr and in anything else for stdout.
   */
  stream: { from: 'table' } | { from: 'column'; column: ColumnRef } | { from: 'log-name'; column: ColumnRef };
  /** A text payload, read as STRING. */
  text?: ColumnRef;
  /** A structured payload, read as JSON text (TO_JSON_STRING). */
  json?: ColumnRef;
  severity?: ColumnRef;
  /** Read as JSON text; only for `--format json`. */
  labels?: ColumnRef;
  /** Only rows whose column holds this value, e.g. resource.type = 'k8s_container'. */
  only?: { column: ColumnRef; value: string };
  /**
   * BigQuery's JSON type keeps no key order, so JSON payloads read from JSON columns have their
   * object keys sorted: lines do not depend on the order BigQuery returns. A sink's RECORD
   * columns keep their schema order.
   */
  sortJsonKeys: boolean;
}

/** The tables a Cloud Logging sink writes (`stdout`, `stderr`): what bqlogfs has always read. */
export const SINK_SCHEMA: LogSchema = {
  kind: 'sink',
  timestamp: 'timestamp',
  namespace: { path: 'resource.labels.namespace_name' },
  pod: { path: 'resource.labels.pod_name' },
  container: { path: 'resource.labels.container_name' },
  cluster: { path: 'resource.labels.cluster_name' },
  insertId: { path: 'insertId' },
  stream: { from: 'table' },
  text: { path: 'textPayload' },
  json: { path: 'jsonPayload' },
  severity: { path: 'severity' },
  labels: { path: 'labels' },
  sortJsonKeys: false,
};

/** The view `_AllLogs` of a Log Analytics linked dataset: snake_case columns, labels as JSON. */
export const LOG_ANALYTICS_VIEW = '_AllLogs';
export const LOG_ANALYTICS_SCHEMA: LogSchema = {
  kind: 'log-analytics',
  timestamp: 'timestamp',
  namespace: { path: 'resource.labels', jsonField: 'namespace_name' },
  pod: { path: 'resource.labels', jsonField: 'pod_name' },
  container: { path: 'resource.labels', jsonField: 'container_name' },
  cluster: { path: 'resource.labels', jsonField: 'cluster_name' },
  insertId: { path: 'insert_id' },
  stream: { from: 'log-name', column: { path: 'log_name' } },
  text: { path: 'text_payload' },
  json: { path: 'json_payload' },
  severity: { path: 'severity' },
  labels: { path: 'labels' },
  only: { column: { path: 'resource.type' }, value: 'k8s_container' },
  sortJsonKeys: true,
};

export interface LogSource {
  projectId: string;
  datasetId: string;
  layout: TableLayout;
  tables: readonly StreamTable[];
  /** Which column holds what; a sink's layout when absent. */
  schema?: LogSchema;
  /** When set, only these namespaces exist for this mount, in SQL as in the path layer. */
  namespaces?: NamespaceRestriction;
  /** When set, only entries of this cluster exist for this mount (`--cluster`). */
  cluster?: string;
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

const COLUMN_PATH = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$/;

/** `a`, `a.b.c`: names of columns and of fields in RECORD or JSON columns, joined by dots. */
export function isColumnPath(path: string): boolean {
  return COLUMN_PATH.test(path);
}

/** GoogleSQL's reserved keywords: a column of such a name must be quoted. */
const RESERVED = new Set(
  (
    'ALL AND ANY ARRAY AS ASC ASSERT_ROWS_MODIFIED AT BETWEEN BY CASE CAST COLLATE CONTAINS CREATE CROSS ' +
    'CUBE CURRENT DEFAULT DEFINE DESC DISTINCT ELSE END ENUM ESCAPE EXCEPT EXCLUDE EXISTS EXTRACT FALSE ' +
    'FETCH FOLLOWING FOR FROM FULL GROUP GROUPING GROUPS HASH HAVING IF IGNORE IN INNER INTERSECT INTERVAL ' +
    'INTO IS JOIN LATERAL LEFT LIKE LIMIT LOOKUP MERGE NATURAL NEW NO NOT NULL NULLS OF ON OR ORDER OUTER ' +
    'OVER PARTITION PRECEDING PROTO QUALIFY RANGE RECURSIVE RESPECT RIGHT ROLLUP ROWS SELECT SET SOME ' +
    'STRUCT TABLESAMPLE THEN TO TREAT TRUE UNBOUNDED UNION UNNEST USING WHEN WHERE WINDOW WITH WITHIN'
  ).split(' '),
);

/** A validated column path as SQL; segments that are keywords are quoted. */
function columnSql(path: string): string {
  if (!isColumnPath(path)) throw new Error(`invalid BigQuery column path: ${path}`);
  return path
    .split('.')
    .map((segment) => (RESERVED.has(segment.toUpperCase()) ? `\`${segment}\`` : segment))
    .join('.');
}

function jsonPathLiteral(field: string): string {
  if (!isColumnPath(field)) throw new Error(`invalid JSON field path: ${field}`);
  return `'$.${field}'`;
}

/** A role's value as SQL: the column, or the field of a JSON column as a STRING. */
function valueSql(ref: ColumnRef): string {
  return ref.jsonField === undefined
    ? columnSql(ref.path)
    : `JSON_VALUE(${columnSql(ref.path)}, ${jsonPathLiteral(ref.jsonField)})`;
}

/** A role's value as JSON text. */
function jsonTextSql(ref: ColumnRef): string {
  const value =
    ref.jsonField === undefined
      ? columnSql(ref.path)
      : `JSON_QUERY(${columnSql(ref.path)}, ${jsonPathLiteral(ref.jsonField)})`;
  return `TO_JSON_STRING(${value})`;
}

function schemaOf(source: LogSource): LogSchema {
  return source.schema ?? SINK_SCHEMA;
}

/** Whether the table has the column a role is read from. */
function tableHas(table: StreamTable, ref: ColumnRef | undefined): ref is ColumnRef {
  return ref !== undefined && table.columns.has(ref.path.split('.')[0] ?? '');
}

/** `expr AS name`, or just `name` when the expression is that column already. */
function selectItem(expression: string, name: string): string {
  return expression === name ? name : `${expression} AS ${name}`;
}

function nullString(name: string): string {
  return `CAST(NULL AS STRING) AS ${name}`;
}

/**
 * The WHERE conditions of every query: those that make BigQuery prune to the partitions or shards
 * of a time range, the rows the schema keeps, and the mount's namespace and cluster restrictions.
 */
function scopeFilter(source: LogSource, query: BuiltQuery, range: TimeRange, prefix: string): string {
  const schema = schemaOf(source);
  query.params[`${prefix}_start`] = new Date(range.startMs);
  query.params[`${prefix}_end`] = new Date(range.endMs);
  query.types[`${prefix}_start`] = 'TIMESTAMP';
  query.types[`${prefix}_end`] = 'TIMESTAMP';
  const timestamp = columnSql(schema.timestamp);
  const onTimestamp =
    `${timestamp} >= @${prefix}_start AND ${timestamp} < @${prefix}_end` +
    `${rowFilter(source, query)}${namespaceFilter(source, query)}${clusterFilter(source, query)}`;
  if (source.layout === 'partitioned') return onTimestamp;
  const days = daysIn(range);
  query.params.first_shard = shardSuffix(days[0] ?? '');
  query.params.last_shard = shardSuffix(days[days.length - 1] ?? '');
  query.types.first_shard = 'STRING';
  query.types.last_shard = 'STRING';
  return `_TABLE_SUFFIX BETWEEN @first_shard AND @last_shard AND ${onTimestamp}`;
}

/** The schema's fixed row condition, e.g. only Kubernetes container logs of a Log Analytics view. */
function rowFilter(source: LogSource, query: BuiltQuery): string {
  const only = schemaOf(source).only;
  if (!only) return '';
  query.params.only_value = only.value;
  query.types.only_value = 'STRING';
  return ` AND ${valueSql(only.column)} = @only_value`;
}

function clusterFilter(source: LogSource, query: BuiltQuery): string {
  if (source.cluster === undefined) return '';
  const column = schemaOf(source).cluster;
  if (!column) throw new Error('--cluster needs a cluster column, and this log schema has none');
  query.params.cluster = source.cluster;
  query.types.cluster = 'STRING';
  return ` AND ${valueSql(column)} = @cluster`;
}

function namespaceFilter(source: LogSource, query: BuiltQuery): string {
  const restriction = source.namespaces;
  const namespace = valueSql(schemaOf(source).namespace);
  let sql = '';
  if (restriction?.names) {
    query.params.allowed_namespaces = [...restriction.names];
    query.types.allowed_namespaces = ['STRING'];
    sql += ` AND ${namespace} IN UNNEST(@allowed_namespaces)`;
  }
  if (restriction?.pattern !== undefined) {
    query.params.namespace_pattern = `^(?:${restriction.pattern})$`;
    query.types.namespace_pattern = 'STRING';
    sql += ` AND REGEXP_CONTAINS(${namespace}, @namespace_pattern)`;
  }
  return sql;
}

function containerFilter(source: LogSource, query: BuiltQuery, ref: ContainerRef): string {
  const schema = schemaOf(source);
  query.params.namespace = ref.namespace;
  query.params.pod = ref.pod;
  query.params.container = ref.container;
  query.types.namespace = 'STRING';
  query.types.pod = 'STRING';
  query.types.container = 'STRING';
  return (
    `${valueSql(schema.namespace)} = @namespace AND ${valueSql(schema.pod)} = @pod` +
    ` AND ${valueSql(schema.container)} = @container`
  );
}

function emptyQuery(): BuiltQuery {
  return { sql: '', params: {}, types: {} };
}

function unionOfStreams(source: LogSource, branch: (table: StreamTable) => string): string {
  return source.tables.map(branch).join('\n  UNION ALL\n');
}

/** `timestamp`, or `<the schema's timestamp column> AS timestamp`. */
function timestampItem(source: LogSource): string {
  return selectItem(columnSql(schemaOf(source).timestamp), 'timestamp');
}

/**
 * Every (namespace, pod, container, day) with entries in the window, with a bitmask of the hours
 * that have entries: one query feeds every directory listing inside the window. Reads only label
 * and timestamp columns.
 */
export function containerDaysQuery(source: LogSource, window: TimeRange, timeZone = 'UTC'): BuiltQuery {
  const schema = schemaOf(source);
  const query = emptyQuery();
  query.params.time_zone = timeZone;
  query.types.time_zone = 'STRING';
  const branches = unionOfStreams(source, (table) => {
    const where = scopeFilter(source, query, window, 'window');
    return (
      `  SELECT ${valueSql(schema.namespace)} AS namespace, ${valueSql(schema.pod)} AS pod,` +
      ` ${valueSql(schema.container)} AS container, ${timestampItem(source)}\n` +
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
    const where = `${scopeFilter(source, query, day, 'range')}\n    AND ${containerFilter(source, query, ref)}`;
    return `  SELECT ${timestampItem(source)}\n  FROM ${tableReference(source, table)}\n  WHERE ${where}`;
  });
  query.sql =
    `SELECT DISTINCT EXTRACT(HOUR FROM timestamp AT TIME ZONE @time_zone) AS hour\nFROM (\n${branches}\n)\n` +
    'ORDER BY hour';
  return query;
}

/** The stream column of one table's branch. */
function streamItem(schema: LogSchema, table: StreamTable): string {
  const { stream } = schema;
  if (stream.from === 'table') return table.stream === undefined ? nullString('stream') : `'${table.stream}' AS stream`;
  if (!tableHas(table, stream.column)) return nullString('stream');
  if (stream.from === 'column') return selectItem(valueSql(stream.column), 'stream');
  return `IF(${valueSql(stream.column)} LIKE '%/stderr', 'stderr', 'stdout') AS stream`;
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
  const branches = unionOfStreams(source, (table) => {
    const where = `${scopeFilter(source, query, range, 'range')}\n    AND ${containerFilter(source, query, ref)}`;
    const value = (role: ColumnRef | undefined, name: string) =>
      tableHas(table, role) ? selectItem(valueSql(role), name) : nullString(name);
    const json = (role: ColumnRef | undefined, name: string) =>
      tableHas(table, role) ? `${jsonTextSql(role)} AS ${name}` : nullString(name);
    const extra = fullEntries ? `, ${value(schema.severity, 'severity')}, ${json(schema.labels, 'labels')}` : '';
    return (
      `  SELECT ${timestampItem(source)}, ${value(schema.insertId, 'insertId')}, ${streamItem(schema, table)},` +
      ` ${value(schema.text, 'textPayload')}, ${json(schema.json, 'jsonPayload')}${extra}\n` +
      `  FROM ${tableReference(source, table)}\n  WHERE ${where}`
    );
  });
  query.params.first_start = new Date(first.startMs);
  query.params.first_end = new Date(first.endMs);
  query.types.first_start = 'TIMESTAMP';
  query.types.first_end = 'TIMESTAMP';
  // Without an insert id, entries of the same time and stream are ordered by their text, so every
  // fetch writes them in the same order.
  const tieBreak = schema.insertId === undefined ? ', textPayload, jsonPayload' : '';
  query.sql =
    `SELECT timestamp, insertId, stream, textPayload, jsonPayload${fullEntries ? ', severity, labels' : ''}\n` +
    `FROM (\n${branches}\n)\n` +
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
  selection: { container: string; namespace?: string },
  window: TimeRange,
  /** Names the days, as the hour files do. */
  timeZone = 'UTC',
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
  const branches = unionOfStreams(source, (table) => {
    const where = `${scopeFilter(source, query, window, 'window')}\n    AND ${labels}`;
    return (
      `  SELECT ${valueSql(schema.namespace)} AS namespace, ${valueSql(schema.pod)} AS pod, ${timestampItem(source)}\n` +
      `  FROM ${tableReference(source, table)}\n  WHERE ${where}`
    );
  });
  query.sql =
    `SELECT DISTINCT namespace, pod, DATE(timestamp, @time_zone) AS day\nFROM (\n${branches}\n)\n` +
    'WHERE namespace IS NOT NULL AND pod IS NOT NULL\nORDER BY namespace, pod, day';
  return query;
}
