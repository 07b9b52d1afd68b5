// One DuckDB vector (a column of a data chunk) as Arrow column data, built from DuckDB's own buffers:
// fixed-width values are copied as bytes, validity masks keep their bit layout, and strings are
// gathered into one Arrow data buffer. No JS value is made per row, and the buffers come from the
// batch's arena.
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
import type { BatchArena } from './batch-arena.js';
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

/** Rows of a vector being converted, and the arena their buffers come from. */
interface Conversion {
  arena: BatchArena;
  vector: RawVector;
  /** Rows in the vector (its buffers' extent), not rows converted. */
  vectorSize: number;
  rows: RowRange[];
  /** Rows converted. */
  length: number;
}

function int32s(arena: BatchArena, count: number): Int32Array {
  const bytes = arena.take(count * 4);
  return new Int32Array(bytes.buffer, bytes.byteOffset, count);
}

function validityOf({ arena, vector, vectorSize, rows, length }: Conversion): Validity {
  const mask = vectorValidity(vector, vectorSize);
  if (!mask) return { isValid: () => true, nullCount: 0 };
  const isValid = (row: number) => ((mask[row >> 3]! >> (row & 7)) & 1) === 1;
  const bitmap = arena.take((length + 7) >> 3, true);
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

function copyFixedWidth({ arena, vector, vectorSize, rows, length }: Conversion, width: number): Uint8Array {
  const source = vectorBytes(vector, vectorSize * width);
  const out = arena.take(length * width);
  let at = 0;
  for (const { start, end } of rows) {
    out.set(source.subarray(start * width, end * width), at);
    at += (end - start) * width;
  }
  return out;
}

/** `bytes` as a typed array of `Type`, whose values are `width` bytes each, as makeData takes them. */
function viewAs<T>(
  Type: new (buffer: ArrayBuffer, byteOffset: number, length: number) => T,
  bytes: Uint8Array,
  width: number,
): T {
  return new Type(bytes.buffer as ArrayBuffer, bytes.byteOffset, bytes.byteLength / width);
}

function boolBits({ arena, vector, vectorSize, rows, length }: Conversion): Uint8Array {
  const source = vectorBytes(vector, vectorSize);
  const bits = arena.take((length + 7) >> 3, true);
  let at = 0;
  for (const { start, end } of rows) {
    for (let row = start; row < end; row++, at++) if (source[row] !== 0) bits[at >> 3]! |= 1 << (at & 7);
  }
  return bits;
}

function variableWidth({ arena, vector, vectorSize, rows, length }: Conversion, validity: Validity) {
  const entries = StringEntries.of(vector, vectorSize);
  const valueOffsets = int32s(arena, length + 1);
  valueOffsets[0] = 0;
  let total = 0;
  let at = 0;
  for (const { start, end } of rows) {
    for (let row = start; row < end; row++) {
      if (validity.isValid(row)) total += entries.byteLength(row);
      valueOffsets[++at] = total;
    }
  }
  const data = arena.take(total);
  let written = 0;
  for (const { start, end } of rows) written = entries.copy(start, end, data, written, validity.isValid);
  return { valueOffsets, data };
}

/** The child rows a list column's rows cover, with adjacent ranges merged, and the Arrow offsets. */
function listRanges({ arena, vector, vectorSize, rows, length }: Conversion, validity: Validity) {
  const entries = vectorBytes(vector, vectorSize * LIST_ENTRY_BYTES);
  const view = new DataView(entries.buffer, entries.byteOffset, entries.byteLength);
  const word = (at: number) => view.getUint32(at, true) + view.getUint32(at + 4, true) * 0x1_0000_0000;
  const valueOffsets = int32s(arena, length + 1);
  valueOffsets[0] = 0;
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

/**
 * Converts `rows` of a DuckDB vector of `vectorSize` rows, read with the layout of `shape`, into
 * buffers of `arena` (valid until its next reset).
 */
export function columnData(
  arena: BatchArena,
  shape: ColumnShape,
  vector: RawVector,
  vectorSize: number,
  rows: RowRange[],
): Data {
  const length = rowCount(rows);
  const conversion: Conversion = { arena, vector, vectorSize, rows, length };
  const validity = validityOf(conversion);
  const fixedWidth = (width: number) => copyFixedWidth(conversion, width);
  const common = { length, nullCount: validity.nullCount, nullBitmap: validity.bitmap };
  const { layout } = shape;
  switch (layout.kind) {
    case 'bool':
      return makeData({
        ...common,
        type: shape.arrow as Bool,
        data: boolBits(conversion),
      });
    case 'int64':
      return makeData({
        ...common,
        type: shape.arrow as Int64,
        data: viewAs(BigInt64Array, fixedWidth(8), 8),
      });
    case 'timestamp':
      return makeData({
        ...common,
        type: shape.arrow as TimestampMicrosecond,
        data: viewAs(BigInt64Array, fixedWidth(8), 8),
      });
    case 'time':
      return makeData({
        ...common,
        type: shape.arrow as TimeMicrosecond,
        data: viewAs(BigInt64Array, fixedWidth(8), 8),
      });
    case 'float64':
      return makeData({
        ...common,
        type: shape.arrow as Float64,
        data: viewAs(Float64Array, fixedWidth(8), 8),
      });
    case 'date':
      return makeData({
        ...common,
        type: shape.arrow as DateDay,
        data: viewAs(Int32Array, fixedWidth(4), 4),
      });
    case 'decimal':
      // DuckDB's HUGEINT (lower 64 bits, then upper) is the little-endian 128-bit integer Arrow expects.
      return makeData({
        ...common,
        type: shape.arrow as Decimal,
        data: viewAs(Uint32Array, fixedWidth(16), 4),
      });
    case 'utf8':
      return makeData({
        ...common,
        type: shape.arrow as Utf8,
        ...variableWidth(conversion, validity),
      });
    case 'binary':
      return makeData({
        ...common,
        type: shape.arrow as Binary,
        ...variableWidth(conversion, validity),
      });
    case 'struct':
      return makeData({
        ...common,
        type: shape.arrow as Struct,
        children: layout.children.map((child, i) => columnData(arena, child, structChild(vector, i), vectorSize, rows)),
      });
    case 'list': {
      const { valueOffsets, childRows } = listRanges(conversion, validity);
      const { child, size } = listChild(vector);
      return makeData({
        ...common,
        type: shape.arrow as List,
        valueOffsets,
        child: columnData(arena, layout.element, child, size, childRows),
      });
    }
  }
}
