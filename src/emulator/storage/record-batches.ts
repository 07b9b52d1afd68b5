// DuckDB data chunks as serialized Arrow IPC messages, the payload of the Storage Read API: the
// schema message once (ReadSession.arrow_schema), then one record batch message per batch, each
// without the schema, as a client concatenates the two to decode a batch.
import type { DuckDBDataChunk } from '@duckdb/node-api';
import { makeData, RecordBatch, RecordBatchStreamWriter, Struct, type Schema } from 'apache-arrow';
import { arrowSchema, type ServedColumn } from './arrow-schema.js';
import { columnData, type RowRange } from './column-data.js';
import { chunkVector, StringEntries, vectorValidity } from './duckdb-vectors.js';

/** A batch is cut before it passes this many bytes of column data (a single row may pass it). */
export const MAX_BATCH_BYTES = 4 * 1024 * 1024;

export interface EncodedBatch {
  rows: number;
  /** One Arrow IPC record batch message. */
  message: Uint8Array;
}

function ipcMessages(schema: Schema, batch?: RecordBatch): Uint8Array {
  const writer = new RecordBatchStreamWriter();
  if (batch) writer.write(batch);
  else writer.reset(undefined, schema);
  return writer.toUint8Array(true);
}

export class BatchEncoder {
  readonly schema: Schema;
  /** The Arrow IPC schema message. */
  readonly schemaMessage: Uint8Array;
  private readonly structType: Struct;

  constructor(private readonly columns: ServedColumn[]) {
    this.schema = arrowSchema(columns);
    this.schemaMessage = ipcMessages(this.schema);
    this.structType = new Struct(this.schema.fields);
  }

  /**
   * The rows of a chunk as record batch messages of at most about MAX_BATCH_BYTES each.
   * `firstColumn`: the chunk column holding the first served column (those before it are not served).
   */
  *encode(chunk: DuckDBDataChunk, firstColumn: number): Generator<EncodedBatch> {
    const weights = this.rowWeights(chunk, firstColumn);
    const end = chunk.rowCount;
    let from = 0;
    while (from < end) {
      let to = from;
      let bytes = 0;
      while (to < end && (to === from || bytes + weights(to) <= MAX_BATCH_BYTES)) bytes += weights(to++);
      yield { rows: to - from, message: this.message(chunk, firstColumn, { start: from, end: to }) };
      from = to;
    }
  }

  private message(chunk: DuckDBDataChunk, firstColumn: number, rows: RowRange): Uint8Array {
    const size = chunk.rowCount;
    const children = this.columns.map((column, i) =>
      columnData(column.shape, chunkVector(chunk, firstColumn + i), size, [rows]),
    );
    const data = makeData({ type: this.structType, length: rows.end - rows.start, nullCount: 0, children });
    const all = ipcMessages(this.schema, new RecordBatch(this.schema, data));
    return all.subarray(this.schemaMessage.byteLength);
  }

  /** Approximate bytes of each row: string lengths for top-level STRING/BYTES columns, 8 for the rest. */
  private rowWeights(chunk: DuckDBDataChunk, firstColumn: number): (row: number) => number {
    const size = chunk.rowCount;
    let fixed = 0;
    const strings: Array<{ entries: StringEntries; mask: Uint8Array | null }> = [];
    this.columns.forEach((column, i) => {
      const kind = column.shape.layout.kind;
      if (kind === 'utf8' || kind === 'binary') {
        const vector = chunkVector(chunk, firstColumn + i);
        strings.push({ entries: StringEntries.of(vector, size), mask: vectorValidity(vector, size) });
      }
      fixed += kind === 'struct' || kind === 'list' ? 64 : 8;
    });
    if (strings.length === 0) return () => fixed;
    return (row) => {
      let weight = fixed;
      for (const { entries, mask } of strings)
        if (!mask || ((mask[row >> 3]! >> (row & 7)) & 1) === 1) weight += entries.byteLength(row);
      return weight;
    };
  }
}
