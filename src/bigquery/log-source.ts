// What bqlogfs reads: the log tables of a dataset, and which of their columns play which role
// (a sink's tables, a Log Analytics linked dataset's view, or a table the user described), plus the
// shape of a statement with its named parameters.
import type { NamespaceRestriction } from '../model/namespace-policy.js';
export type TableLayout = 'partitioned' | 'sharded';
export type Stream = 'stdout' | 'stderr';

export interface StreamTable {
  /** The stream every entry of this table has; unset when the schema derives it per row. */
  stream?: Stream;
  /** `stdout`, or `stdout_*` for date-sharded tables. */
  tableId: string;
  /**
   * Columns that exist, top-level names and the dotted paths of fields inside RECORD columns
   * (`split.uid`, `labels.k8s_pod_app`); a sink only creates a column, or a field, once some entry had it.
   */
  columns: ReadonlySet<string>;
}

/**
 * Where one value of an entry is: a column path (`resource.labels.namespace_name`), and when that
 * column is of type JSON and the value is a field inside it, the field's path (`namespace_name`).
 */
export interface ColumnRef {
  path: string;
  jsonField?: string;
}

export type SchemaKind = 'sink' | 'log-analytics' | 'custom';

/**
 * Which columns of the log table(s) play which role. Roles that are unset, or whose top-level
 * column a table lacks, read as NULL.
 */
export interface LogSchema {
  kind: SchemaKind;
  /** A TIMESTAMP column: the entry's time, and the column every statement filters on (partitioning). */
  timestamp: string;
  namespace: ColumnRef;
  pod: ColumnRef;
  container: ColumnRef;
  /** What `--cluster` compares with. */
  cluster?: ColumnRef;
  insertId?: ColumnRef;
  /**
   * stdout or stderr: the table's own if it has one (a sink writes one table per stream, else NULL),
   * a column holding it, or a log name that ends in `/stderr` for stderr and in anything else for stdout.
   */
  stream: { from: 'table' } | { from: 'column'; column: ColumnRef } | { from: 'log-name'; column: ColumnRef };
  /** A text payload, read as STRING. */
  text?: ColumnRef;
  /** A structured payload, read as JSON text (TO_JSON_STRING). */
  json?: ColumnRef;
  severity?: ColumnRef;
  /** Read as JSON text; only for `--format json`. */
  labels?: ColumnRef;
  /**
   * Where Cloud Logging marks the parts of an entry it split (LogSplit: a uid shared by the parts,
   * the part's index from 0, and how many parts there are). Parts are joined back into one entry
   * in tables that have the uid and index columns.
   */
  split?: { uid: string; index: string; total: string };
  /**
   * The name of the pod's top-level controller (its Deployment, StatefulSet, DaemonSet, Job or
   * CronJob), which the listing reads for workload directories. Read only when the table has the
   * field itself, since a sink adds a label's field only once some entry had it.
   */
  controller?: ColumnRef;
  /** Only rows whose column holds this value, e.g. resource.type = 'k8s_container'. */
  only?: { column: ColumnRef; value: string };
  /**
   * BigQuery's JSON type keeps no key order, so JSON payloads read from JSON columns have their
   * object keys sorted: lines do not depend on the order BigQuery returns. A sink's RECORD
   * columns keep their schema order.
   */
  sortJsonKeys: boolean;
}

/** The tables a Cloud Logging sink writes (`stdout`, `stderr`): what bqlogfs has always read. */
export const SINK_SCHEMA: LogSchema = {
  kind: 'sink',
  timestamp: 'timestamp',
  namespace: { path: 'resource.labels.namespace_name' },
  pod: { path: 'resource.labels.pod_name' },
  container: { path: 'resource.labels.container_name' },
  cluster: { path: 'resource.labels.cluster_name' },
  insertId: { path: 'insertId' },
  stream: { from: 'table' },
  text: { path: 'textPayload' },
  json: { path: 'jsonPayload' },
  severity: { path: 'severity' },
  labels: { path: 'labels' },
  split: { uid: 'split.uid', index: 'split.index', total: 'split.totalSplits' },
  controller: { path: 'labels.logging_gke_io_top_level_controller_name' },
  sortJsonKeys: false,
};

/** The view `_AllLogs` of a Log Analytics linked dataset: snake_case columns, labels as JSON. */
export const LOG_ANALYTICS_VIEW = '_AllLogs';
export const LOG_ANALYTICS_SCHEMA: LogSchema = {
  kind: 'log-analytics',
  timestamp: 'timestamp',
  namespace: { path: 'resource.labels', jsonField: 'namespace_name' },
  pod: { path: 'resource.labels', jsonField: 'pod_name' },
  container: { path: 'resource.labels', jsonField: 'container_name' },
  cluster: { path: 'resource.labels', jsonField: 'cluster_name' },
  insertId: { path: 'insert_id' },
  stream: { from: 'log-name', column: { path: 'log_name' } },
  text: { path: 'text_payload' },
  json: { path: 'json_payload' },
  severity: { path: 'severity' },
  labels: { path: 'labels' },
  split: { uid: 'split.uid', index: 'split.index', total: 'split.total_splits' },
  only: { column: { path: 'resource.type' }, value: 'k8s_container' },
  sortJsonKeys: true,
};

export interface LogSource {
  projectId: string;
  datasetId: string;
  layout: TableLayout;
  tables: readonly StreamTable[];
  /** Which column holds what; a sink's layout when absent. */
  schema?: LogSchema;
  /** When set, only these namespaces exist for this mount, in SQL as in the path layer. */
  namespaces?: NamespaceRestriction;
  /** When set, only entries of this cluster exist for this mount (`--cluster`). */
  cluster?: string;
  /** The dataset's location as its tables' metadata says, which every job on it names. */
  location?: string;
}

export type { NamespaceRestriction };

export type ParamType = 'STRING' | 'TIMESTAMP' | 'INT64' | ['STRING'];

export interface BuiltQuery {
  sql: string;
  params: Record<string, string | Date | number | string[]>;
  types: Record<string, ParamType>;
}
