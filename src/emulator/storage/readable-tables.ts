// What a read session may read: the destination table of a finished query job (its result, kept in
// DuckDB), or a table of the catalog.
import type { DuckDBType } from '@duckdb/node-api';
import { duckTableRef, type Catalog } from '../catalog.js';
import type { JobService } from '../jobs.js';
import type { ResultSet, ResultStore } from '../results.js';
import { hasTopLevelOrderBy } from './ordered-query.js';
import { StorageError } from './storage-errors.js';
import type { TableSource } from './table-reader.js';

export interface ReadableTable {
  /** projects/P/datasets/D/tables/T */
  resource: string;
  location: string;
  source: TableSource;
  names: string[];
  types: DuckDBType[];
  totalRows: bigint;
  /** The result of a query with ORDER BY, whose order only a single stream keeps. */
  ordered: boolean;
  /** Whether this is a query job's result (read at no query cost) rather than a stored table. */
  queryResult: boolean;
}

const TABLE_RESOURCE = /^projects\/([^/]+)\/datasets\/([^/]+)\/tables\/([^/]+)$/;

export async function readableTable(
  resource: string,
  deps: { jobs: JobService; catalog: Catalog; results: ResultStore },
): Promise<ReadableTable> {
  const match = TABLE_RESOURCE.exec(resource);
  if (!match) throw StorageError.invalid(`Invalid table name "${resource}": expected projects/*/datasets/*/tables/*`);
  const [, projectId, datasetId, tableId] = match as unknown as [string, string, string, string];
  if (/[$@]/.test(tableId)) throw StorageError.invalid('Table decorators are not supported by the emulator');

  const job = deps.jobs.resultTable(projectId, datasetId, tableId);
  if (job) return fromResult(resource, job.location, job.result, hasTopLevelOrderBy(job.query), true);

  let table;
  let location;
  try {
    table = deps.catalog.getTable(projectId, datasetId, tableId);
    location = deps.catalog.getDataset(projectId, datasetId).location;
  } catch {
    throw StorageError.notFound(`Not found: Table ${projectId}:${datasetId}.${tableId}`);
  }
  return fromResult(resource, location, await deps.results.tableSource(duckTableRef(table)), false, false);
}

function fromResult(
  resource: string,
  location: string,
  result: ResultSet,
  ordered: boolean,
  queryResult: boolean,
): ReadableTable {
  return {
    resource,
    location,
    source: { relation: result.relation, ...(result.rowColumn !== undefined && { rowColumn: result.rowColumn }) },
    names: result.names,
    types: result.types,
    totalRows: result.totalRows,
    ordered,
    queryResult,
  };
}
