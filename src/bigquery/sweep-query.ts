// The sweep: every entry of a range of all containers in a scope, in one statement, with an index
// at its head. Part of the statements query-builder.ts builds, and re-exported by it.
import type { TimeRange } from '../model/time-model.js';
import type { BuiltQuery, LogSource } from './log-source.js';
import { andKept, entryItems, withSplit } from './entry-columns.js';
import { joinedEntriesCtes, joinsSplitParts, splitScan } from './split-parts.js';
import { scopeFilter } from './scope-filters.js';
import { emptyQuery, nullString, schemaOf, tableReference, unionOfStreams, valueSql } from './sql-text.js';

/** Which entries a sweep reads: every container of some namespaces, or of one container name. */
export interface SweepScope {
  /** Only these namespaces; all that the mount shows when absent. */
  namespaces?: readonly string[];
  /** Only containers of this name. */
  container?: string;
}

/** Columns a sweep's result starts with; the entry columns of `entriesQuery` follow them. */
export const SWEEP_INDEX_COLUMNS = [
  'part',
  'namespace',
  'pod',
  'container',
  'day',
  'hour',
  'entries',
  'line_bytes',
] as const;

/**
 * The bytes of a container-hour's file when its lines are the text payloads as they are: each
 * payload without one trailing newline, plus a newline. NULL when that may not be its size: an entry
 * without a text payload (its line is rendered JSON), or two entries with one insert id. An entry
 * delivered twice has the same timestamp and insert id, and the file keeps one; entries that share
 * only the insert id are kept both, but counting distinct insert ids alone is enough to rule out the
 * first, and cheaper than distinct (timestamp, insert id) strings: a 1 GiB hour's sweep took
 * 1.49–1.53 s against 1.58–2.04 s in the local server. Such an hour's size then comes from its file.
 */
const LINE_BYTES_ITEM =
  'IF(COUNTIF(textPayload IS NULL) = 0 AND COUNT(DISTINCT insertId) = COUNT(insertId),\n' +
  '    SUM(BYTE_LENGTH(textPayload) + IF(ENDS_WITH(textPayload, CHR(10)), 0, 1)), NULL) AS line_bytes';

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
    ' EXTRACT(HOUR FROM timestamp AT TIME ZONE @time_zone) AS hour, COUNT(*) AS entries,\n' +
    `    ${LINE_BYTES_ITEM}, ${noEntry}\n  FROM entries WHERE ${named}\n  GROUP BY namespace, pod, container, day, hour\n` +
    '  UNION ALL\n' +
    '  SELECT 1 AS part, namespace, pod, container, CAST(NULL AS DATE) AS day, CAST(NULL AS INT64) AS hour,' +
    ` CAST(NULL AS INT64) AS entries, CAST(NULL AS INT64) AS line_bytes, ${entryColumns.join(', ')}\n` +
    `  FROM entries WHERE ${named}\n)\n` +
    `ORDER BY part, namespace, pod, container, day, hour, timestamp, insertId, stream${tieBreak}`;
  return query;
}
