// The WHERE conditions statements share: the time range that prunes partitions or shards, the rows
// the schema keeps, the mount's namespace and cluster restrictions, and one container's labels.
// Every value becomes a named query parameter.
import type { ContainerRef } from '../model/log-path.js';
import { daysIn, shardSuffix, type TimeRange } from '../model/time-model.js';
import type { BuiltQuery, LogSource } from './log-source.js';
import { columnSql, schemaOf, valueSql } from './sql-text.js';

/**
 * The WHERE conditions of every query: those that make BigQuery prune to the partitions or shards
 * of a time range, the rows the schema keeps, and the mount's namespace and cluster restrictions.
 */
export function scopeFilter(source: LogSource, query: BuiltQuery, range: TimeRange, prefix: string): string {
  const schema = schemaOf(source);
  query.params[`${prefix}_start`] = new Date(range.startMs);
  query.params[`${prefix}_end`] = new Date(range.endMs);
  query.types[`${prefix}_start`] = 'TIMESTAMP';
  query.types[`${prefix}_end`] = 'TIMESTAMP';
  const timestamp = columnSql(schema.timestamp);
  const onTimestamp =
    `${timestamp} >= @${prefix}_start AND ${timestamp} < @${prefix}_end` +
    `${rowFilter(source, query)}${namespaceFilter(source, query)}${clusterFilter(source, query)}`;
  if (source.layout === 'partitioned') return onTimestamp;
  const days = daysIn(range);
  query.params.first_shard = shardSuffix(days[0] ?? '');
  query.params.last_shard = shardSuffix(days[days.length - 1] ?? '');
  query.types.first_shard = 'STRING';
  query.types.last_shard = 'STRING';
  return `_TABLE_SUFFIX BETWEEN @first_shard AND @last_shard AND ${onTimestamp}`;
}

/** The schema's fixed row condition, e.g. only Kubernetes container logs of a Log Analytics view. */
function rowFilter(source: LogSource, query: BuiltQuery): string {
  const only = schemaOf(source).only;
  if (!only) return '';
  query.params.only_value = only.value;
  query.types.only_value = 'STRING';
  return ` AND ${valueSql(only.column)} = @only_value`;
}

function clusterFilter(source: LogSource, query: BuiltQuery): string {
  if (source.cluster === undefined) return '';
  const column = schemaOf(source).cluster;
  if (!column) throw new Error('--cluster needs a cluster column, and this log schema has none');
  query.params.cluster = source.cluster;
  query.types.cluster = 'STRING';
  return ` AND ${valueSql(column)} = @cluster`;
}

function namespaceFilter(source: LogSource, query: BuiltQuery): string {
  const restriction = source.namespaces;
  const namespace = valueSql(schemaOf(source).namespace);
  let sql = '';
  if (restriction?.names) {
    query.params.allowed_namespaces = [...restriction.names];
    query.types.allowed_namespaces = ['STRING'];
    sql += ` AND ${namespace} IN UNNEST(@allowed_namespaces)`;
  }
  if (restriction?.pattern !== undefined) {
    query.params.namespace_pattern = `^(?:${restriction.pattern})$`;
    query.types.namespace_pattern = 'STRING';
    sql += ` AND REGEXP_CONTAINS(${namespace}, @namespace_pattern)`;
  }
  return sql;
}

export function containerFilter(source: LogSource, query: BuiltQuery, ref: ContainerRef): string {
  const schema = schemaOf(source);
  query.params.namespace = ref.namespace;
  query.params.pod = ref.pod;
  query.params.container = ref.container;
  query.types.namespace = 'STRING';
  query.types.pod = 'STRING';
  query.types.container = 'STRING';
  return (
    `${valueSql(schema.namespace)} = @namespace AND ${valueSql(schema.pod)} = @pod` +
    ` AND ${valueSql(schema.container)} = @container`
  );
}
