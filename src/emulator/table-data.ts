// tabledata.insertAll: validates rows, appends them to the DuckDB table in one
// statement per request (rows travel as one JSON document parsed by DuckDB's
// from_json, which handles nested STRUCT/LIST natively), and maintains the
// per (partition day, leaf column) stored-byte counters used for billing
// (an append-only log in bq_meta.column_bytes, summed when loaded).
// insertId is deliberately ignored: duplicate deliveries become separate rows.
import { duckTableRef, type Catalog, type TableMeta } from './catalog.js';
import { META_SCHEMA, sqlString, type Database } from './database.js';
import { BqError } from './errors.js';
import { encodeRow, type EncodedRow, type RowError } from './row-encoder.js';
import { quoteIdent } from './schema.js';
import { dayOfMicros } from './timestamps.js';
import { fromStagingExpr, stagingStructure } from './type-conversion.js';

/** partition_day of every row of an unpartitioned table. */
export const NO_PARTITION = -1_000_000;
/** partition_day of rows whose partitioning column is NULL. */
export const NULL_PARTITION = -1_000_001;

interface InsertAllRequest {
  rows?: Array<{ insertId?: string; json?: unknown }>;
  skipInvalidRows?: boolean;
  ignoreUnknownValues?: boolean;
  templateSuffix?: string;
}

interface InsertError {
  index: number;
  errors: Array<RowError & { debugInfo: string }>;
}

function partitionDay(table: TableMeta, row: EncodedRow, now: number): number {
  const tp = table.timePartitioning;
  if (!tp) return NO_PARTITION;
  if (!tp.field) return Math.floor(now / 86_400_000);
  const v = row.partitionValue;
  if (v === null || v === undefined) return NULL_PARTITION;
  return typeof v === 'bigint' ? dayOfMicros(v) : v;
}

async function resolveTarget(catalog: Catalog, table: TableMeta, suffix: string | undefined): Promise<TableMeta> {
  if (!suffix) return table;
  const existing = catalog.findTable(table.projectId, table.datasetId, table.tableId + suffix);
  if (existing) return existing;
  const now = Date.now();
  try {
    const meta: Parameters<Catalog['createTable']>[0] = {
      projectId: table.projectId,
      datasetId: table.datasetId,
      tableId: table.tableId + suffix,
      schema: table.schema,
      creationTime: now,
      lastModifiedTime: now,
    };
    if (table.timePartitioning) meta.timePartitioning = table.timePartitioning;
    return await catalog.createTable(meta);
  } catch (err) {
    if (err instanceof BqError && err.code === 409)
      return catalog.getTable(table.projectId, table.datasetId, table.tableId + suffix);
    throw err;
  }
}

export async function insertAll(
  db: Database,
  catalog: Catalog,
  template: TableMeta,
  body: InsertAllRequest,
): Promise<object> {
  if (!Array.isArray(body.rows)) throw BqError.invalid('No rows present in the request.');
  const table = await resolveTarget(catalog, template, body.templateSuffix);
  const options = {
    ignoreUnknownValues: body.ignoreUnknownValues === true,
    ...(table.timePartitioning?.field ? { partitionField: table.timePartitioning.field } : {}),
  };
  const good: EncodedRow[] = [];
  const insertErrors: InsertError[] = [];
  body.rows.forEach((row, index) => {
    const result = encodeRow(table.schema, row?.json, options);
    if (Array.isArray(result)) insertErrors.push({ index, errors: result.map((e) => ({ ...e, debugInfo: '' })) });
    else good.push(result);
  });
  if (insertErrors.length > 0 && !body.skipInvalidRows) {
    const failed = new Map(insertErrors.map((e) => [e.index, e]));
    return {
      kind: 'bigquery#tableDataInsertAllResponse',
      insertErrors: body.rows.map(
        (_, index) =>
          failed.get(index) ?? { index, errors: [{ reason: 'stopped', location: '', debugInfo: '', message: '' }] },
      ),
    };
  }
  if (good.length > 0) await appendRows(db, catalog, table, good);
  return { kind: 'bigquery#tableDataInsertAllResponse', ...(insertErrors.length > 0 ? { insertErrors } : {}) };
}

async function appendRows(db: Database, catalog: Catalog, table: TableMeta, rows: EncodedRow[]): Promise<void> {
  const now = Date.now();
  const bytesByPartition = new Map<number, Map<string, number>>();
  let totalBytes = 0;
  for (const row of rows) {
    const day = partitionDay(table, row, now);
    let perColumn = bytesByPartition.get(day);
    if (!perColumn) bytesByPartition.set(day, (perColumn = new Map()));
    for (const [path, bytes] of row.sizes) {
      perColumn.set(path, (perColumn.get(path) ?? 0) + bytes);
      totalBytes += bytes;
    }
  }
  const structure = `[{${table.schema.map((f) => `${JSON.stringify(f.name)}:${stagingStructure(f)}`).join(',')}}]`;
  const columns = table.schema.map((f) => fromStagingExpr(`__row.${quoteIdent(f.name)}`, f)).join(', ');
  const insertSql = `INSERT INTO ${duckTableRef(table)} SELECT ${columns} FROM (SELECT unnest(from_json($1, ${sqlString(structure)})) AS __row)`;
  const document = `[${rows.map((r) => r.json).join(',')}]`;

  const counters: Array<string | number | bigint> = [];
  const placeholders: string[] = [];
  for (const [day, perColumn] of bytesByPartition) {
    for (const [path, bytes] of perColumn) {
      const n = counters.length;
      placeholders.push(`($${n + 1}, $${n + 2}, $${n + 3}, $${n + 4})`);
      counters.push(table.duckName, day, path, BigInt(bytes));
    }
  }
  await db.transaction(async (c) => {
    await c.run(insertSql, [document]);
    if (placeholders.length > 0) {
      await c.run(`INSERT INTO ${META_SCHEMA}.column_bytes VALUES ${placeholders.join(', ')}`, counters);
    }
    await c.run(
      `UPDATE ${META_SCHEMA}.tables SET num_rows = num_rows + $4, num_bytes = num_bytes + $5 WHERE project = $1 AND dataset_id = $2 AND table_id = $3`,
      [table.projectId, table.datasetId, table.tableId, BigInt(rows.length), BigInt(totalBytes)],
    );
  });
  catalog.noteAppend(table, rows.length, bytesByPartition);
}
