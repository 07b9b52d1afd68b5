// The REST surface: maps BigQuery v2 routes onto the catalog, table data and
// job services.
import { duckTableRef, type Catalog, type DatasetMeta, type TableMeta, type TimePartitioning } from './catalog.js';
import { BqError } from './errors.js';
import type { JobService } from './jobs.js';
import { datasetListItem, datasetResource, paginate, tableListItem, tableResource } from './resources.js';
import type { ResultStore } from './results.js';
import { Router } from './router.js';
import { timestampFormat } from './row-format.js';
import { findField, normalizeSchema, type BqField } from './schema.js';
import { insertAll } from './table-data.js';
import type { Database } from './database.js';

const ID_RE = /^[A-Za-z0-9_]{1,1024}$/;

function requireObject(body: unknown, what: string): Record<string, unknown> {
  if (typeof body !== 'object' || body === null) throw BqError.invalid(`Missing ${what}`);
  return body as Record<string, unknown>;
}

function stringMap(value: unknown): Record<string, string> | undefined {
  return typeof value === 'object' && value !== null ? (value as Record<string, string>) : undefined;
}

function validateTimePartitioning(raw: unknown, schema: BqField[]): TimePartitioning | undefined {
  if (raw === undefined || raw === null) return undefined;
  const tp = requireObject(raw, 'timePartitioning');
  const type = String(tp.type ?? 'DAY').toUpperCase();
  if (!['DAY', 'HOUR', 'MONTH', 'YEAR'].includes(type))
    throw BqError.invalid(`Invalid value for timePartitioning.type: ${type}`);
  const result: TimePartitioning = { type };
  if (tp.field !== undefined && tp.field !== null) {
    const field = findField(schema, String(tp.field));
    if (!field || field.mode === 'REPEATED' || !['TIMESTAMP', 'DATE', 'DATETIME'].includes(field.type)) {
      throw BqError.invalid(
        `The field specified for time partitioning can only be of type TIMESTAMP, DATE or DATETIME. The type found is: ${field?.type ?? 'missing field'}.`,
      );
    }
    result.field = field.name;
  }
  if (tp.expirationMs !== undefined) result.expirationMs = String(tp.expirationMs);
  if (tp.requirePartitionFilter !== undefined) result.requirePartitionFilter = tp.requirePartitionFilter === true;
  return result;
}

