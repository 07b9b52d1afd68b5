// Reads a row range of a table out of DuckDB one data chunk at a time, in row order. The next chunk
// is fetched only once the consumer has dealt with the previous one, so a slow reader holds back the
// query instead of rows piling up in memory.
import type { DuckDBConnection, DuckDBDataChunk } from '@duckdb/node-api';
import type { Database } from '../database.js';
import { quoteIdent } from '../schema.js';
import type { ServedColumn } from './arrow-schema.js';
import { chunkVector, vectorBytes } from './duckdb-vectors.js';

export interface TableSource {
  relation: string;
  /** The column numbering the rows of a query result (0, 1, …), if the relation has one. */
  rowColumn?: string;
}

/**
 * Gets each chunk and the index of its first served column; resolves to false to stop reading.
 */
export type ChunkConsumer = (chunk: DuckDBDataChunk, firstColumn: number) => Promise<boolean>;

/** Streams rows [start, end) of the source's served columns to `consume`, in row order. */
export async function readRange(
  db: Database,
  source: TableSource,
  columns: ServedColumn[],
  start: bigint,
  end: bigint,
  consume: ChunkConsumer,
): Promise<void> {
  if (start >= end) return;
  const select = columns.map((column) => column.selectSql).join(', ');
  await db.withConnection(async (connection) => {
    if (source.rowColumn === undefined) {
      const sql = `SELECT ${select} FROM ${source.relation} LIMIT ${end - start} OFFSET ${start}`;
      await pump(connection, sql, [], 0, consume);
      return;
    }
    const numbered = await readNumbered(
      connection,
      source.relation,
      source.rowColumn,
      select,
      start,
      end,
      false,
      consume,
    );
    if (numbered.orderLost) {
      await readNumbered(connection, source.relation, source.rowColumn, select, numbered.next, end, true, consume);
    }
  });
}

/**
 * A result table is stored in row order, so a plain range scan normally returns its rows in order
 * without the cost of a sort. Each chunk's row numbers are checked; should a chunk ever come out of
 * order, it is dropped and the rest is read again with ORDER BY.
 */
async function readNumbered(
  connection: DuckDBConnection,
  relation: string,
  rowColumn: string,
  select: string,
  start: bigint,
  end: bigint,
  sorted: boolean,
  consume: ChunkConsumer,
): Promise<{ orderLost: boolean; next: bigint }> {
  const row = quoteIdent(rowColumn);
  const sql = `SELECT ${row}, ${select} FROM ${relation} WHERE ${row} >= $1 AND ${row} < $2${sorted ? ` ORDER BY ${row}` : ''}`;
  let next = start;
  let orderLost = false;
  await pump(connection, sql, [start, end], 1, async (chunk, firstColumn) => {
    if (!numberedFrom(chunk, next)) {
      orderLost = true;
      return false;
    }
    next += BigInt(chunk.rowCount);
    return consume(chunk, firstColumn);
  });
  if (orderLost && sorted) throw new Error(`Rows of ${relation} came back out of order even when sorted`);
  return { orderLost, next };
}

/** Whether the chunk's first column holds first, first + 1, … */
function numberedFrom(chunk: DuckDBDataChunk, first: bigint): boolean {
  const rows = chunk.rowCount;
  const bytes = vectorBytes(chunkVector(chunk, 0), rows * 8);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let expected = Number(first);
  for (let i = 0; i < rows; i++, expected++) {
    const value = view.getUint32(i * 8, true) + view.getInt32(i * 8 + 4, true) * 0x1_0000_0000;
    if (value !== expected) return false;
  }
  return true;
}

/** Fetches the next chunk while the consumer works on the current one, and no further ahead. */
async function pump(
  connection: DuckDBConnection,
  sql: string,
  values: bigint[],
  firstColumn: number,
  consume: ChunkConsumer,
): Promise<void> {
  const result = await connection.stream(sql, values);
  let next = result.fetchChunk();
  try {
    while (true) {
      const chunk = await next;
      if (!chunk || chunk.rowCount === 0) return;
      next = result.fetchChunk();
      if (!(await consume(chunk, firstColumn))) return;
    }
  } finally {
    await next.catch(() => undefined);
  }
}
