// Dataset and table metadata. The source of truth is the bq_meta schema in
// DuckDB (so a file database survives restarts); a JS copy serves lookups.
import { randomBytes } from 'node:crypto';
import { DATA_SCHEMA, META_SCHEMA, type Database } from './database.js';
import { BqError } from './errors.js';
import { duckType, quoteIdent, type BqField } from './schema.js';
import { reconcileExpr } from './type-conversion.js';

export interface TimePartitioning {
  type: string;
  field?: string;
  expirationMs?: string;
  requirePartitionFilter?: boolean;
}

export interface DatasetMeta {
  projectId: string;
  datasetId: string;
  location: string;
  creationTime: number;
  lastModifiedTime: number;
  description?: string;
  friendlyName?: string;
  labels?: Record<string, string>;
}

export interface TableMeta {
  projectId: string;
  datasetId: string;
  tableId: string;
  /** Name of the DuckDB table (in DATA_SCHEMA) holding the rows. */
  duckName: string;
  schema: BqField[];
  timePartitioning?: TimePartitioning;
  creationTime: number;
  lastModifiedTime: number;
  numRows: bigint;
  numBytes: bigint;
  description?: string;
  friendlyName?: string;
  labels?: Record<string, string>;
  expirationTime?: string;
}

export function datasetKey(projectId: string, datasetId: string): string {
  return `${projectId}:${datasetId}`;
}

export function tableKey(projectId: string, datasetId: string, tableId: string): string {
  return `${projectId}:${datasetId}.${tableId}`;
}

export function duckTableRef(meta: TableMeta): string {
  return `${DATA_SCHEMA}.${quoteIdent(meta.duckName)}`;
}

type StoredTable = Omit<TableMeta, 'numRows' | 'numBytes'>;

export class Catalog {
  private datasets = new Map<string, DatasetMeta>();
  private tables = new Map<string, TableMeta>();
  /** duckName -> partition day -> leaf column path -> stored bytes. */
  private storedBytes = new Map<string, Map<number, Map<string, bigint>>>();

  constructor(private readonly db: Database) {}

  async load(): Promise<void> {
    await this.db.exclusive(async (c) => {
      await c.run(
        `CREATE TABLE IF NOT EXISTS ${META_SCHEMA}.datasets (project VARCHAR, dataset_id VARCHAR, meta VARCHAR, PRIMARY KEY (project, dataset_id))`,
      );
      await c.run(
        `CREATE TABLE IF NOT EXISTS ${META_SCHEMA}.tables (project VARCHAR, dataset_id VARCHAR, table_id VARCHAR, meta VARCHAR, num_rows BIGINT, num_bytes BIGINT, PRIMARY KEY (project, dataset_id, table_id))`,
      );
      await c.run(
        `CREATE TABLE IF NOT EXISTS ${META_SCHEMA}.column_bytes (duck_name VARCHAR, partition_day INTEGER, column_path VARCHAR, bytes BIGINT)`,
      );
      const cb = await c.runAndReadAll(
        `SELECT duck_name, partition_day, column_path, SUM(bytes)::BIGINT FROM ${META_SCHEMA}.column_bytes GROUP BY ALL`,
      );
      for (const [name, day, path, bytes] of cb.getRows()) {
        this.addStoredBytes(String(name), Number(day), String(path), BigInt(bytes as bigint));
      }
      const ds = await c.runAndReadAll(`SELECT meta FROM ${META_SCHEMA}.datasets`);
      for (const [meta] of ds.getRows()) {
        const d = JSON.parse(String(meta)) as DatasetMeta;
        this.datasets.set(datasetKey(d.projectId, d.datasetId), d);
      }
      const ts = await c.runAndReadAll(`SELECT meta, num_rows, num_bytes FROM ${META_SCHEMA}.tables`);
      for (const [meta, rows, bytes] of ts.getRows()) {
        const t = JSON.parse(String(meta)) as StoredTable;
        this.tables.set(tableKey(t.projectId, t.datasetId, t.tableId), {
          ...t,
          numRows: BigInt(rows as bigint),
          numBytes: BigInt(bytes as bigint),
        });
      }
    });
  }

