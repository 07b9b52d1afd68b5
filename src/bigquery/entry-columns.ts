// The columns that statements select of each table's branch: an entry's columns, the split
// columns, and the condition that keeps only what the statement's range holds.
import type { ColumnRef, LogSchema, LogSource, StreamTable } from './log-source.js';
import { splitItems } from './split-parts.js';
import { jsonTextSql, nullString, schemaOf, selectItem, tableHas, timestampItem, valueSql } from './sql-text.js';

/** The split columns a branch adds when the source's parts are joined; nothing otherwise. */
export function withSplit(source: LogSource, table: StreamTable, splits: boolean): string {
  return splits ? `, ${splitItems(source, table)}` : '';
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
