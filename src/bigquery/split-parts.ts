// Entries Cloud Logging split into parts (LogSplit: `split.uid`, `split.index`, `split.totalSplits`),
// joined back into one entry in SQL, before entries are counted and ordered: the joined entry has the
// timestamp, insertId and stream of its first part (the lowest index present), a text payload is the
// parts' text in index order, and a structured payload is a JSON array of the parts' objects. A part
// that is missing leaves a marker where it belongs. Statements over tables without split columns
// are left as they were, and reference no split column.
import { DAY_MS, type TimeRange } from '../model/time-model.js';
import type { BuiltQuery, LogSource, StreamTable } from './log-source.js';
import { columnSql, schemaOf } from './sql-text.js';

/** The split columns of a table: its uid and index columns at least; none when it lacks them. */
function splitColumnsOf(source: LogSource, table: StreamTable): { uid: string; index: string; total?: string } {
  const split = schemaOf(source).split;
  if (!split || !table.columns.has(split.uid) || !table.columns.has(split.index)) return { uid: '', index: '' };
  return { uid: split.uid, index: split.index, ...(table.columns.has(split.total) && { total: split.total }) };
}

/** Whether some table of the source can hold split entries: only then do statements join parts. */
export function joinsSplitParts(source: LogSource): boolean {
  return source.tables.some((table) => splitColumnsOf(source, table).uid !== '');
}

/**
 * The split columns of one table's branch: `split_uid` (the uid and the part's UTC day),
 * `split_index` (a missing index is 0, as protobuf leaves a zero out) and `split_total`; NULL in a
 * table without them.
 */
export function splitItems(source: LogSource, table: StreamTable): string {
  const { uid, index, total } = splitColumnsOf(source, table);
  if (uid === '') {
    return 'CAST(NULL AS STRING) AS split_uid, CAST(NULL AS INT64) AS split_index, CAST(NULL AS INT64) AS split_total';
  }
  const totalItem = total === undefined ? 'CAST(NULL AS INT64)' : columnSql(total);
  // Parts are joined within a UTC day, the range of one sweep: a statement over any other range
  // (a listing's window, a local day) must group them the same way.
  const day = `CAST(DATE(${columnSql(schemaOf(source).timestamp)}) AS STRING)`;
  return (
    `CONCAT(${columnSql(uid)}, ' ', ${day}) AS split_uid, IFNULL(${columnSql(index)}, 0) AS split_index,` +
    ` ${totalItem} AS split_total`
  );
}

/** `[bqlogfs: part 3 of 5 missing]`, `[bqlogfs: parts 3-4 of 5 missing]`: parts counted from 1. */
function missingMarker(firstIndex: string, lastIndex: string, total: string): string {
  const number = (index: string) => `CAST(${index} + 1 AS STRING)`;
  return (
    `CONCAT('[bqlogfs: ', IF(${firstIndex} = ${lastIndex}, CONCAT('part ', ${number(firstIndex)}),` +
    ` CONCAT('parts ', ${number(firstIndex)}, '-', ${number(lastIndex)})),` +
    ` ' of ', IFNULL(CAST(${total} AS STRING), '?'), ' missing]')`
  );
}

/**
 * CTEs that end in `entries`: the rows of `rowsSql` (a UNION of branches with `splitItems`), each
 * split entry's parts joined into one. `keys` are label columns the rows carry (kept as they are);
 * `entryColumns` the entry columns, timestamp, insertId, stream, textPayload, jsonPayload first.
 */
