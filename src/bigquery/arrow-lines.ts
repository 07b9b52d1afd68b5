// Arrow record batches from the Storage Read API turned straight into the lines of a text column
// (line-spec.ts): the column's bytes are copied out of the batch in one piece and the newlines put
// in place, and the pinned columns are checked on the batch's buffers, without a JS value per row.
import { Buffer } from 'node:buffer';
import { RecordBatchReader, Type, type Data, type DataType } from 'apache-arrow';
import { NEWLINE, notAsSpecified, type LineSpec } from './line-spec.js';

const TWO_TO_32 = 2 ** 32;
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
const [LOW, HIGH] = LITTLE_ENDIAN ? [0, 1] : [1, 0];

/** Lines of one record batch (or the part of it asked for); `lines` is valid until the next batch is read. */
export interface LineChunk {
  lines: Buffer;
  rows: number;
}

/** Whether value `index` of a column is not NULL; a column without NULLs has no bitmap to read. */
function validity(data: Data): (index: number) => boolean {
  const bitmap = data.nullBitmap;
  if (data.nullCount === 0 || bitmap === undefined || bitmap.length === 0) return () => true;
  return (index) => (bitmap[index >> 3]! & (1 << (index & 7))) !== 0;
}

function columnOf(children: readonly Data<DataType>[], column: number, typeId: Type): Data<DataType> {
  const data = children[column];
  if (data === undefined || data.type.typeId !== typeId) {
    throw new Error(`the Storage Read API sent no column ${column} of Arrow type ${Type[typeId]}`);
  }
  return data;
}

/** A 64-bit column's values as pairs of 32-bit words (apache-arrow gives BigInt64Array, or words). */
function wordsOf(data: Data<DataType>): Int32Array {
  const values = data.values as BigInt64Array | Int32Array;
  return values instanceof BigInt64Array ? new Int32Array(values.buffer, values.byteOffset, values.length * 2) : values;
}

/** The value of 64-bit words `index`, exact within ±2^53 (timestamps in microseconds are). */
function int64At(words: Int32Array, index: number): number {
  return words[2 * index + HIGH]! * TWO_TO_32 + (words[2 * index + LOW]! >>> 0);
}

/** Checks that rows [first, end) of a UTF-8 column all hold `expected`: their offsets step by its length, and their bytes repeat it. */
function checkRepeated(data: Data<DataType>, rows: number, expected: Buffer, repeated: Buffer, firstRow: number): void {
  const offsets = data.valueOffsets as Int32Array;
  const values = data.values as Uint8Array;
  const length = expected.length;
  const other = `holds another value than ${JSON.stringify(expected.toString())}`;
  const isValid = validity(data);
  for (let row = 0; row < rows; row++) {
    const index = data.offset + row;
    if (!isValid(index) || offsets[index + 1]! - offsets[index]! !== length)
      throw notAsSpecified(firstRow + row, other);
  }
  const start = offsets[data.offset]!;
  for (let at = start, stop = offsets[data.offset + rows]!; at < stop; at += repeated.length) {
    const take = Math.min(repeated.length, stop - at);
    if (Buffer.compare(Buffer.from(values.buffer, values.byteOffset + at, take), repeated.subarray(0, take)) !== 0) {
      let differs = at;
      while (values[differs] === repeated[differs - at]) differs++;
      throw notAsSpecified(firstRow + Math.floor((differs - start) / length), other);
    }
  }
}

/**
 * Writes rows [from, to) of a UTF-8 column (`values`, `offsets`) as lines into `out` at `at`, and
 * returns where they end: the values are copied in one piece, then, from the last, each is moved
 * right by the newlines that go before it and followed by its own newline if it has none.
 */
