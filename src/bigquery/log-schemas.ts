// Which layout of log tables a mount reads (`schema`): a Cloud Logging sink's stdout/stderr tables,
// the `_AllLogs` view of a Log Analytics linked dataset, or one table the user described column by
// column (logs shipped by other agents, e.g. Fluent Bit's BigQuery output). This file checks the
// choice and turns it, with the table's schema, into the LogSchema the query builders read.
import {
  isColumnPath,
  isTableId,
  LOG_ANALYTICS_SCHEMA,
  LOG_ANALYTICS_VIEW,
  type ColumnRef,
  type LogSchema,
} from './query-builder.js';

export type SchemaChoiceKind = 'auto' | 'sink' | 'log-analytics' | 'custom';
export const SCHEMA_KINDS: readonly SchemaChoiceKind[] = ['auto', 'sink', 'log-analytics', 'custom'];

/** A table the user described: which column holds what. Every name is a column path (`a.b`). */
export interface CustomSchemaChoice {
  kind: 'custom';
  /** A table of the mount's dataset. */
  table: string;
  namespace: string;
  pod: string;
  container: string;
  /** A TIMESTAMP column; the table should be partitioned on it. */
  timestamp: string;
  /** STRING (a text line), JSON or RECORD (a structured payload, written as compact JSON). */
  message: string;
  stream?: string;
  severity?: string;
  /** Needed for `--cluster`. */
  cluster?: string;
  /** A unique id per entry: orders entries of the same time, and drops duplicate deliveries. */
  'insert-id'?: string;
}

export type SchemaChoice = { kind: 'auto' | 'sink' | 'log-analytics' } | CustomSchemaChoice;

const REQUIRED_CUSTOM_KEYS = ['table', 'namespace', 'pod', 'container', 'timestamp', 'message'] as const;
const OPTIONAL_CUSTOM_KEYS = ['stream', 'severity', 'cluster', 'insert-id'] as const;
/** The keys of a `[mounts.<name>.schema]` table. */
export const SCHEMA_TABLE_KEYS: readonly string[] = ['kind', ...REQUIRED_CUSTOM_KEYS, ...OPTIONAL_CUSTOM_KEYS];

/**
 * Checks a schema setting: a kind (`auto`, `sink`, `log-analytics`), or a table with `kind` and,
 * for `custom`, the table and the columns of each role. Throws a message naming what is wrong.
 */
export function parseSchemaChoice(value: string | Readonly<Record<string, string>>): SchemaChoice {
  const table = typeof value === 'string' ? { kind: value } : value;
  const kind = table.kind ?? (typeof value === 'string' ? value : 'custom');
  if (!SCHEMA_KINDS.includes(kind as SchemaChoiceKind)) {
    throw new Error(`takes one of ${SCHEMA_KINDS.join(', ')}, not "${kind}"`);
  }
  if (kind !== 'custom') {
    const extra = Object.keys(table).find((key) => key !== 'kind');
    if (extra !== undefined) throw new Error(`${extra} is only for kind = "custom"`);
    return { kind: kind as 'auto' | 'sink' | 'log-analytics' };
  }
  if (typeof value === 'string') {
    throw new Error(
      'custom needs its columns: a [mounts.<name>.schema] table in the config file with kind = "custom", ' +
        `${REQUIRED_CUSTOM_KEYS.join(', ')}`,
    );
  }
  const missing = REQUIRED_CUSTOM_KEYS.filter((key) => table[key] === undefined || table[key] === '');
  if (missing.length > 0) throw new Error(`kind = "custom" also needs ${missing.join(', ')}`);
  const choice: Record<string, string> = { kind: 'custom' };
  for (const key of [...REQUIRED_CUSTOM_KEYS, ...OPTIONAL_CUSTOM_KEYS]) {
    const name = table[key];
    if (name === undefined) continue;
    if (key === 'table' ? !isTableId(name) || name.endsWith('*') : !isColumnPath(name)) {
      throw new Error(
        key === 'table'
          ? `table "${name}" is not a BigQuery table name (letters, digits and _)`
          : `${key} "${name}" is not a column path (names of letters, digits and _, joined by dots)`,
      );
    }
    choice[key] = name;
  }
  return choice as unknown as CustomSchemaChoice;
}

/** The parts of a BigQuery table schema this needs. */
export interface SchemaField {
  name?: string;
  type?: string;
  mode?: string;
  fields?: SchemaField[];
}

/**
 * Every column of a table schema by name: top-level names, and the dotted path of every field
 * inside a RECORD (`resource.labels.pod_name`), as a set of the names found.
 */
