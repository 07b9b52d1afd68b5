// One DuckDB vector (a column of a data chunk) as Arrow column data, built from DuckDB's own buffers:
// fixed-width values are copied as bytes, validity masks keep their bit layout, and strings are
// gathered into one Arrow data buffer. No JS value is made per row.
import {
  makeData,
  type Binary,
  type Bool,
  type Data,
  type DateDay,
  type Decimal,
  type Float64,
  type Int64,
  type List,
  type Struct,
  type TimeMicrosecond,
  type TimestampMicrosecond,
  type Utf8,
} from 'apache-arrow';
import type { ColumnShape } from './arrow-schema.js';
import {
  listChild,
  structChild,
  StringEntries,
  vectorBytes,
  vectorValidity,
  type RawVector,
} from './duckdb-vectors.js';

/** Rows [start, end) of a vector. A column is converted from one or more such ranges, in order. */
export interface RowRange {
  start: number;
  end: number;
}

interface Validity {
  isValid: (row: number) => boolean;
  nullCount: number;
  /** The Arrow validity bitmap of the converted rows; absent when none is NULL. */
  bitmap?: Uint8Array;
}

const LIST_ENTRY_BYTES = 16;

function rowCount(rows: RowRange[]): number {
  let count = 0;
  for (const range of rows) count += range.end - range.start;
  return count;
}

function validityOf(vector: RawVector, vectorSize: number, rows: RowRange[], length: number): Validity {
  const mask = vectorValidity(vector, vectorSize);
  if (!mask) return { isValid: () => true, nullCount: 0 };
  const isValid = (row: number) => ((mask[row >> 3]! >> (row & 7)) & 1) === 1;
  const bitmap = new Uint8Array((length + 7) >> 3);
  let nullCount = 0;
  let at = 0;
  for (const { start, end } of rows) {
    for (let row = start; row < end; row++, at++) {
      if (isValid(row)) bitmap[at >> 3]! |= 1 << (at & 7);
      else nullCount++;
    }
  }
  return nullCount === 0 ? { isValid, nullCount } : { isValid, nullCount, bitmap };
}

function copyFixedWidth(
  vector: RawVector,
  vectorSize: number,
  rows: RowRange[],
  width: number,
  length: number,
): ArrayBuffer {
  const source = vectorBytes(vector, vectorSize * width);
  const out = new Uint8Array(length * width);
  let at = 0;
  for (const { start, end } of rows) {
    out.set(source.subarray(start * width, end * width), at);
    at += (end - start) * width;
  }
  return out.buffer;
}

function boolBits(vector: RawVector, vectorSize: number, rows: RowRange[], length: number): Uint8Array {
  const source = vectorBytes(vector, vectorSize);
  const bits = new Uint8Array((length + 7) >> 3);
  let at = 0;
  for (const { start, end } of rows) {
    for (let row = start; row < end; row++, at++) if (source[row] !== 0) bits[at >> 3]! |= 1 << (at & 7);
  }
  return bits;
}

function variableWidth(vector: RawVector, vectorSize: number, rows: RowRange[], length: number, validity: Validity) {
  const entries = StringEntries.of(vector, vectorSize);
  const valueOffsets = new Int32Array(length + 1);
  let total = 0;
  let at = 0;
  for (const { start, end } of rows) {
    for (let row = start; row < end; row++) {
      if (validity.isValid(row)) total += entries.byteLength(row);
      valueOffsets[++at] = total;
    }
  }
  const data = new Uint8Array(total);
  let written = 0;
  for (const { start, end } of rows) written = entries.copy(start, end, data, written, validity.isValid);
  return { valueOffsets, data };
}

/** The child rows a list column's rows cover, with adjacent ranges merged, and the Arrow offsets. */
function listRanges(vector: RawVector, vectorSize: number, rows: RowRange[], length: number, validity: Validity) {
  const entries = vectorBytes(vector, vectorSize * LIST_ENTRY_BYTES);
  const view = new DataView(entries.buffer, entries.byteOffset, entries.byteLength);
  const word = (at: number) => view.getUint32(at, true) + view.getUint32(at + 4, true) * 0x1_0000_0000;
  const valueOffsets = new Int32Array(length + 1);
  const childRows: RowRange[] = [];
  let at = 0;
  for (const { start, end } of rows) {
    for (let row = start; row < end; row++, at++) {
      const size = validity.isValid(row) ? word(row * LIST_ENTRY_BYTES + 8) : 0;
      valueOffsets[at + 1] = valueOffsets[at]! + size;
      if (size === 0) continue;
      const first = word(row * LIST_ENTRY_BYTES);
      const last = childRows[childRows.length - 1];
      if (last && last.end === first) last.end = first + size;
      else childRows.push({ start: first, end: first + size });
    }
  }
  return { valueOffsets, childRows };
}

/** Converts `rows` of a DuckDB vector of `vectorSize` rows, read with the layout of `shape`. */
export function columnData(shape: ColumnShape, vector: RawVector, vectorSize: number, rows: RowRange[]): Data {
  const length = rowCount(rows);
  const validity = validityOf(vector, vectorSize, rows, length);
  const common = { length, nullCount: validity.nullCount, nullBitmap: validity.bitmap };
  const { layout } = shape;
  switch (layout.kind) {
    case 'bool':
      return makeData({ ...common, type: shape.arrow as Bool, data: boolBits(vector, vectorSize, rows, length) });
    case 'int64':
      return makeData({
        ...common,
        type: shape.arrow as Int64,
        data: new BigInt64Array(copyFixedWidth(vector, vectorSize, rows, 8, length)),
      });
    case 'timestamp':
      return makeData({
        ...common,
        type: shape.arrow as TimestampMicrosecond,
        data: new BigInt64Array(copyFixedWidth(vector, vectorSize, rows, 8, length)),
      });
    case 'time':
      return makeData({
        ...common,
        type: shape.arrow as TimeMicrosecond,
        data: new BigInt64Array(copyFixedWidth(vector, vectorSize, rows, 8, length)),
      });
    case 'float64':
      return makeData({
        ...common,
        type: shape.arrow as Float64,
        data: new Float64Array(copyFixedWidth(vector, vectorSize, rows, 8, length)),
      });
    case 'date':
      return makeData({
        ...common,
        type: shape.arrow as DateDay,
        data: new Int32Array(copyFixedWidth(vector, vectorSize, rows, 4, length)),
      });
    case 'decimal':
      // DuckDB's HUGEINT (lower 64 bits, then upper) is the little-endian 128-bit integer Arrow expects.
      return makeData({
        ...common,
        type: shape.arrow as Decimal,
        data: new Uint32Array(copyFixedWidth(vector, vectorSize, rows, 16, length)),
      });
    case 'utf8':
      return makeData({
        ...common,
        type: shape.arrow as Utf8,
        ...variableWidth(vector, vectorSize, rows, length, validity),
      });
    case 'binary':
      return makeData({
        ...common,
        type: shape.arrow as Binary,
        ...variableWidth(vector, vectorSize, rows, length, validity),
      });
    case 'struct':
      return makeData({
        ...common,
        type: shape.arrow as Struct,
        children: layout.children.map((child, i) => columnData(child, structChild(vector, i), vectorSize, rows)),
      });
    case 'list': {
      const { valueOffsets, childRows } = listRanges(vector, vectorSize, rows, length, validity);
      const { child, size } = listChild(vector);
      return makeData({
        ...common,
        type: shape.arrow as List,
        valueOffsets,
        child: columnData(layout.element, child, size, childRows),
      });
    }
  }
}
