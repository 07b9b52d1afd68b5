// Names written into SQL text: project, dataset and table ids and column paths, each validated
// before use and quoted where GoogleSQL requires; and the small pieces of SELECT lists built from them.
import type { BuiltQuery, ColumnRef, LogSchema, LogSource, StreamTable } from './log-source.js';
import { SINK_SCHEMA } from './log-source.js';

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

export function tableReference(source: LogSource, table: StreamTable): string {
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
export function columnSql(path: string): string {
  if (!isColumnPath(path)) throw new Error(`invalid BigQuery column path: ${path}`);
  return path
    .split('.')
    .map((segment) => (RESERVED.has(segment.toUpperCase()) ? `\`${segment}\`` : segment))
    .join('.');
}

export function jsonPathLiteral(field: string): string {
  if (!isColumnPath(field)) throw new Error(`invalid JSON field path: ${field}`);
  return `'$.${field}'`;
}

/** A role's value as SQL: the column, or the field of a JSON column as a STRING. */
export function valueSql(ref: ColumnRef): string {
  return ref.jsonField === undefined
    ? columnSql(ref.path)
    : `JSON_VALUE(${columnSql(ref.path)}, ${jsonPathLiteral(ref.jsonField)})`;
}

/** A role's value as JSON text. */
export function jsonTextSql(ref: ColumnRef): string {
  const value =
    ref.jsonField === undefined
      ? columnSql(ref.path)
      : `JSON_QUERY(${columnSql(ref.path)}, ${jsonPathLiteral(ref.jsonField)})`;
  return `TO_JSON_STRING(${value})`;
}

export function schemaOf(source: LogSource): LogSchema {
  return source.schema ?? SINK_SCHEMA;
}

/** Whether the table has the column a role is read from. */
export function tableHas(table: StreamTable, ref: ColumnRef | undefined): ref is ColumnRef {
  return ref !== undefined && table.columns.has(ref.path.split('.')[0] ?? '');
}

/** `expr AS name`, or just `name` when the expression is that column already. */
export function selectItem(expression: string, name: string): string {
  return expression === name ? name : `${expression} AS ${name}`;
}

export function nullString(name: string): string {
  return `CAST(NULL AS STRING) AS ${name}`;
}

export function emptyQuery(): BuiltQuery {
  return { sql: '', params: {}, types: {} };
}

export function unionOfStreams(source: LogSource, branch: (table: StreamTable) => string): string {
  return source.tables.map(branch).join('\n  UNION ALL\n');
}

/** `timestamp`, or `<the schema's timestamp column> AS timestamp`. */
export function timestampItem(source: LogSource): string {
  return selectItem(columnSql(schemaOf(source).timestamp), 'timestamp');
}