export function columnPaths(fields: readonly SchemaField[], prefix = ''): Set<string> {
  const paths = new Set<string>();
  for (const field of fields) {
    if (!field.name) continue;
    const path = prefix + field.name;
    paths.add(path);
    for (const inner of columnPaths(field.fields ?? [], `${path}.`)) paths.add(inner);
  }
  return paths;
}

interface ResolvedColumn {
  ref: ColumnRef;
  /** The BigQuery type of the value; `JSON` also for a field inside a JSON column. */
  type: string;
}

/** Finds a column path in a table's schema; a path into a JSON column becomes a JSON field. */
function resolveColumn(fields: readonly SchemaField[], path: string, table: string): ResolvedColumn {
  const segments = path.split('.');
  const found: string[] = [];
  let level: readonly SchemaField[] = fields;
  for (let index = 0; index < segments.length; index++) {
    const segment = segments[index] ?? '';
    // BigQuery column names are case-insensitive.
    const field = level.find((candidate) => candidate.name?.toLowerCase() === segment.toLowerCase());
    if (!field?.name) throw new Error(`table ${table} has no column ${[...found, segment].join('.')}`);
    found.push(field.name);
    if (field.mode === 'REPEATED') throw new Error(`column ${found.join('.')} of table ${table} is repeated`);
    const type = (field.type ?? '').toUpperCase();
    const rest = segments.slice(index + 1);
    if (rest.length === 0) return { ref: { path: found.join('.') }, type };
    if (type === 'JSON') return { ref: { path: found.join('.'), jsonField: rest.join('.') }, type: 'JSON' };
    if (type !== 'RECORD' && type !== 'STRUCT') {
      throw new Error(`column ${found.join('.')} of table ${table} is ${type}, it has no field ${rest.join('.')}`);
    }
    level = field.fields ?? [];
  }
  throw new Error(`invalid column path ${path}`);
}

const STRUCTURED = new Set(['RECORD', 'STRUCT']);

/** A value read as is: anything but a record or a whole JSON column. */
function scalarColumn(fields: readonly SchemaField[], path: string, role: string, table: string): ColumnRef {
  const { ref, type } = resolveColumn(fields, path, table);
  if (STRUCTURED.has(type) || (type === 'JSON' && ref.jsonField === undefined)) {
    throw new Error(`${role} column ${path} of table ${table} is ${type}; name a field inside it`);
  }
  return ref;
}

/** The LogSchema of a table the user described, checked against the table's schema. */
export function customLogSchema(choice: CustomSchemaChoice, fields: readonly SchemaField[]): LogSchema {
  const { table } = choice;
  const scalar = (path: string, role: string) => scalarColumn(fields, path, role, table);
  const timestamp = resolveColumn(fields, choice.timestamp, table);
  if (timestamp.type !== 'TIMESTAMP' || timestamp.ref.jsonField !== undefined) {
    throw new Error(`timestamp column ${choice.timestamp} of table ${table} is ${timestamp.type}, not TIMESTAMP`);
  }
  const message = resolveColumn(fields, choice.message, table);
  const structured = STRUCTURED.has(message.type) || (message.type === 'JSON' && message.ref.jsonField === undefined);
  const stream = choice.stream;
  const schema: LogSchema = {
    kind: 'custom',
    timestamp: timestamp.ref.path,
    namespace: scalar(choice.namespace, 'namespace'),
    pod: scalar(choice.pod, 'pod'),
    container: scalar(choice.container, 'container'),
    stream: stream === undefined ? { from: 'table' } : { from: 'column', column: scalar(stream, 'stream') },
    ...(structured ? { json: message.ref } : { text: message.ref }),
    sortJsonKeys: structured && message.type === 'JSON',
  };
  if (choice.cluster !== undefined) schema.cluster = scalar(choice.cluster, 'cluster');
  if (choice.severity !== undefined) schema.severity = scalar(choice.severity, 'severity');
  if (choice['insert-id'] !== undefined) schema.insertId = scalar(choice['insert-id'], 'insert-id');
  return schema;
}

/** Columns a Log Analytics view must have for bqlogfs to read it. */
const LOG_ANALYTICS_REQUIRED = ['timestamp', 'log_name', 'resource'];

/** The Log Analytics schema, after checking the view has the columns it reads. */
export function logAnalyticsSchema(fields: readonly SchemaField[]): LogSchema {
  const names = new Set(fields.map((field) => field.name ?? ''));
  const missing = LOG_ANALYTICS_REQUIRED.filter((name) => !names.has(name));
  if (missing.length > 0) {
    throw new Error(`${LOG_ANALYTICS_VIEW} lacks ${missing.join(', ')}: not a Log Analytics view`);
  }
  if (!names.has('text_payload') && !names.has('json_payload')) {
    throw new Error(`${LOG_ANALYTICS_VIEW} has neither text_payload nor json_payload`);
  }
  return LOG_ANALYTICS_SCHEMA;
}
