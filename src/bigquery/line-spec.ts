// A range of a kept result read as the lines of one text column (QueryResult.readLines): each row's
// value without one trailing newline, then a newline, as `cat` of a file of those values shows them.
// The reader checks every row against the values the spec pins (whose rows these must be, and the
// span their timestamps lie in), so a result that no longer holds what its index said fails
// instead of handing over someone else's lines.
import { Buffer } from 'node:buffer';
import { failure } from './failures.js';
import type { RawRow } from './log-warehouse.js';

export interface LineSpec {
  /** The STRING column whose values are the lines; NULL in it fails the read. */
  textColumn: number;
  /** STRING columns that must hold these values in every row. */
  strings: { column: number; value: string }[];
  /** INT64 columns that must hold these values in every row. */
  integers: { column: number; value: number }[];
  /** A TIMESTAMP column whose every value lies in [startMicros, endMicros). */
  time: { column: number; startMicros: number; endMicros: number };
}

export const NEWLINE = 0x0a;

/** The failure of a row that breaks the spec: the result is not what its index said. */
export function notAsSpecified(row: number, what: string): Error {
  return failure(`row ${row} of the kept result ${what}, not what its index said`, 'resultChanged');
}

/** `row` (the `index`th of the result) checked against the spec; its text. */
function checkedText(row: RawRow, index: number, spec: LineSpec): string {
  for (const { column, value } of spec.strings) {
    if (row[column] !== value) throw notAsSpecified(index, `holds ${JSON.stringify(row[column])} in column ${column}`);
  }
  for (const { column, value } of spec.integers) {
    if (row[column] !== String(value)) throw notAsSpecified(index, `holds ${String(row[column])} in column ${column}`);
  }
  const micros = Number(row[spec.time.column] ?? NaN);
  if (!(micros >= spec.time.startMicros && micros < spec.time.endMicros)) {
    throw notAsSpecified(index, `has a timestamp outside the span read`);
  }
  const text = row[spec.textColumn];
  if (text === null || text === undefined) throw notAsSpecified(index, 'has no text');
  return text;
}

/** The lines of rows as the REST API gives them (`first` is the index of the first), checked against the spec. */
export function linesOfRows(rows: RawRow[], first: number, spec: LineSpec): Buffer {
  const texts = rows.map((row, i) => checkedText(row, first + i, spec));
  const lines = Buffer.allocUnsafe(texts.reduce((sum, text) => sum + Buffer.byteLength(text) + 1, 0));
  let at = 0;
  for (const text of texts) {
    at += lines.write(text, at);
    if (!text.endsWith('\n')) lines[at++] = NEWLINE;
  }
  return lines.subarray(0, at);
}
