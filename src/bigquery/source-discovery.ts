// Finds the log tables of a dataset and which layout they use: a sink's stdout/stderr tables
// (partitioned or date-sharded), a Log Analytics `_AllLogs` view, or a table the user described.
// Metadata calls only: nothing is billed.
import type { BigQuery } from '@google-cloud/bigquery';
import type { Logger } from 'pino';
import type { CallPolicy } from './call-policy.js';
import { describeFailure, failure, QueryFailure } from './failures.js';
import { customLogSchema, logAnalyticsSchema, type SchemaChoice, type SchemaField } from './log-schemas.js';
import type { LogSource, StreamTable, TableLayout } from './query-builder.js';
import { isDatasetId, isProjectId, LOG_ANALYTICS_VIEW, SINK_SCHEMA } from './query-builder.js';
import { RetriesExhausted } from './retry-policy.js';
import { isSinkTable, newestShard, STREAMS } from './sink-table-names.js';

interface TableMetadata {
  schema?: { fields?: SchemaField[] };
  timePartitioning?: { field?: string };
  location?: string;
}

export interface DiscoveredSource {
  source: LogSource;
  /** The dataset's location, which every job must name; undefined when the metadata does not say. */
  location: string | undefined;
}

/** The top-level columns, and the fields of RECORD columns as `record.field` (a sink's pod labels). */
export function tableColumns(fields: readonly SchemaField[]): Set<string> {
  const nested = fields.flatMap((field) =>
    (field.fields ?? []).map((child) => `${field.name ?? ''}.${child.name ?? ''}`),
  );
  return new Set([...fields.map((field) => field.name ?? ''), ...nested]);
}

function columnsOf(metadata: TableMetadata): Set<string> {
  return tableColumns(metadata.schema?.fields ?? []);
}

function invalidSchema(error: unknown): QueryFailure {
  return failure((error as Error).message, 'invalidSchema');
}

export async function discoverSource(
  client: BigQuery,
  policy: CallPolicy,
  log: Logger,
  projectId: string,
  datasetId: string,
  choice: SchemaChoice,
): Promise<DiscoveredSource> {
  if (!isProjectId(projectId)) throw new Error(`invalid BigQuery project id: "${projectId}"`);
  if (!isDatasetId(datasetId)) throw new Error(`invalid BigQuery dataset id: "${datasetId}"`);
  const dataset = client.dataset(datasetId, { projectId });
  const budget = policy.budget('discover tables');
  const call = <T>(request: () => Promise<T>): Promise<T> =>
    budget
      .run(() => policy.timed(budget, request()))
      .catch((error: unknown) => {
        throw error instanceof RetriesExhausted ? describeFailure(error) : error;
      });
  let location: string | undefined;
  const metadataOf = async (tableId: string): Promise<TableMetadata> => {
    const [metadata] = await call(() => dataset.table(tableId).getMetadata());
    const found = metadata as TableMetadata;
    // Jobs run where the data is; a job looked up again must name that location too.
    location ??= found.location;
    return found;
  };
  const found = (source: LogSource): DiscoveredSource => ({ source, location });

  if (choice.kind === 'custom') {
    const metadata = await metadataOf(choice.table);
    let schema;
    try {
      schema = customLogSchema(choice, metadata.schema?.fields ?? []);
    } catch (error) {
      throw invalidSchema(error);
    }
    if (metadata.timePartitioning?.field?.toLowerCase() !== schema.timestamp.toLowerCase()) {
      log.warn(
        { table: choice.table, column: schema.timestamp },
        'table is not partitioned on its timestamp column: every query scans all of it',
      );
    }
    const tables = [{ tableId: choice.table, columns: columnsOf(metadata) }];
    return found({ projectId, datasetId, layout: 'partitioned', tables, schema });
  }

  const [tables] = await call(() => dataset.getTables({ autoPaginate: true }));
  const ids = new Set(tables.map((table) => table.id ?? ''));
  const hasSinkTables = [...ids].some(isSinkTable);
  if (choice.kind === 'log-analytics' || (choice.kind === 'auto' && !hasSinkTables && ids.has(LOG_ANALYTICS_VIEW))) {
    if (!ids.has(LOG_ANALYTICS_VIEW)) {
      throw new QueryFailure(
        `dataset ${projectId}:${datasetId} has no ${LOG_ANALYTICS_VIEW} view`,
        'notFound',
        'point --dataset at the BigQuery dataset linked to a Log Analytics bucket',
      );
    }
    const metadata = await metadataOf(LOG_ANALYTICS_VIEW);
    let schema;
    try {
      schema = logAnalyticsSchema(metadata.schema?.fields ?? []);
    } catch (error) {
      throw invalidSchema(error);
    }
    const tables = [{ tableId: LOG_ANALYTICS_VIEW, columns: columnsOf(metadata) }];
    return found({ projectId, datasetId, layout: 'partitioned', tables, schema });
  }

  const layout: TableLayout = STREAMS.some((stream) => ids.has(stream)) ? 'partitioned' : 'sharded';
  const streamTables: StreamTable[] = [];
  for (const stream of STREAMS) {
    const tableName = layout === 'partitioned' ? (ids.has(stream) ? stream : undefined) : newestShard(ids, stream);
    if (tableName === undefined) continue;
    const metadata = await metadataOf(tableName);
    if (layout === 'partitioned' && !metadata.timePartitioning) {
      log.warn({ table: tableName }, 'table is not partitioned: every query scans all of it');
    }
    streamTables.push({
      stream,
      tableId: layout === 'partitioned' ? stream : `${stream}_*`,
      columns: columnsOf(metadata),
    });
  }
  if (streamTables.length === 0) {
    const alternative = choice.kind === 'auto' ? `, and no ${LOG_ANALYTICS_VIEW} view` : '';
    throw failure(`dataset ${projectId}:${datasetId} has no stdout/stderr tables${alternative}`, 'notFound');
  }
  return found({ projectId, datasetId, layout, tables: streamTables, schema: SINK_SCHEMA });
}
