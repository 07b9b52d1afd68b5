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

/** The rows of one ReadRows response: `schema` is the session's serialized Arrow schema. */
export function rowsOfBatch(schema: Uint8Array, batch: Uint8Array): RawRow[] {
  const rows: RawRow[] = [];
  for (const recordBatch of RecordBatchReader.from(Buffer.concat([schema, batch])).readAll()) {
    const columns = recordBatch.data.children.map(columnReader);
    for (let row = 0; row < recordBatch.numRows; row++) {
      const values: (string | null)[] = new Array<string | null>(columns.length);
      for (let column = 0; column < columns.length; column++) values[column] = columns[column]!(row);
      rows.push(values);
    }
  }
  return rows;
}
