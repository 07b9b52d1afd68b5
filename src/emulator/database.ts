// The embedded DuckDB instance. Table data and emulator metadata live in the
// main database (a file when dbPath is given); query results live in an
// attached in-memory database so they never bloat the file.
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { BYTE_LENGTH_MACRO } from './sql/functions.js';

export const DATA_SCHEMA = 'bq_data';
export const META_SCHEMA = 'bq_meta';
export const RESULTS_DB = 'bq_results';

export class Database {
  private writeQueue: Promise<unknown> = Promise.resolve();
  private writer: DuckDBConnection | undefined;

  private constructor(private readonly instance: DuckDBInstance) {}

  static async open(path: string): Promise<Database> {
    const instance = await DuckDBInstance.create(path);
    const db = new Database(instance);
    await db.withConnection(async (c) => {
      // Timestamps are stored as naive TIMESTAMP holding UTC; pinning the
      // session zone keeps every TIMESTAMPTZ conversion UTC-based too.
      await c.run(`SET GLOBAL TimeZone = 'UTC'`);
      // GoogleSQL sorts NULL first in ascending order and last in descending order.
      await c.run(`SET GLOBAL default_null_order = 'nulls_first_on_asc_last_on_desc'`);
      await c.run(`ATTACH ':memory:' AS ${RESULTS_DB}`);
      await c.run(`CREATE SCHEMA IF NOT EXISTS ${DATA_SCHEMA}`);
      await c.run(`CREATE SCHEMA IF NOT EXISTS ${META_SCHEMA}`);
      // BYTE_LENGTH takes STRING and BYTES. DuckDB's cast of a VARCHAR to BLOB reads escapes and
      // refuses non-ASCII text, so a string's length in bytes is strlen. Not typed overloads: those
      // cannot tell a query parameter's type, and need a newer storage version than a file may have.
      await c.run(
        `CREATE OR REPLACE MACRO ${BYTE_LENGTH_MACRO}(x) AS CASE WHEN typeof(x) = 'BLOB'` +
          ' THEN octet_length(TRY_CAST(x AS BLOB)) ELSE strlen(CAST(x AS VARCHAR)) END',
      );
    });
    db.writer = await instance.connect();
    return db;
  }

  /** Runs fn on a fresh connection (for reads and query execution). */
  async withConnection<T>(fn: (c: DuckDBConnection) => Promise<T>): Promise<T> {
    const conn = await this.instance.connect();
    try {
      return await fn(conn);
    } finally {
      conn.closeSync();
    }
  }

  /**
   * Runs fn on the single writer connection, one at a time. All data and
   * metadata changes go through here so they never conflict with each other.
   */
  exclusive<T>(fn: (c: DuckDBConnection) => Promise<T>): Promise<T> {
    const run = this.writeQueue.then(() => fn(this.writer!));
    this.writeQueue = run.catch(() => undefined);
    return run;
  }

  /** Like exclusive(), inside a transaction. */
  transaction<T>(fn: (c: DuckDBConnection) => Promise<T>): Promise<T> {
    return this.exclusive(async (c) => {
      await c.run('BEGIN TRANSACTION');
      try {
        const result = await fn(c);
        await c.run('COMMIT');
        return result;
      } catch (err) {
        await c.run('ROLLBACK').catch(() => undefined);
        throw err;
      }
    });
  }

  async close(): Promise<void> {
    await this.writeQueue;
    try {
      await this.writer?.run('CHECKPOINT');
    } catch {
      // in-memory databases have nothing to checkpoint
    }
    this.writer?.closeSync();
    this.instance.closeSync();
  }
}

export function sqlString(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}
