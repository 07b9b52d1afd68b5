// Arrow record batches from the Storage Read API, turned into rows in the REST API's own form
// (RawRow: every value a string, TIMESTAMP as int64 microseconds, DATE as YYYY-MM-DD), so that the
// store cannot tell which API a row came through. Values are read straight from the batch's buffers:
// apache-arrow only parses the IPC message, and no per-value accessor of its own runs.
import { Buffer } from 'node:buffer';
import { DateUnit, RecordBatchReader, TimeUnit, Type, type Data, type DataType } from 'apache-arrow';
import type { RawRow } from './log-warehouse.js';

type ColumnReader = (row: number) => string | null;

const DAY_MS = 86_400_000;

function isValid(data: Data, index: number): boolean {
  if (data.nullCount === 0) return true;
  const bitmap = data.nullBitmap;
  if (bitmap === undefined || bitmap.length === 0) return true;
  return (bitmap[index >> 3]! & (1 << (index & 7))) !== 0;
}

function valueReader(data: Data<DataType>): (index: number) => string {
  switch (data.type.typeId) {
    case Type.Utf8: {
      const values = data.values as Uint8Array;
      const bytes = Buffer.from(values.buffer, values.byteOffset, values.byteLength);
      const offsets = data.valueOffsets as Int32Array;
      return (index) => bytes.toString('utf8', offsets[index], offsets[index + 1]);
    }
    case Type.Timestamp:
      if ((data.type as unknown as { unit: TimeUnit }).unit !== TimeUnit.MICROSECOND) break;
    // falls through: microseconds are read as the int64 they are
    case Type.Int: {
      const values = data.values as BigInt64Array | Int32Array;
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

function columnReader(data: Data<DataType>): ColumnReader {
  const value = valueReader(data);
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
 * as JS strings.
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
 * of JS values is alive at once, however large the batch. `schema` is the session's serialized
 * Arrow schema.
 */
export function* rowSlicesOfBatch(
  schema: Uint8Array,
  batch: Uint8Array,
  sliceRows: number,
  buffer = new BatchBuffer(),
): Generator<RawRow[]> {
  for (const recordBatch of RecordBatchReader.from(buffer.join(schema, batch)).readAll()) {
    const columns = recordBatch.data.children.map(columnReader);
    for (let first = 0; first < recordBatch.numRows; first += sliceRows) {
      const end = Math.min(recordBatch.numRows, first + sliceRows);
      const rows: RawRow[] = new Array<RawRow>(end - first);
      for (let row = first; row < end; row++) {
        const values: (string | null)[] = new Array<string | null>(columns.length);
        for (let column = 0; column < columns.length; column++) values[column] = columns[column]!(row);
        rows[row - first] = values;
      }
      yield rows;
    }
  }
}
