// The tables a Cloud Logging sink writes for GKE container logs, and a loader that writes entries
// into them through the BigQuery client's insertAll, for the demo, tests and benchmarks.
import type { BigQuery, TableField } from '@google-cloud/bigquery';
import type { Stream, TableLayout } from '../bigquery/query-builder.js';
import { daysIn, shardSuffix, type DayName } from '../model/time-model.js';

const nullable = (name: string, type: string, fields?: TableField[]): TableField => ({
  name,
  type,
  mode: 'NULLABLE',
  ...(fields && { fields }),
});

/**
 * The sink's schema. jsonPayload's fields are whatever the payloads had, so callers pass them; with
 * none, there is no jsonPayload column, as a sink only creates a column once some entry had it.
 */
export function sinkSchema(jsonPayloadFields: TableField[], options: SinkTableOptions = {}): TableField[] {
  return [
    nullable('logName', 'STRING'),
    nullable('resource', 'RECORD', [
      nullable('type', 'STRING'),
      nullable('labels', 'RECORD', [
        nullable('project_id', 'STRING'),
        nullable('location', 'STRING'),
        nullable('cluster_name', 'STRING'),
        nullable('namespace_name', 'STRING'),
        nullable('pod_name', 'STRING'),
        nullable('container_name', 'STRING'),
      ]),
    ]),
    nullable('textPayload', 'STRING'),
    ...(jsonPayloadFields.length > 0 ? [nullable('jsonPayload', 'RECORD', jsonPayloadFields)] : []),
    nullable('timestamp', 'TIMESTAMP'),
    nullable('receiveTimestamp', 'TIMESTAMP'),
    nullable('severity', 'STRING'),
    nullable('insertId', 'STRING'),
    nullable('labels', 'RECORD', [
      nullable('k8s_pod_app', 'STRING'),
      nullable('k8s_pod_pod_template_hash', 'STRING'),
      nullable('compute_googleapis_com_resource_name', 'STRING'),
      nullable('logging_gke_io_top_level_controller_name', 'STRING'),
      nullable('logging_gke_io_top_level_controller_type', 'STRING'),
    ]),
    nullable('trace', 'STRING'),
    nullable('spanId', 'STRING'),
    ...(options.split
      ? [
          nullable('split', 'RECORD', [
            nullable('uid', 'STRING'),
            nullable('index', 'INTEGER'),
            nullable('totalSplits', 'INTEGER'),
          ]),
        ]
      : []),
  ];
}

export interface SinkTableOptions {
  /** The `split` column, which a sink creates once it has seen an entry Cloud Logging split. */
  split?: boolean;
}

/** Where Cloud Logging marks one part of an entry it split into `totalSplits` parts. */
export interface LogSplit {
  uid: string;
  /** From 0; a sink leaves 0 out (NULL), as protobuf does. */
  index: number;
  totalSplits: number;
}

/** One log entry as a test or the demo describes it. */
export interface LogEntry {
  namespace: string;
  pod: string;
  container: string;
  stream: Stream;
  /** RFC 3339 with up to microseconds, UTC (`2026-11-26T10:00:00.123456Z`). */
  timestamp: string;
  insertId: string;
  textPayload?: string;
  jsonPayload?: Record<string, unknown>;
  severity?: string;
  /** The GKE cluster; `demo-cluster` when absent. */
  cluster?: string;
  /** One part of an entry Cloud Logging split; needs tables made with `split`. */
  split?: LogSplit;
  /** The pod's top-level controller (a Deployment, StatefulSet, …), which GKE writes into `labels`. */
  controller?: { name: string; kind: string };
}

/** The `resource.labels` Cloud Logging gives a GKE container's entries. */
export function containerLabels(entry: LogEntry, projectId: string): Record<string, string> {
  return {
    project_id: projectId,
    location: 'europe-west1',
    cluster_name: entry.cluster ?? 'demo-cluster',
    namespace_name: entry.namespace,
    pod_name: entry.pod,
    container_name: entry.container,
  };
}

export function sinkRow(entry: LogEntry, projectId: string): Record<string, unknown> {
  return {
    logName: `projects/${projectId}/logs/${entry.stream}`,
    resource: { type: 'k8s_container', labels: containerLabels(entry, projectId) },
    ...(entry.textPayload !== undefined && { textPayload: entry.textPayload }),
    ...(entry.jsonPayload !== undefined && { jsonPayload: entry.jsonPayload }),
    timestamp: entry.timestamp,
    receiveTimestamp: entry.timestamp,
    severity: entry.severity ?? (entry.stream === 'stderr' ? 'ERROR' : 'INFO'),
    insertId: entry.insertId,
    labels: {
      k8s_pod_app: entry.pod.split('-')[0] ?? entry.pod,
      ...(entry.controller && {
        logging_gke_io_top_level_controller_name: entry.controller.name,
        logging_gke_io_top_level_controller_type: entry.controller.kind,
      }),
    },
    ...(entry.split && {
      split: {
        uid: entry.split.uid,
        ...(entry.split.index !== 0 && { index: entry.split.index }),
        totalSplits: entry.split.totalSplits,
      },
    }),
  };
}

function tableName(layout: TableLayout, stream: Stream, day: DayName): string {
  return layout === 'partitioned' ? stream : `${stream}_${shardSuffix(day)}`;
}

/** Creates the dataset and the stdout/stderr tables (or their daily shards) the way a sink does. */
export async function createSinkTables(
  client: BigQuery,
  datasetId: string,
  layout: TableLayout,
  days: DayName[],
  jsonPayloadFields: TableField[],
  options: SinkTableOptions = {},
): Promise<void> {
  const [dataset] = await client.dataset(datasetId).get({ autoCreate: true });
  const schema = { fields: sinkSchema(jsonPayloadFields, options) };
  const names =
    layout === 'partitioned'
      ? ['stdout', 'stderr']
      : days.flatMap((day) => (['stdout', 'stderr'] as const).map((stream) => tableName(layout, stream, day)));
  for (const name of names) {
    const table = dataset.table(name);
    const [exists] = await table.exists();
    if (exists) continue;
    await dataset.createTable(name, {
      schema,
      ...(layout === 'partitioned' && { timePartitioning: { type: 'DAY', field: 'timestamp' } }),
    });
  }
}

/** Writes entries with insertAll, batched per table, into the table each belongs to. */
export async function insertEntries(
  client: BigQuery,
  datasetId: string,
  layout: TableLayout,
  entries: Iterable<LogEntry>,
  batchSize = 1000,
): Promise<number> {
  const projectId = client.projectId;
  const batches = new Map<string, Record<string, unknown>[]>();
  let inserted = 0;
  const flush = async (name: string) => {
    const rows = batches.get(name);
    if (!rows?.length) return;
    batches.set(name, []);
    await client.dataset(datasetId).table(name).insert(rows);
    inserted += rows.length;
  };
  for (const entry of entries) {
    const day = daysIn({ startMs: Date.parse(entry.timestamp), endMs: Date.parse(entry.timestamp) + 1 })[0] ?? '';
    const name = tableName(layout, entry.stream, day);
    const rows = batches.get(name) ?? [];
    batches.set(name, rows);
    rows.push(sinkRow(entry, projectId));
    if (rows.length >= batchSize) await flush(name);
  }
  for (const name of [...batches.keys()]) await flush(name);
  return inserted;
}