export function joinedEntriesCtes(rowsSql: string, keys: readonly string[], entryColumns: readonly string[]): string {
  const keyList = keys.map((key) => `${key}, `).join('');
  const partitions = [...keys, 'split_uid'].join(', ');
  // One row per part: a part delivered twice counts once.
  const perPart = entryColumns.map((column) => `MIN(${column}) AS ${column}`).join(', ');
  const gapStart = 'IFNULL(previous_index, -1) + 1';
  const gapEnd = 'split_index - 1';
  const gap = (piece: string) =>
    `IF(${gapStart} <= ${gapEnd}, CONCAT(${piece.replace('MARKER', missingMarker(gapStart, gapEnd, 'split_total'))}), '')`;
  const lastStart = 'MAX(split_index) + 1';
  const lastEnd = 'MAX(split_total) - 1';
  const tail = (piece: string) =>
    `IF(${lastStart} <= ${lastEnd}, ${piece.replace('MARKER', missingMarker(lastStart, lastEnd, 'MAX(split_total)'))}, '')`;
  const ofFirstPart = (column: string) => `MIN(IF(previous_index IS NULL, ${column}, NULL)) AS ${column}`;
  const joined = entryColumns.map((column) => {
    if (column === 'textPayload') {
      return (
        `CONCAT(STRING_AGG(CONCAT(${gap('MARKER')}, textPayload), '' ORDER BY split_index),` +
        ` ${tail('MARKER')}) AS textPayload`
      );
    }
    if (column === 'jsonPayload') {
      return (
        `CONCAT('[', STRING_AGG(CONCAT(${gap(`'"', MARKER, '",'`)}, jsonPayload), ',' ORDER BY split_index),` +
        ` ${tail(`CONCAT(',"', MARKER, '"')`)}, ']') AS jsonPayload`
      );
    }
    return ofFirstPart(column);
  });
  return (
    `log_rows AS (\n${rowsSql}\n),\n` +
    `split_parts AS (\n  SELECT ${keyList}split_uid, split_index, MIN(split_total) AS split_total, ${perPart}\n` +
    `  FROM log_rows WHERE split_uid IS NOT NULL\n  GROUP BY ${keyList}split_uid, split_index\n),\n` +
    `split_pieces AS (\n  SELECT *, LAG(split_index) OVER (PARTITION BY ${partitions} ORDER BY split_index)` +
    ' AS previous_index\n  FROM split_parts\n),\n' +
    `entries AS (\n  SELECT ${keyList}${entryColumns.join(', ')} FROM log_rows WHERE split_uid IS NULL\n  UNION ALL\n` +
    `  SELECT ${keyList}${joined.join(',\n    ')}\n  FROM split_pieces GROUP BY ${partitions}\n)`
  );
}

/**
 * A CTE `log_rows` and a subquery over it that keeps, of each split entry, only its first part (the
 * lowest index present): what statements that list hours and days count, so that an hour holding
 * only later parts of a line is not listed. `columns` are those the statement reads; the split
 * columns of `splitItems` follow them in every branch.
 */
export function firstPartsOnly(rowsSql: string, columns: readonly string[]): { cte: string; from: string } {
  const list = columns.join(', ');
  return {
    cte: `WITH log_rows AS (\n${rowsSql}\n)\n`,
    from:
      `  SELECT ${list} FROM log_rows WHERE split_uid IS NULL\n  UNION ALL\n` +
      `  SELECT ${list} FROM (\n    SELECT ${list}, split_index,` +
      ' MIN(split_index) OVER (PARTITION BY split_uid) AS first_index\n' +
      '    FROM log_rows WHERE split_uid IS NOT NULL\n  )\n  WHERE split_index = first_index',
  };
}

/**
 * What a statement over `range` scans when parts are joined: the whole UTC days around it, the
 * same partitions (or shards) as the range, so that parts are joined as a sweep joins them; and
 * the condition that then keeps the entries, or first parts, of the range itself ('' when the
 * source has no split entries, and the range is scanned as it is).
 */
export function splitScan(query: BuiltQuery, range: TimeRange, splits: boolean): { scanned: TimeRange; kept: string } {
  if (!splits) return { scanned: range, kept: '' };
  query.params.kept_start = new Date(range.startMs);
  query.params.kept_end = new Date(range.endMs);
  query.types.kept_start = 'TIMESTAMP';
  query.types.kept_end = 'TIMESTAMP';
  return {
    scanned: {
      startMs: Math.floor(range.startMs / DAY_MS) * DAY_MS,
      endMs: Math.ceil(range.endMs / DAY_MS) * DAY_MS,
    },
    kept: 'timestamp >= @kept_start AND timestamp < @kept_end',
  };
}
