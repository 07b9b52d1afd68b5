// REST representations of datasets and tables, and list pagination.
import type { DatasetMeta, TableMeta } from './catalog.js';
import { BqError } from './errors.js';
import { schemaToApi } from './schema.js';

export function datasetResource(d: DatasetMeta): object {
  return {
    kind: 'bigquery#dataset',
    etag: Buffer.from(`${d.datasetId}:${d.lastModifiedTime}`).toString('base64'),
    id: `${d.projectId}:${d.datasetId}`,
    selfLink: `/projects/${d.projectId}/datasets/${d.datasetId}`,
    datasetReference: { projectId: d.projectId, datasetId: d.datasetId },
    location: d.location,
    creationTime: String(d.creationTime),
    lastModifiedTime: String(d.lastModifiedTime),
    type: 'DEFAULT',
    access: [],
    ...(d.description !== undefined ? { description: d.description } : {}),
    ...(d.friendlyName !== undefined ? { friendlyName: d.friendlyName } : {}),
    ...(d.labels !== undefined ? { labels: d.labels } : {}),
  };
}

export function datasetListItem(d: DatasetMeta): object {
  return {
    kind: 'bigquery#dataset',
    id: `${d.projectId}:${d.datasetId}`,
    datasetReference: { projectId: d.projectId, datasetId: d.datasetId },
    location: d.location,
    ...(d.labels !== undefined ? { labels: d.labels } : {}),
  };
}

function tableReference(t: TableMeta): object {
  return { projectId: t.projectId, datasetId: t.datasetId, tableId: t.tableId };
}

/** A table as tables.get shows it; `location` is its dataset's. */
export function tableResource(t: TableMeta, location: string): object {
  return {
    kind: 'bigquery#table',
    etag: Buffer.from(`${t.tableId}:${t.lastModifiedTime}:${t.numRows}`).toString('base64'),
    id: `${t.projectId}:${t.datasetId}.${t.tableId}`,
    selfLink: `/projects/${t.projectId}/datasets/${t.datasetId}/tables/${t.tableId}`,
    tableReference: tableReference(t),
    schema: { fields: schemaToApi(t.schema) },
    ...(t.timePartitioning ? { timePartitioning: t.timePartitioning } : {}),
    numRows: t.numRows.toString(),
    numBytes: t.numBytes.toString(),
    numLongTermBytes: '0',
    creationTime: String(t.creationTime),
    lastModifiedTime: String(t.lastModifiedTime),
    type: 'TABLE',
    location,
    ...(t.description !== undefined ? { description: t.description } : {}),
    ...(t.friendlyName !== undefined ? { friendlyName: t.friendlyName } : {}),
    ...(t.labels !== undefined ? { labels: t.labels } : {}),
    ...(t.expirationTime !== undefined ? { expirationTime: t.expirationTime } : {}),
  };
}

export function tableListItem(t: TableMeta): object {
  return {
    kind: 'bigquery#table',
    id: `${t.projectId}:${t.datasetId}.${t.tableId}`,
    tableReference: tableReference(t),
    type: 'TABLE',
    creationTime: String(t.creationTime),
    ...(t.timePartitioning ? { timePartitioning: t.timePartitioning } : {}),
    ...(t.labels !== undefined ? { labels: t.labels } : {}),
  };
}

/** Slices a list by maxResults/pageToken (token = base64 offset). */
export function paginate<T>(
  items: T[],
  query: URLSearchParams,
  defaultMax = 1000,
): { page: T[]; nextPageToken?: string } {
  const token = query.get('pageToken');
  let offset = 0;
  if (token) {
    const decoded = Number(Buffer.from(token, 'base64url').toString());
    if (!Number.isInteger(decoded) || decoded < 0) throw BqError.invalid(`Invalid page token: ${token}`);
    offset = decoded;
  }
  const max = query.get('maxResults') ? Math.max(1, Number(query.get('maxResults'))) : defaultMax;
  const page = items.slice(offset, offset + max);
  const next = offset + page.length;
  return next < items.length ? { page, nextPageToken: Buffer.from(String(next)).toString('base64url') } : { page };
}
