// The fixture entries in the other layouts bqlogfs reads: a Log Analytics linked dataset's `_AllLogs`
// view (a table of the same schema here), and a table the user describes, as Fluent Bit's BigQuery
// output might fill it. Loaded through the real client's insertAll. And a described table for the
// statement tests.
import type { BigQuery, TableField } from '@google-cloud/bigquery';
import type { CustomSchemaChoice, SchemaField } from '../../src/bigquery/log-schemas.js';
import { containerLabels, type LogEntry } from '../../src/demo/sink-tables.js';
import { compactWithoutNulls } from './fixtures.js';

const nullable = (name: string, type: string, fields?: TableField[]): TableField => ({
  name,
  type,
  mode: 'NULLABLE',
  ...(fields && { fields }),
});

const column = (name: string, type: string, fields?: SchemaField[]): SchemaField => ({
  name,
  type,
  ...(fields && { fields }),
});

/** The columns of `_AllLogs` that bqlogfs reads (the real view has more). */
export const LOG_ANALYTICS_FIELDS: TableField[] = [
  nullable('timestamp', 'TIMESTAMP'),
  nullable('insert_id', 'STRING'),
  nullable('log_name', 'STRING'),
  nullable('severity', 'STRING'),
  nullable('resource', 'RECORD', [nullable('type', 'STRING'), nullable('labels', 'JSON')]),
  nullable('text_payload', 'STRING'),
  nullable('json_payload', 'JSON'),
  nullable('labels', 'JSON'),
];

/** Object keys in reverse order, at any depth: what bqlogfs writes must not depend on stored key order. */
function reversedKeys(value: unknown): unknown {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return value;
  return Object.fromEntries(
    Object.entries(value)
      .reverse()
      .map(([key, field]) => [key, reversedKeys(field)]),
  );
}

export function logAnalyticsRow(entry: LogEntry, projectId: string, resourceType = 'k8s_container') {
  return {
    timestamp: entry.timestamp,
    insert_id: entry.insertId,
    log_name: `projects/${projectId}/logs/${entry.stream}`,
    severity: entry.severity ?? (entry.stream === 'stderr' ? 'ERROR' : 'INFO'),
    resource: { type: resourceType, labels: containerLabels(entry, projectId) },
    ...(entry.textPayload !== undefined && { text_payload: entry.textPayload }),
    ...(entry.jsonPayload !== undefined && { json_payload: reversedKeys(entry.jsonPayload) }),
    labels: { k8s_pod_app: entry.pod.split('-')[0] ?? entry.pod },
  };
}

/** A table where Fluent Bit's BigQuery output could put container logs. */
export const CUSTOM_TABLE = 'fluentbit_logs';
export const CUSTOM_FIELDS: TableField[] = [
  nullable('time', 'TIMESTAMP'),
  nullable('record_id', 'STRING'),
  nullable('stream', 'STRING'),
  nullable('log', 'STRING'),
  nullable('kubernetes', 'JSON'),
  nullable('k8s_container', 'STRING'),
];

/** A table a user describes with a reserved word as a column, JSON fields, a RECORD path and no insert id. */
export const DESCRIBED_TABLE = 'fluentbit_logs';
export const DESCRIBED_CHOICE: CustomSchemaChoice = {
  kind: 'custom',
  table: DESCRIBED_TABLE,
  timestamp: 'at',
  message: 'log',
  namespace: 'kubernetes.namespace_name',
  pod: 'kubernetes.pod_name',
  container: 'k8s.container',
  cluster: 'k8s.cluster',
};
export const DESCRIBED_FIELDS: SchemaField[] = [
  column('at', 'TIMESTAMP'),
  column('log', 'STRING'),
  column('kubernetes', 'JSON'),
  column('k8s', 'RECORD', [column('container', 'STRING'), column('cluster', 'STRING')]),
];
/** The schema table of a config file for CUSTOM_TABLE. */
export const CUSTOM_SCHEMA_TOML = `kind = "custom"
table = "${CUSTOM_TABLE}"
timestamp = "time"
message = "log"
namespace = "kubernetes.namespace_name"
pod = "kubernetes.pod_name"
container = "k8s_container"
stream = "stream"
cluster = "kubernetes.cluster"
insert-id = "record_id"
`;

export function customRow(entry: LogEntry) {
  return {
    time: entry.timestamp,
    record_id: entry.insertId,
    stream: entry.stream,
    // An agent ships the line as text; a structured payload as its JSON.
    log: entry.textPayload ?? JSON.stringify(compactWithoutNulls(entry.jsonPayload ?? null)),
    kubernetes: { namespace_name: entry.namespace, pod_name: entry.pod, cluster: entry.cluster ?? 'demo-cluster' },
    k8s_container: entry.container,
  };
}

/** Creates a day-partitioned table (on `partitionField`) and inserts the rows in batches. */
export async function loadTable(
  client: BigQuery,
  datasetId: string,
  tableId: string,
  fields: TableField[],
  partitionField: string,
  rows: Record<string, unknown>[],
): Promise<void> {
  const [dataset] = await client.dataset(datasetId).get({ autoCreate: true });
  await dataset.createTable(tableId, { schema: { fields }, timePartitioning: { type: 'DAY', field: partitionField } });
  for (let start = 0; start < rows.length; start += 500) {
    await dataset.table(tableId).insert(rows.slice(start, start + 500));
  }
}

function sortedKeys(value: unknown): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map(sortedKeys);
  return Object.fromEntries(
    Object.entries(value)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([key, field]) => [key, sortedKeys(field)]),
  );
}

/** A line as the mount writes it for JSON columns: JSON payloads with their keys sorted. */
export function lineWithSortedKeys(entry: LogEntry): string {
  if (entry.textPayload !== undefined) return entry.textPayload.replace(/\n$/, '') + '\n';
  if (entry.jsonPayload !== undefined) return JSON.stringify(sortedKeys(compactWithoutNulls(entry.jsonPayload))) + '\n';
  return '\n';
}
