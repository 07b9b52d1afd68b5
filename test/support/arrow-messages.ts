// Arrow IPC messages as a read session and a ReadRows response carry them: the schema message, then
// one record batch message, built from named columns of equal length.
import { Field, makeData, RecordBatch, RecordBatchStreamWriter, Schema, Struct, type Vector } from 'apache-arrow';

export function arrowMessages(columns: Record<string, Vector>): { schema: Uint8Array; batch: Uint8Array } {
  const fields = Object.entries(columns).map(([name, vector]) => new Field(name, vector.type, true));
  const schema = new Schema(fields);
  const children = Object.values(columns).map((vector) => vector.data[0]!);
  const length = Object.values(columns)[0]?.length ?? 0;
  const batch = new RecordBatch(schema, makeData({ type: new Struct(fields), length, nullCount: 0, children }));
  const schemaOnly = new RecordBatchStreamWriter();
  schemaOnly.reset(undefined, schema);
  const both = RecordBatchStreamWriter.writeAll([batch]).toUint8Array(true);
  // The stream is the schema message, then the batch message, then its end marker (8 bytes).
  const schemaLength = schemaOnly.toUint8Array(true).byteLength - 8;
  return { schema: both.subarray(0, schemaLength), batch: both.subarray(schemaLength) };
}