export function buildRouter(db: Database, catalog: Catalog, jobs: JobService, results: ResultStore): Router {
  const r = new Router();

  // datasets
  r.add('POST', '/projects/:p/datasets', async ({ params, body }) => {
    const ref = requireObject(body.datasetReference, 'datasetReference');
    const datasetId = String(ref.datasetId ?? '');
    if (!ID_RE.test(datasetId))
      throw BqError.invalid(
        `Invalid dataset ID "${datasetId}". Dataset IDs must be alphanumeric (plus underscores) and must be at most 1024 characters long.`,
      );
    const now = Date.now();
    const meta: DatasetMeta = {
      projectId: String(ref.projectId ?? params.p),
      datasetId,
      location: String(body.location ?? 'US'),
      creationTime: now,
      lastModifiedTime: now,
    };
    if (typeof body.description === 'string') meta.description = body.description;
    if (typeof body.friendlyName === 'string') meta.friendlyName = body.friendlyName;
    const labels = stringMap(body.labels);
    if (labels) meta.labels = labels;
    return { body: datasetResource(await catalog.createDataset(meta)) };
  });
  r.add('GET', '/projects/:p/datasets', ({ params, query }) => {
    const { page, nextPageToken } = paginate(catalog.listDatasets(params.p!), query);
    return {
      body: {
        kind: 'bigquery#datasetList',
        etag: 'emulator',
        datasets: page.map(datasetListItem),
        ...(nextPageToken ? { nextPageToken } : {}),
      },
    };
  });
  r.add('GET', '/projects/:p/datasets/:d', ({ params }) => ({
    body: datasetResource(catalog.getDataset(params.p!, params.d!)),
  }));
  const patchDataset = async ({
    params,
    body,
  }: {
    params: Record<string, string>;
    body: Record<string, unknown>;
  }): Promise<{ body: object }> => {
    const current = catalog.getDataset(params.p!, params.d!);
    const updated: DatasetMeta = { ...current, lastModifiedTime: Date.now() };
    if (typeof body.description === 'string') updated.description = body.description;
    if (typeof body.friendlyName === 'string') updated.friendlyName = body.friendlyName;
    const labels = stringMap(body.labels);
    if (labels) updated.labels = labels;
    await catalog.updateDataset(updated);
    return { body: datasetResource(updated) };
  };
  r.add('PATCH', '/projects/:p/datasets/:d', patchDataset);
  r.add('PUT', '/projects/:p/datasets/:d', patchDataset);
  r.add('DELETE', '/projects/:p/datasets/:d', async ({ params, query }) => {
    await catalog.deleteDataset(params.p!, params.d!, query.get('deleteContents') === 'true');
    return { status: 204 };
  });

  // tables
  r.add('POST', '/projects/:p/datasets/:d/tables', async ({ params, body }) => {
    const ref = requireObject(body.tableReference, 'tableReference');
    const tableId = String(ref.tableId ?? '');
    if (!/^[\p{L}\p{M}\p{N}\p{Pc}\p{Pd}\p{Zs}]{1,1024}$/u.test(tableId))
      throw BqError.invalid(`Invalid table ID "${tableId}".`);
    if (
      body.view !== undefined ||
      body.materializedView !== undefined ||
      body.externalDataConfiguration !== undefined
    ) {
      throw BqError.invalid('The emulator only supports native tables.');
    }
    const schemaFields = (body.schema as { fields?: unknown } | undefined)?.fields;
    const schema = normalizeSchema(schemaFields ?? []);
    if (schema.length === 0)
      throw BqError.invalid('The emulator requires a schema with at least one field when creating a table.');
    const now = Date.now();
    const meta: Parameters<Catalog['createTable']>[0] = {
      projectId: params.p!,
      datasetId: params.d!,
      tableId,
      schema,
      creationTime: now,
      lastModifiedTime: now,
    };
    const tp = validateTimePartitioning(body.timePartitioning, schema);
    if (tp) meta.timePartitioning = tp;
    if (typeof body.description === 'string') meta.description = body.description;
    if (typeof body.friendlyName === 'string') meta.friendlyName = body.friendlyName;
    const labels = stringMap(body.labels);
    if (labels) meta.labels = labels;
    if (body.expirationTime !== undefined) meta.expirationTime = String(body.expirationTime);
    return {
      body: tableResource(await catalog.createTable(meta), catalog.getDataset(meta.projectId, meta.datasetId).location),
    };
  });
  r.add('GET', '/projects/:p/datasets/:d/tables', ({ params, query }) => {
    catalog.getDataset(params.p!, params.d!);
    const all = catalog.listTables(params.p!, params.d!);
    const { page, nextPageToken } = paginate(all, query, 50);
    return {
      body: {
        kind: 'bigquery#tableList',
        etag: 'emulator',
        tables: page.map(tableListItem),
        totalItems: all.length,
        ...(nextPageToken ? { nextPageToken } : {}),
      },
    };
  });
  r.add('GET', '/projects/:p/datasets/:d/tables/:t', ({ params }) => ({
    body: tableResource(
      catalog.getTable(params.p!, params.d!, params.t!),
      catalog.getDataset(params.p!, params.d!).location,
    ),
  }));
  const patchTable = async ({
    params,
    body,
  }: {
    params: Record<string, string>;
    body: Record<string, unknown>;
  }): Promise<{ body: object }> => {
    const table = catalog.getTable(params.p!, params.d!, params.t!);
    const changes: Parameters<Catalog['updateTable']>[1] = {};
    const fields = (body.schema as { fields?: unknown } | undefined)?.fields;
    if (fields !== undefined) changes.schema = normalizeSchema(fields);
    if (typeof body.description === 'string') changes.description = body.description;
    if (typeof body.friendlyName === 'string') changes.friendlyName = body.friendlyName;
    const labels = stringMap(body.labels);
    if (labels) changes.labels = labels;
    if (body.expirationTime !== undefined) changes.expirationTime = String(body.expirationTime);
    return {
      body: tableResource(
        await catalog.updateTable(table, changes),
        catalog.getDataset(table.projectId, table.datasetId).location,
      ),
    };
  };
  r.add('PATCH', '/projects/:p/datasets/:d/tables/:t', patchTable);
  r.add('PUT', '/projects/:p/datasets/:d/tables/:t', patchTable);
  r.add('DELETE', '/projects/:p/datasets/:d/tables/:t', async ({ params }) => {
    await catalog.deleteTable(params.p!, params.d!, params.t!);
    return { status: 204 };
  });

  // tabledata
  r.add('POST', '/projects/:p/datasets/:d/tables/:t/insertAll', async ({ params, body }) => {
    const table = catalog.getTable(params.p!, params.d!, params.t!);
    return { body: await insertAll(db, catalog, table, body) };
  });
  r.add('GET', '/projects/:p/datasets/:d/tables/:t/data', async ({ params, query }) => {
    const table: TableMeta = catalog.getTable(params.p!, params.d!, params.t!);
    const source = await results.tableSource(duckTableRef(table));
    const token = query.get('pageToken');
    const start = BigInt(token ? Buffer.from(token, 'base64url').toString() : (query.get('startIndex') ?? '0'));
    const max = query.get('maxResults') ? Number(query.get('maxResults')) : undefined;
    const ts = timestampFormat(
      query.get('formatOptions.useInt64Timestamp') ?? undefined,
      query.get('formatOptions.timestampOutputFormat') ?? undefined,
    );
    const page = await results.readPage(source, start, max, ts);
    return {
      body: {
        kind: 'bigquery#tableDataList',
        etag: 'emulator',
        totalRows: source.totalRows.toString(),
        rows: page.rows,
        ...(page.nextIndex !== undefined
          ? { pageToken: Buffer.from(page.nextIndex.toString()).toString('base64url') }
          : {}),
      },
    };
  });

  // jobs
  r.add('POST', '/projects/:p/jobs', async ({ params, body, query }) => ({
    body: await jobs.insert(params.p!, body, query.get('location') ?? undefined),
  }));
  r.add('GET', '/projects/:p/jobs', ({ params }) => ({ body: jobs.list(params.p!) }));
  r.add('GET', '/projects/:p/jobs/:j', ({ params, query }) => ({
    body: jobs.get(params.p!, params.j!, query.get('location') ?? undefined),
  }));
  r.add('POST', '/projects/:p/jobs/:j/cancel', ({ params, query }) => ({
    body: jobs.cancel(params.p!, params.j!, query.get('location') ?? undefined),
  }));
  r.add('DELETE', '/projects/:p/jobs/:j/delete', async ({ params }) => {
    await jobs.delete(params.p!, params.j!);
    return { status: 204 };
  });
  r.add('POST', '/projects/:p/queries', async ({ params, body }) => ({ body: await jobs.query(params.p!, body) }));
  r.add('GET', '/projects/:p/queries/:j', async ({ params, query }) => ({
    body: await jobs.getQueryResults(params.p!, params.j!, query),
  }));

  // not part of BigQuery: cumulative counters for tests and benchmarks
  r.add('GET', '/emulator/stats', () => ({ body: jobs.stats }));
  return r;
}
