// Query results live in DuckDB, not in JS memory: each executed query is
// materialised into a table of the in-memory results database, with a row
// number column, and pages are read from it by row-number range. Old result
// tables are dropped after a TTL, when there are too many, or when together
// they take more memory than allowed.
import type { DuckDBType } from '@duckdb/node-api';
import { RESULTS_DB, type Database } from './database.js';
import type { Plan } from './planner.js';
import { apiField, formatRow, type ApiField, type TimestampFormat } from './row-format.js';
import { quoteIdent } from './schema.js';

/**
 * What numbers the rows of a materialised result (0, 1, …): DuckDB's rowid, since a table made from
 * an ordered query keeps its rows in that order; a column of row numbers only for a result that
 * has a column named rowid of its own (numbering with a window took a 1 GiB sweep from 1.4 to 2.2 s).
 */
const ROWID = 'rowid';
const ROW_COLUMN = '__bq_emulator_row';
const MAX_PAGE_ROWS = 10_000;
const MAX_PAGE_BYTES = 10 * 1024 * 1024;

export interface ResultSet {
  /** Relation to page from. */
  relation: string;
  /** What numbers the rows of `relation` (query results: ROWID or ROW_COLUMN); none for a plain table. */
  rowColumn?: string;
  totalRows: bigint;
  schema: ApiField[];
  types: DuckDBType[];
  names: string[];
}

export interface Page {
  rows: Array<{ f: Array<{ v: unknown }> }>;
  /** Index of the first row not returned, if any rows remain. */
  nextIndex?: bigint;
}

export interface ResultStoreOptions {
  maxTables?: number;
  ttlMs?: number;
  /**
   * The memory kept results may take together; beyond it the oldest are dropped, never the newest.
   * Without a bound, a server answering large queries for an hour kept every result in memory,
   * and each new query over the same data took longer (a 1 GiB sweep 2.1 s, then 3.3 and 3.8 s).
   */
  maxBytes?: number;
}

/** The result's own columns, without the one that numbers its rows. */
function servedColumns(rowColumn: string | undefined): string {
  return rowColumn === ROW_COLUMN ? `* EXCLUDE (${ROW_COLUMN})` : '*';
}

/** Kept results take at most this much memory unless told otherwise. */
export const DEFAULT_MAX_RESULT_BYTES = 2 * 1024 ** 3;

/** The memory DuckDB holds, all of it (results, cached blocks of the data, running queries). */
async function memoryBytes(db: Database): Promise<number> {
  return db.withConnection(async (c) => {
    const rows = (await c.runAndReadAll('SELECT SUM(memory_usage_bytes) FROM duckdb_memory()')).getRows();
    return Number(rows[0]?.[0] ?? 0);
  });
}

export class ResultStore {
  private tables = new Map<string, { name: string; createdAt: number; bytes: number }>();
  private readonly maxTables: number;
  private readonly maxBytes: number;
  private readonly ttlMs: number;
  private counter = 0;

  constructor(
    private readonly db: Database,
    options: ResultStoreOptions = {},
  ) {
    this.maxTables = options.maxTables ?? 200;
    this.ttlMs = options.ttlMs ?? 60 * 60 * 1000;
    this.maxBytes = options.maxBytes ?? DEFAULT_MAX_RESULT_BYTES;
  }

  /** Column names and types of a query without executing it. */
  async describe(plan: Plan): Promise<ApiField[]> {
    return this.db.withConnection(async (c) => {
      const reader = await c.runAndReadAll(`SELECT * FROM (${plan.sql}) AS __q LIMIT 0`, plan.values, plan.types);
      const names = reader.columnNames();
      return reader.columnTypes().map((t, i) => apiField(names[i]!, t));
    });
  }

