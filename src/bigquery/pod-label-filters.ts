// Which pods a command reads, by their labels as a sink stores them (`labels.k8s_pod_<key>`, and
// GKE's `labels.logging_gke_io_top_level_controller_name` for the workload): kubectl's selectors
// as SQL conditions, every value a query parameter, every column checked against the table.
import type { LabelRequirement } from '../model/label-selector.js';
import { podLabelField } from '../model/label-selector.js';
import type { BuiltQuery, LogSource, StreamTable } from './log-source.js';
import { columnSql, schemaOf } from './sql-text.js';

/** Pods selected by their labels: all requirements hold. */
export interface PodLabelScope {
  /** The Deployment, StatefulSet, DaemonSet, Job or CronJob the pods belong to. */
  workload?: string;
  labels?: readonly LabelRequirement[];
}

/** The sink's label holding the top-level controller of a pod (see GKE's logging labels). */
const WORKLOAD_FIELD = 'logging_gke_io_top_level_controller_name';
/** A label of the sink's `labels` record, or undefined when the table has no such column. */
function labelColumn(table: StreamTable, field: string): string | undefined {
  return table.columns.has(`labels.${field}`) ? columnSql(`labels.${field}`) : undefined;
}

/**
 * One requirement as SQL for one table. A table without the label's column has no pod with that
 * label (a sink creates a column only once an entry had it): `=`/`in`/existence are false there,
 * `!=`/`notin`/`!key` true, as kubectl would select.
 */
function labelCondition(table: StreamTable, requirement: LabelRequirement, name: string, query: BuiltQuery): string {
  const column = labelColumn(table, podLabelField(requirement.key));
  const holdsWithout = requirement.op === 'notin' || requirement.op === 'absent';
  if (column === undefined) return holdsWithout ? 'TRUE' : 'FALSE';
  switch (requirement.op) {
    case 'exists':
      return `${column} IS NOT NULL`;
    case 'absent':
      return `${column} IS NULL`;
    case 'in':
    case 'notin':
      query.params[name] = [...requirement.values];
      query.types[name] = ['STRING'];
      return requirement.op === 'in'
        ? `${column} IN UNNEST(@${name})`
        : `(${column} IS NULL OR ${column} NOT IN UNNEST(@${name}))`;
  }
}

/** The scope's conditions for one table, each on a line of its own starting with `AND`; '' without any. */
export function podLabelFilter(source: LogSource, table: StreamTable, scope: PodLabelScope, query: BuiltQuery): string {
  const requirements = scope.labels ?? [];
  if (scope.workload === undefined && requirements.length === 0) return '';
  if (schemaOf(source).kind !== 'sink') {
    throw new Error("--workload and -l read the pod labels of a sink's tables; this dataset has another layout");
  }
  let sql = '';
  if (scope.workload !== undefined) {
    query.params.workload = scope.workload;
    query.types.workload = 'STRING';
    const column = labelColumn(table, WORKLOAD_FIELD);
    sql += `\n    AND ${column === undefined ? 'FALSE' : `${column} = @workload`}`;
  }
  requirements.forEach((requirement, index) => {
    sql += `\n    AND ${labelCondition(table, requirement, `label_${index}`, query)}`;
  });
  return sql;
}