  getDataset(projectId: string, datasetId: string): DatasetMeta {
    const d = this.datasets.get(datasetKey(projectId, datasetId));
    if (!d) throw BqError.notFound(`Dataset ${datasetKey(projectId, datasetId)}`);
    return d;
  }

  listDatasets(projectId: string): DatasetMeta[] {
    return [...this.datasets.values()]
      .filter((d) => d.projectId === projectId)
      .sort((a, b) => a.datasetId.localeCompare(b.datasetId));
  }

  async createDataset(meta: DatasetMeta): Promise<DatasetMeta> {
    const key = datasetKey(meta.projectId, meta.datasetId);
    await this.db.exclusive(async (c) => {
      if (this.datasets.has(key)) throw BqError.duplicate(`Dataset ${key}`);
      await c.run(`INSERT INTO ${META_SCHEMA}.datasets VALUES ($1, $2, $3)`, [
        meta.projectId,
        meta.datasetId,
        JSON.stringify(meta),
      ]);
      this.datasets.set(key, meta);
    });
    return meta;
  }

  async updateDataset(meta: DatasetMeta): Promise<void> {
    await this.db.exclusive(async (c) => {
      await c.run(`UPDATE ${META_SCHEMA}.datasets SET meta = $3 WHERE project = $1 AND dataset_id = $2`, [
        meta.projectId,
        meta.datasetId,
        JSON.stringify(meta),
      ]);
      this.datasets.set(datasetKey(meta.projectId, meta.datasetId), meta);
    });
  }

  async deleteDataset(projectId: string, datasetId: string, deleteContents: boolean): Promise<void> {
    this.getDataset(projectId, datasetId);
    const contents = this.listTables(projectId, datasetId);
    if (contents.length > 0 && !deleteContents) {
      throw new BqError(400, 'resourceInUse', `Dataset ${datasetKey(projectId, datasetId)} is still in use`);
    }
    for (const t of contents) await this.deleteTable(projectId, datasetId, t.tableId);
    await this.db.exclusive(async (c) => {
      await c.run(`DELETE FROM ${META_SCHEMA}.datasets WHERE project = $1 AND dataset_id = $2`, [projectId, datasetId]);
      this.datasets.delete(datasetKey(projectId, datasetId));
    });
  }

  getTable(projectId: string, datasetId: string, tableId: string): TableMeta {
    const t = this.tables.get(tableKey(projectId, datasetId, tableId));
    if (!t) {
      this.getDataset(projectId, datasetId);
      throw BqError.notFound(`Table ${tableKey(projectId, datasetId, tableId)}`);
    }
    return t;
  }

  findTable(projectId: string, datasetId: string, tableId: string): TableMeta | undefined {
    return this.tables.get(tableKey(projectId, datasetId, tableId));
  }

  listTables(projectId: string, datasetId: string): TableMeta[] {
    return [...this.tables.values()]
      .filter((t) => t.projectId === projectId && t.datasetId === datasetId)
      .sort((a, b) => (a.tableId < b.tableId ? -1 : a.tableId > b.tableId ? 1 : 0));
  }

  async createTable(meta: Omit<TableMeta, 'duckName' | 'numRows' | 'numBytes'>): Promise<TableMeta> {
    this.getDataset(meta.projectId, meta.datasetId);
    const key = tableKey(meta.projectId, meta.datasetId, meta.tableId);
    const table: TableMeta = {
      ...meta,
      duckName: `${meta.tableId}_${randomBytes(4).toString('hex')}`,
      numRows: 0n,
      numBytes: 0n,
    };
    await this.db.transaction(async (c) => {
      if (this.tables.has(key)) throw BqError.duplicate(`Table ${key}`);
      const columns = table.schema.map((f) => `${quoteIdent(f.name)} ${duckType(f)}`).join(', ');
      await c.run(`CREATE TABLE ${duckTableRef(table)} (${columns})`);
      await c.run(`INSERT INTO ${META_SCHEMA}.tables VALUES ($1, $2, $3, $4, 0, 0)`, [
        meta.projectId,
        meta.datasetId,
        meta.tableId,
        this.serialize(table),
      ]);
      // Registered inside the write queue so a concurrent create of the same name sees it.
      this.tables.set(key, table);
    });
    return table;
  }

