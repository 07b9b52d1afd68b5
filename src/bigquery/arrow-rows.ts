// Arrow record batches from the Storage Read API, turned into rows in the REST API's own form
// (RawRow: every value a string, TIMESTAMP as int64 microseconds, DATE as YYYY-MM-DD), so that the
// store cannot tell which API a row came through; only the values of a bytes column asked for stay the
// UTF-8 bytes they are (TextRow). Values are read straight from the batch's buffers: apache-arrow only
// parses the IPC message, and no per-value accessor of its own runs.
import { Buffer } from 'node:buffer';
import { DateUnit, RecordBatchReader, TimeUnit, Type, type Data, type DataType } from 'apache-arrow';
import type { RawRow, TextRow } from './log-warehouse.js';
import { Utf8Text } from './utf8-text.js';

type ColumnReader = (row: number) => string | Utf8Text | null;

const DAY_MS = 86_400_000;

function isValid(data: Data, index: number): boolean {
  if (data.nullCount === 0) return true;
  const bitmap = data.nullBitmap;
  if (bitmap === undefined || bitmap.length === 0) return true;
  return (bitmap[index >> 3]! & (1 << (index & 7))) !== 0;
}

/** Values at most this long are compared with the one before them in the column, and shared if equal. */
const REPEATED_VALUE_BYTES = 64;

function sameBytes(values: Uint8Array, a: number, b: number, length: number): boolean {
  for (let i = length - 1; i >= 0; i--) if (values[a + i] !== values[b + i]) return false;
  return true;
}

/**
 * A UTF-8 column's values as strings. A short value equal to the one before it (the namespace, pod,
 * container and stream of consecutive rows) is the same string again: no new string per row.
 */
function utf8Reader(values: Uint8Array, offsets: Int32Array): (index: number) => string {
  const bytes = Buffer.from(values.buffer, values.byteOffset, values.byteLength);
  let lastStart = 0;
  let lastLength = -1;
  let last = '';
  return (index) => {
    const start = offsets[index]!;
    const length = offsets[index + 1]! - start;
    if (length === lastLength && length <= REPEATED_VALUE_BYTES && sameBytes(values, start, lastStart, length)) {
      return last;
    }
    last = bytes.toString('utf8', start, start + length);
    lastStart = start;
    lastLength = length;
    return last;
  };
}

const TWO_TO_32 = 2 ** 32;
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
/** Above this, a 64-bit value is no longer exact as a JS number. */
const MAX_EXACT_HIGH_WORD = 2 ** 21 - 1;

/**
 * An INT64 column's values as decimal strings, read as two 32-bit words: no BigInt per value (as
 * reading a BigInt64Array element would make), and a value equal to the one before it (the index
 * columns of consecutive rows) is the same string again.
 */
function int64Reader(values: BigInt64Array): (index: number) => string {
  const words = new Int32Array(values.buffer, values.byteOffset, values.length * 2);
  const [lowWord, highWord] = LITTLE_ENDIAN ? [0, 1] : [1, 0];
  let lastLow = 0;
  let lastHigh = 0;
  let last: string | undefined;
  return (index) => {
    const low = words[2 * index + lowWord]!;
    const high = words[2 * index + highWord]!;
    if (last !== undefined && low === lastLow && high === lastHigh) return last;
    lastLow = low;
    lastHigh = high;
    last =
      high >= -MAX_EXACT_HIGH_WORD - 1 && high <= MAX_EXACT_HIGH_WORD
        ? String(high * TWO_TO_32 + (low >>> 0))
        : String(values[index]);
    return last;
  };
}

