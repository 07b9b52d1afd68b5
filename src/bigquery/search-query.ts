// The statement behind `bqlogfs grep`: one query over the whole window, which BigQuery bills once
// for the window's partitions of the entry columns, and which returns only the entries whose line
// text matches. The pattern is a query parameter; so is every label value.
import type { TimeRange } from '../model/time-model.js';
import { andKept, entryItems, withSplit, type BuiltQuery, type LogSource, type StreamTable } from './query-builder.js';
import { podLabelFilter, type PodLabelScope } from './pod-label-filters.js';
import { scopeFilter } from './scope-filters.js';
import { joinedEntriesCtes, joinsSplitParts, splitScan } from './split-parts.js';
import { emptyQuery, schemaOf, tableReference, unionOfStreams, valueSql } from './sql-text.js';

/** Which containers a search reads. */
export interface SearchScope extends PodLabelScope {
  namespace?: string;
  container?: string;
}

/** What is searched for: a fixed string (substring) or an RE2 pattern. */
export interface SearchPattern {
  kind: 'fixed' | 'regex';
  text: string;
  ignoreCase: boolean;
}

/**
 * A JSON payload's line holds no null fields and writes whole numbers without `.0`; the JSON text
 * BigQuery writes has both. These rewrite the one into the other before matching (RE2 patterns).
 */
const JSON_LINE_REWRITES: readonly [pattern: string, replacement: string][] = [
  ['"(?:[^"\\\\]|\\\\.)*":null,?', ''],
  [',([}\\]])', '\\1'],
  ['([:\\[,]-?[0-9]+)\\.0([,}\\]])', '\\1\\2'],
];

function stringParam(query: BuiltQuery, name: string, value: string): string {
  query.params[name] = value;
  query.types[name] = 'STRING';
  return `@${name}`;
}

/** The scope's conditions for one table, each starting with `AND`. */
function scopeConditions(source: LogSource, table: StreamTable, scope: SearchScope, query: BuiltQuery): string {
  const schema = schemaOf(source);
  let sql = '';
  if (scope.namespace !== undefined) {
    sql += `\n    AND ${valueSql(schema.namespace)} = ${stringParam(query, 'namespace', scope.namespace)}`;
  }
  if (scope.container !== undefined) {
    sql += `\n    AND ${valueSql(schema.container)} = ${stringParam(query, 'container', scope.container)}`;
  }
  sql += podLabelFilter(source, table, scope, query);
  return sql;
}

/** The text of an entry's line(s) as SQL, over the entry columns of `entryItems`. */
function lineTextSql(query: BuiltQuery): string {
  // TO_JSON_STRING writes a missing payload as `null`; its line is empty.
  let json = "NULLIF(jsonPayload, 'null')";
  JSON_LINE_REWRITES.forEach(([pattern, replacement], index) => {
    const from = stringParam(query, `json_rewrite_${index}`, pattern);
    json = `REGEXP_REPLACE(${json}, ${from}, ${stringParam(query, `json_with_${index}`, replacement)})`;
  });
  return `COALESCE(textPayload, ${json}, '')`;
}

/**
 * Whether the entry's text matches: a substring test for a fixed string (exact: a pattern holds no
 * newline, so it is in a line exactly when it is in the text); for a regular expression, RE2 with
 * `^` and `$` at line ends, so that every line that matches makes its entry match.
 */
function matchSql(query: BuiltQuery, pattern: SearchPattern): string {
  const text = lineTextSql(query);
  if (pattern.kind === 'fixed') {
    const needle = stringParam(query, 'pattern', pattern.text);
    return pattern.ignoreCase ? `STRPOS(LOWER(${text}), LOWER(${needle})) > 0` : `STRPOS(${text}, ${needle}) > 0`;
  }
  const flags = pattern.ignoreCase ? '(?mi)' : '(?m)';
  return `REGEXP_CONTAINS(${text}, ${stringParam(query, 'pattern', `${flags}${pattern.text}`)})`;
}

/** Which columns a search returns besides the names and the entry columns. */
export interface SearchColumns {
  /** Also severity and labels, for `--format json`. */
  fullEntries: boolean;
  /**
   * Also one row for each container in scope with entries in the range but no match, so that a count
   * can say 0 for it (`grep -c` prints `file:0`): its first entry, payloads NULL, and a last column
   * `matched` (BOOL) that tells such rows from matches. It references no other column, so it bills
   * the same bytes.
   */
  everyContainer?: boolean;
}

/**
 * The entries in `range` of the containers in `scope` whose text matches, every container in one
 * statement, in time order (timestamp, insertId, stream, then container). Columns: namespace, pod,
 * container, then those of `entriesQuery` (severity and labels with `fullEntries`; `matched` with
 * `everyContainer`).
 */
export function searchQuery(
  source: LogSource,
  scope: SearchScope,
  range: TimeRange,
  pattern: SearchPattern,
  columns: SearchColumns,
): BuiltQuery {
  const schema = schemaOf(source);
  const query = emptyQuery();
  const entryColumns = ['timestamp', 'insertId', 'stream', 'textPayload', 'jsonPayload'];
  if (columns.fullEntries) entryColumns.push('severity', 'labels');
  // Entries Cloud Logging split are matched as the joined line the hour file holds.
  const splits = joinsSplitParts(source);
  const { scanned, kept } = splitScan(query, range, splits);
  const branches = unionOfStreams(source, (table) => {
    const where = `${scopeFilter(source, query, scanned, 'range')}${scopeConditions(source, table, scope, query)}`;
    return (
      `  SELECT ${valueSql(schema.namespace)} AS namespace, ${valueSql(schema.pod)} AS pod,` +
      ` ${valueSql(schema.container)} AS container, ${entryItems(source, table, columns.fullEntries)}` +
      `${withSplit(source, table, splits)}\n  FROM ${tableReference(source, table)}\n  WHERE ${where}`
    );
  });
  const keys = ['namespace', 'pod', 'container'];
  const tieBreak = schema.insertId === undefined ? ', textPayload, jsonPayload' : '';
  const ctes = splits ? joinedEntriesCtes(branches, keys, entryColumns) : `entries AS (\n${branches}\n)`;
  const named = 'namespace IS NOT NULL AND pod IS NOT NULL AND container IS NOT NULL';
  const order = `ORDER BY timestamp, insertId, stream${tieBreak}, namespace, pod, container`;
  if (!columns.everyContainer) {
    query.sql =
      `WITH ${ctes}\nSELECT ${[...keys, ...entryColumns].join(', ')}\nFROM entries\n` +
      `WHERE ${named}${andKept(kept)}\n  AND ${matchSql(query, pattern)}\n${order}`;
    return query;
  }
  const items = entryColumns.map((column) =>
    column === 'textPayload' || column === 'jsonPayload' ? `IF(matched, ${column}, NULL) AS ${column}` : column,
  );
  query.sql =
    `WITH ${ctes},\nsearched AS (\n  SELECT *, ${matchSql(query, pattern)} AS matched\n  FROM entries\n` +
    `  WHERE ${named}${andKept(kept)}\n)\n` +
    `SELECT ${[...keys, ...items, 'matched'].join(', ')}\nFROM searched\nWHERE TRUE\n` +
    `QUALIFY matched OR ROW_NUMBER() OVER (PARTITION BY namespace, pod, container ORDER BY timestamp, insertId) = 1\n` +
    order;
  return query;
}