  /** Executes the plan into a new result table. */
  async materialize(key: string, plan: Plan): Promise<ResultSet> {
    await this.evict();
    const name = `r${++this.counter}_${key.replace(/[^A-Za-z0-9_]/g, '_').slice(0, 60)}`;
    const relation = `${RESULTS_DB}.main.${quoteIdent(name)}`;
    const before = await memoryBytes(this.db);
    const rowColumn = await this.db.withConnection(async (c) => {
      await c.run(`CREATE TABLE ${relation} AS SELECT * FROM (${plan.sql}) AS __q`, plan.values, plan.types);
      const names = (await c.runAndReadAll(`SELECT * FROM ${relation} LIMIT 0`)).columnNames();
      if (!names.some((column) => column.toLowerCase() === ROWID)) return ROWID;
      const numbered = `${RESULTS_DB}.main.${quoteIdent(`${name}_numbered`)}`;
      await c.run(`CREATE TABLE ${numbered} AS SELECT row_number() OVER () - 1 AS ${ROW_COLUMN}, * FROM ${relation}`);
      await c.run(`DROP TABLE ${relation}`);
      await c.run(`ALTER TABLE ${numbered} RENAME TO ${quoteIdent(name)}`);
      return ROW_COLUMN;
    });
    // What the table added, about: other queries may have run meanwhile.
    const bytes = Math.max(0, (await memoryBytes(this.db)) - before);
    this.tables.set(key, { name: relation, createdAt: Date.now(), bytes });
    await this.evictForMemory();
    return this.describeTable(relation, rowColumn);
  }

  /** A stored table read directly (tabledata.list). */
  async tableSource(relation: string): Promise<ResultSet> {
    return this.describeTable(relation, undefined);
  }

  private async describeTable(relation: string, rowColumn: string | undefined): Promise<ResultSet> {
    return this.db.withConnection(async (c) => {
      const reader = await c.runAndReadAll(`SELECT ${servedColumns(rowColumn)} FROM ${relation} LIMIT 0`);
      const count = await c.runAndReadAll(`SELECT count(*) FROM ${relation}`);
      const names = reader.columnNames();
      const types = reader.columnTypes();
      return {
        relation,
        ...(rowColumn !== undefined && { rowColumn }),
        totalRows: BigInt(count.getRows()[0]![0] as bigint),
        schema: types.map((t, i) => apiField(names[i]!, t)),
        types,
        names,
      };
    });
  }

  async readPage(
    set: ResultSet,
    startIndex: bigint,
    maxResults: number | undefined,
    ts: TimestampFormat,
  ): Promise<Page> {
    const limit = Math.max(0, Math.min(maxResults ?? MAX_PAGE_ROWS, MAX_PAGE_ROWS));
    if (limit === 0 || startIndex >= set.totalRows) {
      return startIndex < set.totalRows ? { rows: [], nextIndex: startIndex } : { rows: [] };
    }
    const row = set.rowColumn;
    const sql = row
      ? `SELECT ${servedColumns(row)} FROM ${set.relation} WHERE ${row} >= $1 AND ${row} < $2 ORDER BY ${row}`
      : `SELECT * FROM ${set.relation} LIMIT ${limit} OFFSET ${startIndex}`;
    const params = row ? [startIndex, startIndex + BigInt(limit)] : [];
    const values = await this.db.withConnection(async (c) => (await c.runAndReadAll(sql, params)).getRows());
    const rows: Page['rows'] = [];
    let bytes = 0;
    for (const v of values) {
      const row = formatRow(v, set.types, ts);
      bytes += JSON.stringify(row).length;
      if (rows.length > 0 && bytes > MAX_PAGE_BYTES) break;
      rows.push(row);
    }
    const next = startIndex + BigInt(rows.length);
    return next < set.totalRows ? { rows, nextIndex: next } : { rows };
  }

  has(key: string): boolean {
    return this.tables.has(key);
  }

  async drop(key: string): Promise<void> {
    const entry = this.tables.get(key);
    if (!entry) return;
    this.tables.delete(key);
    await this.db.withConnection((c) => c.run(`DROP TABLE IF EXISTS ${entry.name}`)).catch(() => undefined);
  }

  /** Drops the oldest results while all of them take more than maxBytes, keeping the newest. */
  private async evictForMemory(): Promise<void> {
    let total = [...this.tables.values()].reduce((sum, entry) => sum + entry.bytes, 0);
    for (const [key, entry] of this.tables) {
      if (total <= this.maxBytes || this.tables.size <= 1) return;
      total -= entry.bytes;
      await this.drop(key);
    }
  }

  private async evict(): Promise<void> {
    const now = Date.now();
    for (const [key, entry] of this.tables) {
      if (now - entry.createdAt > this.ttlMs || this.tables.size >= this.maxTables) await this.drop(key);
    }
  }
}