function valueReader(data: Data<DataType>): (index: number) => string {
  switch (data.type.typeId) {
    case Type.Utf8:
      return utf8Reader(data.values as Uint8Array, data.valueOffsets as Int32Array);
    case Type.Timestamp:
      if ((data.type as unknown as { unit: TimeUnit }).unit !== TimeUnit.MICROSECOND) break;
    // falls through: microseconds are read as the int64 they are
    case Type.Int: {
      const values = data.values as BigInt64Array | Int32Array;
      if (values instanceof BigInt64Array) return int64Reader(values);
      return (index) => String(values[index]);
    }
    case Type.Date: {
      if ((data.type as unknown as { unit: DateUnit }).unit !== DateUnit.DAY) break;
      const days = data.values as Int32Array;
      return (index) => new Date(days[index]! * DAY_MS).toISOString().slice(0, 10);
    }
    case Type.Bool: {
      const bits = data.values as Uint8Array;
      return (index) => ((bits[index >> 3]! & (1 << (index & 7))) !== 0 ? 'true' : 'false');
    }
    case Type.Float: {
      const values = data.values as Float64Array;
      return (index) => String(values[index]);
    }
  }
  throw new Error(`the Storage Read API sent a column of Arrow type ${String(data.type)}, which is not read`);
}

/** A UTF-8 column's values as their bytes in the batch, without a string per value. */
function utf8BytesReader(values: Uint8Array, offsets: Int32Array): (index: number) => Utf8Text {
  const bytes = Buffer.from(values.buffer, values.byteOffset, values.byteLength);
  return (index) => new Utf8Text(bytes, offsets[index]!, offsets[index + 1]!);
}

function columnReader(data: Data<DataType>, asBytes: boolean): ColumnReader {
  const value =
    asBytes && data.type.typeId === Type.Utf8
      ? utf8BytesReader(data.values as Uint8Array, data.valueOffsets as Int32Array)
      : valueReader(data);
  const { offset } = data;
  return (row) => {
    const index = offset + row;
    return isValid(data, index) ? value(index) : null;
  };
}

/**
 * Where a response's schema and record batch are put together for apache-arrow: one buffer, reused
 * from batch to batch, whose start is 8-byte aligned. The IPC format pads each message to 8 bytes,
 * so the batch's body lies aligned in it too, and apache-arrow reads the body where it is instead of
 * copying it (it copies a misaligned one). Nothing read from it outlives its batch: values leave it
 * as JS strings, or as Utf8Text valid until their delivery resolves.
 */
export class BatchBuffer {
  private buffer = new Uint8Array(0);

  /** `schema` then `batch`, in the reused buffer; valid until the next call. */
  join(schema: Uint8Array, batch: Uint8Array): Uint8Array {
    const length = schema.byteLength + batch.byteLength;
    if (this.buffer.byteLength < length) this.buffer = new Uint8Array(Math.max(length, this.buffer.byteLength * 2));
    this.buffer.set(schema, 0);
    this.buffer.set(batch, schema.byteLength);
    return this.buffer.subarray(0, length);
  }
}

/**
 * The rows of one ReadRows response, a slice of at most `sliceRows` rows at a time: only one slice
 * of JS values is alive at once, however large the batch. `message` is the session's serialized
 * Arrow schema followed by the response's record batch (`BatchBuffer.join`); the response itself
 * is not needed any more, so it can be collected while the rows are written. The values of column
 * `bytesColumn`, if it is a UTF-8 column, come as Utf8Text; without it, every value is a string.
 */
export function rowSlicesOfBatch(message: Uint8Array, sliceRows: number): Generator<RawRow[]>;
export function rowSlicesOfBatch(message: Uint8Array, sliceRows: number, bytesColumn?: number): Generator<TextRow[]>;
export function* rowSlicesOfBatch(message: Uint8Array, sliceRows: number, bytesColumn?: number): Generator<TextRow[]> {
  for (const recordBatch of RecordBatchReader.from(message).readAll()) {
    const columns = recordBatch.data.children.map((data, column) => columnReader(data, column === bytesColumn));
    for (let first = 0; first < recordBatch.numRows; first += sliceRows) {
      const end = Math.min(recordBatch.numRows, first + sliceRows);
      const rows: TextRow[] = new Array<TextRow>(end - first);
      for (let row = first; row < end; row++) {
        const values: TextRow = new Array<string | Utf8Text | null>(columns.length);
        for (let column = 0; column < columns.length; column++) values[column] = columns[column]!(row);
        rows[row - first] = values;
      }
      yield rows;
    }
  }
}