  /** Updates metadata; a changed schema rewrites the DuckDB table to match. */
  async updateTable(
    table: TableMeta,
    changes: Partial<Pick<TableMeta, 'schema' | 'description' | 'friendlyName' | 'labels' | 'expirationTime'>>,
  ): Promise<TableMeta> {
    const updated: TableMeta = { ...table, ...changes, lastModifiedTime: Date.now() };
    await this.db.transaction(async (c) => {
      if (changes.schema) {
        const tmp = `${table.duckName}_rewrite`;
        const select = changes.schema
          .map((f) => {
            const old = table.schema.find((o) => o.name.toLowerCase() === f.name.toLowerCase());
            return `${reconcileExpr(old ? quoteIdent(old.name) : 'NULL', old, f)} AS ${quoteIdent(f.name)}`;
          })
          .join(', ');
        await c.run(`CREATE TABLE ${DATA_SCHEMA}.${quoteIdent(tmp)} AS SELECT ${select} FROM ${duckTableRef(table)}`);
        await c.run(`DROP TABLE ${duckTableRef(table)}`);
        await c.run(`ALTER TABLE ${DATA_SCHEMA}.${quoteIdent(tmp)} RENAME TO ${quoteIdent(table.duckName)}`);
      }
      await c.run(
        `UPDATE ${META_SCHEMA}.tables SET meta = $4 WHERE project = $1 AND dataset_id = $2 AND table_id = $3`,
        [table.projectId, table.datasetId, table.tableId, this.serialize(updated)],
      );
    });
    this.tables.set(tableKey(table.projectId, table.datasetId, table.tableId), updated);
    return updated;
  }

  async deleteTable(projectId: string, datasetId: string, tableId: string): Promise<void> {
    const table = this.getTable(projectId, datasetId, tableId);
    await this.db.transaction(async (c) => {
      await c.run(`DROP TABLE IF EXISTS ${duckTableRef(table)}`);
      await c.run(`DELETE FROM ${META_SCHEMA}.tables WHERE project = $1 AND dataset_id = $2 AND table_id = $3`, [
        projectId,
        datasetId,
        tableId,
      ]);
      await c.run(`DELETE FROM ${META_SCHEMA}.column_bytes WHERE duck_name = $1`, [table.duckName]);
    });
    this.tables.delete(tableKey(projectId, datasetId, tableId));
    this.storedBytes.delete(table.duckName);
  }

  /** Records rows appended by a committed insert. */
  noteAppend(table: TableMeta, rows: number, bytesByPartition: Map<number, Map<string, number>>): void {
    let total = 0n;
    for (const [day, perColumn] of bytesByPartition) {
      for (const [path, bytes] of perColumn) {
        this.addStoredBytes(table.duckName, day, path, BigInt(bytes));
        total += BigInt(bytes);
      }
    }
    table.numRows += BigInt(rows);
    table.numBytes += total;
    table.lastModifiedTime = Date.now();
  }

  /** Stored bytes of a table: partition day -> leaf column path -> bytes. */
  storedBytesOf(table: TableMeta): ReadonlyMap<number, ReadonlyMap<string, bigint>> {
    return this.storedBytes.get(table.duckName) ?? new Map();
  }

  private addStoredBytes(duckName: string, day: number, path: string, bytes: bigint): void {
    let perDay = this.storedBytes.get(duckName);
    if (!perDay) this.storedBytes.set(duckName, (perDay = new Map()));
    let perColumn = perDay.get(day);
    if (!perColumn) perDay.set(day, (perColumn = new Map()));
    perColumn.set(path, (perColumn.get(path) ?? 0n) + bytes);
  }

  private serialize(table: TableMeta): string {
    const { numRows, numBytes, ...stored } = table;
    void numRows;
    void numBytes;
    return JSON.stringify(stored);
  }
}
