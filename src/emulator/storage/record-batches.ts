// DuckDB data chunks as serialized Arrow IPC messages, the payload of the Storage Read API: the
// schema message once (ReadSession.arrow_schema), then one record batch message per batch, each
// without the schema, as a client concatenates the two to decode a batch. A batch's message is
// written straight into the caller's buffer (the gRPC response), not joined from pieces first.
import type { DuckDBDataChunk } from '@duckdb/node-api';
import { makeData, RecordBatch, RecordBatchStreamWriter, Struct, type Schema } from 'apache-arrow';
import { Message, RecordBatch as RecordBatchHeader } from 'apache-arrow/ipc/metadata/message';
import { VectorAssembler } from 'apache-arrow/visitor/vectorassembler';
import { arrowSchema, type ServedColumn } from './arrow-schema.js';
import type { BatchArena } from './batch-arena.js';
import { columnData, type RowRange } from './column-data.js';
import { chunkVector, StringEntries, vectorValidity } from './duckdb-vectors.js';

/** A batch is cut before it passes this many bytes of column data (a single row may pass it). */
export const MAX_BATCH_BYTES = 4 * 1024 * 1024;

/** The IPC format's continuation marker, then the length of the metadata that follows. */
const PREFIX_BYTES = 8;

export interface EncodedBatch {
  rows: number;
  /** Bytes of its Arrow IPC record batch message. */
  byteLength: number;
  /** Writes the message into `out` at `at`; possible only until the next batch is encoded. */
  writeTo(out: Uint8Array, at: number): void;
}

function padded(bytes: number): number {
  return (bytes + 7) & ~7;
}

export class BatchEncoder {
  readonly schema: Schema;
  /** The Arrow IPC schema message. */
  readonly schemaMessage: Uint8Array;
  private readonly structType: Struct;

  constructor(private readonly columns: ServedColumn[]) {
    this.schema = arrowSchema(columns);
    const writer = new RecordBatchStreamWriter();
    writer.reset(undefined, this.schema);
    this.schemaMessage = writer.toUint8Array(true);
    this.structType = new Struct(this.schema.fields);
  }

  /**
   * The rows of a chunk as record batch messages of at most about MAX_BATCH_BYTES each, their
   * column buffers in `arena`. `firstColumn`: the chunk column holding the first served column
   * (those before it are not served).
   */
  *encode(chunk: DuckDBDataChunk, firstColumn: number, arena: BatchArena): Generator<EncodedBatch> {
    const weights = this.rowWeights(chunk, firstColumn);
    const end = chunk.rowCount;
    let from = 0;
    while (from < end) {
      let to = from;
      let bytes = 0;
      while (to < end && (to === from || bytes + weights(to) <= MAX_BATCH_BYTES)) bytes += weights(to++);
      arena.reset();
      yield this.batch(chunk, firstColumn, { start: from, end: to }, arena);
      from = to;
    }
  }

  private batch(chunk: DuckDBDataChunk, firstColumn: number, rows: RowRange, arena: BatchArena): EncodedBatch {
    const size = chunk.rowCount;
    const children = this.columns.map((column, i) =>
      columnData(arena, column.shape, chunkVector(chunk, firstColumn + i), size, [rows]),
    );
    const length = rows.end - rows.start;
    const data = makeData({ type: this.structType, length, nullCount: 0, children });
    const body = VectorAssembler.assemble(new RecordBatch(this.schema, data));
    const header = new RecordBatchHeader(length, body.nodes, body.bufferRegions, null);
    const metadata = Message.encode(Message.from(header, body.byteLength));
    const metadataBytes = padded(PREFIX_BYTES + metadata.byteLength) - PREFIX_BYTES;
    return {
      rows: length,
      byteLength: PREFIX_BYTES + metadataBytes + body.byteLength,
      writeTo: (out, at) => {
        const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
        view.setInt32(at, -1, true);
        view.setInt32(at + 4, metadataBytes, true);
        out.set(metadata, at + PREFIX_BYTES);
        out.fill(0, at + PREFIX_BYTES + metadata.byteLength, at + PREFIX_BYTES + metadataBytes);
        const bodyStart = at + PREFIX_BYTES + metadataBytes;
        body.buffers.forEach((buffer, i) => {
          const region = body.bufferRegions[i]!;
          const bytes = new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
          out.set(bytes, bodyStart + region.offset);
          out.fill(0, bodyStart + region.offset + bytes.byteLength, bodyStart + region.offset + region.length);
        });
      },
    };
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
