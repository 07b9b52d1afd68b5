// Raw, columnar access to a DuckDB data chunk: the bytes of its vectors as DuckDB lays them out,
// without a JS value per row. It uses the native bindings that @duckdb/node-api itself loads, so the
// chunk handles it gets from the API are the ones these functions expect.
import { createRequire } from 'node:module';
import type { DuckDBDataChunk } from '@duckdb/node-api';
import type * as Bindings from '@duckdb/node-bindings';

const requireFromApi = createRequire(createRequire(import.meta.url).resolve('@duckdb/node-api'));
const duckdb = requireFromApi('@duckdb/node-bindings') as typeof Bindings;

export type RawVector = Bindings.Vector;

/** Size in bytes of DuckDB's string_t: a 4-byte length, then 12 inline bytes or a 4-byte prefix and a pointer. */
const STRING_ENTRY_BYTES = 16;
const MAX_INLINE_STRING = 12;

export function chunkVector(chunk: DuckDBDataChunk, column: number): RawVector {
  return duckdb.data_chunk_get_vector(chunk.chunk, column);
}

/** The first `bytes` bytes of a vector's data, as a view into DuckDB's memory. */
export function vectorBytes(vector: RawVector, bytes: number): Uint8Array {
  return duckdb.vector_get_data(vector, bytes);
}

/**
 * The vector's validity mask (bit i set = row i is not NULL, least significant bit first, the same
 * layout as an Arrow validity bitmap), or null when every row is valid.
 */
export function vectorValidity(vector: RawVector, rows: number): Uint8Array | null {
  const mask = duckdb.vector_get_validity(vector, Math.ceil(rows / 64) * 8) as Uint8Array | null;
  return mask ?? null;
}

export function structChild(vector: RawVector, index: number): RawVector {
  return duckdb.struct_vector_get_child(vector, index);
}

export function listChild(vector: RawVector): { child: RawVector; size: number } {
  return { child: duckdb.list_vector_get_child(vector), size: duckdb.list_vector_get_size(vector) };
}

/** The string_t entries of a VARCHAR or BLOB vector. */
export class StringEntries {
  private readonly view: DataView;

  constructor(private readonly entries: Uint8Array) {
    this.view = new DataView(entries.buffer, entries.byteOffset, entries.byteLength);
  }

  static of(vector: RawVector, rows: number): StringEntries {
    return new StringEntries(vectorBytes(vector, rows * STRING_ENTRY_BYTES));
  }

  byteLength(row: number): number {
    return this.view.getUint32(row * STRING_ENTRY_BYTES, true);
  }

  /**
   * Copies the bytes of rows [start, end) into `out` at `at`; returns the position after them. Rows
   * whose bytes lie back to back in DuckDB's memory (the usual case) are fetched with one native
   * call per run rather than one per row. NULL rows (`valid` false) have no bytes and are skipped.
   */
  copy(start: number, end: number, out: Uint8Array, at: number, valid: (row: number) => boolean): number {
    let pos = at;
    let row = start;
    while (row < end) {
      if (!valid(row)) {
        row++;
        continue;
      }
      const length = this.byteLength(row);
      const entry = row * STRING_ENTRY_BYTES;
      if (length <= MAX_INLINE_STRING) {
        // Byte by byte: a subarray per row cost more than the copy itself.
        const { entries } = this;
        for (let i = 0; i < length; i++) out[pos + i] = entries[entry + 4 + i]!;
        pos += length;
        row++;
        continue;
      }
      let runEnd = this.pointer(row) + length;
      let runBytes = length;
      let next = row + 1;
      while (next < end && valid(next)) {
        const nextLength = this.byteLength(next);
        if (nextLength <= MAX_INLINE_STRING || this.pointer(next) !== runEnd) break;
        runEnd += nextLength;
        runBytes += nextLength;
        next++;
      }
      const bytes = duckdb.get_data_from_pointer(
        this.entries.buffer as ArrayBuffer,
        this.entries.byteOffset + entry + 8,
        runBytes,
      );
      out.set(bytes, pos);
      pos += runBytes;
      row = next;
    }
    return pos;
  }

  /** The address of a non-inlined string; user-space addresses fit a double exactly. */
  private pointer(row: number): number {
    const at = row * STRING_ENTRY_BYTES + 8;
    return this.view.getUint32(at, true) + this.view.getUint32(at + 4, true) * 0x1_0000_0000;
  }
}