export function appendLines(
  values: Uint8Array,
  offsets: Int32Array,
  from: number,
  to: number,
  out: Uint8Array,
  at: number,
): number {
  const base = offsets[from]!;
  const runEnd = offsets[to]!;
  out.set(values.subarray(base, runEnd), at);
  let added = 0;
  for (let row = from; row < to; row++) {
    const end = offsets[row + 1]!;
    if (end === offsets[row]! || values[end - 1] !== NEWLINE) added++;
  }
  for (let row = to - 1, shift = added; row >= from && shift > 0; row--) {
    const start = at + offsets[row]! - base;
    const end = at + offsets[row + 1]! - base;
    if (end === start || values[offsets[row + 1]! - 1] !== NEWLINE) out[end + --shift] = NEWLINE;
    if (shift > 0 && end > start) out.copyWithin(start + shift, start, end);
  }
  return at + runEnd - base + added;
}

/** The most bytes of lines handed over at once (but at least one line): a batch may hold several MiB. */
const PIECE_BYTES = 1 << 20;

/** Turns record batches into lines; holds one buffer, reused from piece to piece. */
export class ArrowLines {
  private out = Buffer.alloc(0);
  private readonly expected: { column: number; value: Buffer; repeated: Buffer }[];

  constructor(private readonly spec: LineSpec) {
    this.expected = spec.strings.map(({ column, value }) => {
      const bytes = Buffer.from(value);
      return {
        column,
        value: bytes,
        repeated: Buffer.from(value.repeat(Math.max(1, Math.ceil(4096 / Math.max(1, bytes.length))))),
      };
    });
  }

  /**
   * The lines of the first `limit` rows of the batches in `message` (schema and record batch, as
   * BatchBuffer.join puts them), in pieces of at most PIECE_BYTES (or one line); every row of a
   * batch is checked before its first piece. `firstRow` is the result row the message starts at,
   * for what a failed check says.
   */
  *chunks(message: Uint8Array, limit: number, firstRow: number): Generator<LineChunk> {
    let left = limit;
    let row = firstRow;
    for (const batch of RecordBatchReader.from(message).readAll()) {
      if (left <= 0) return;
      const rows = Math.min(batch.numRows, left);
      const text = this.checked(batch.data.children, rows, row);
      const offsets = text.valueOffsets as Int32Array;
      const values = text.values as Uint8Array;
      for (let from = text.offset, end = text.offset + rows; from < end;) {
        let to = from + 1;
        while (to < end && offsets[to + 1]! - offsets[from]! + (to + 1 - from) <= PIECE_BYTES) to++;
        const most = offsets[to]! - offsets[from]! + (to - from);
        if (this.out.length < most) this.out = Buffer.allocUnsafe(Math.max(most, PIECE_BYTES));
        yield { lines: this.out.subarray(0, appendLines(values, offsets, from, to, this.out, 0)), rows: to - from };
        from = to;
      }
      left -= rows;
      row += rows;
    }
  }

  /** Checks the first `rows` rows of a batch against the spec; their text column. */
  private checked(children: readonly Data<DataType>[], rows: number, firstRow: number): Data<DataType> {
    const { spec } = this;
    for (const { column, value, repeated } of this.expected) {
      checkRepeated(columnOf(children, column, Type.Utf8), rows, value, repeated, firstRow);
    }
    for (const { column, value } of spec.integers) {
      const data = columnOf(children, column, Type.Int);
      const words = wordsOf(data);
      const isValid = validity(data);
      for (let row = 0; row < rows; row++) {
        if (!isValid(data.offset + row) || int64At(words, data.offset + row) !== value) {
          throw notAsSpecified(firstRow + row, `holds another value than ${value} in column ${column}`);
        }
      }
    }
    const time = columnOf(children, spec.time.column, Type.Timestamp);
    const times = wordsOf(time);
    const timeIsValid = validity(time);
    for (let row = 0; row < rows; row++) {
      const micros = int64At(times, time.offset + row);
      if (!timeIsValid(time.offset + row) || micros < spec.time.startMicros || micros >= spec.time.endMicros) {
        throw notAsSpecified(firstRow + row, 'has a timestamp outside the span read');
      }
    }
    const text = columnOf(children, spec.textColumn, Type.Utf8);
    const textIsValid = validity(text);
    for (let row = 0; row < rows && text.nullCount > 0; row++) {
      if (!textIsValid(text.offset + row)) throw notAsSpecified(firstRow + row, 'has no text');
    }
    return text;
  }
}
