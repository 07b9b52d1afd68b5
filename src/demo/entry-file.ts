// Reads log entries from a JSON-lines file, one entry a line, in the shape a Cloud Logging sink
// writes them (and `gcloud logging read --format=json` prints them, one entry per line): logName
// ending in /logs/stdout or /logs/stderr, resource.labels with the namespace, pod and container,
// timestamp, and textPayload or jsonPayload; the pod's top-level controller from its labels.
// jsonPayload's columns are inferred as a sink would.
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import type { TableField } from '@google-cloud/bigquery';
import type { Stream } from '../bigquery/query-builder.js';
import type { LogEntry } from './sink-tables.js';

export interface EntryFile {
  entries: LogEntry[];
  jsonPayloadFields: TableField[];
}

const RFC3339 = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?(Z|[+-]\d\d:\d\d)$/i;

/** The timestamp in UTC with microseconds, as the sink's TIMESTAMP column keeps it. */
function utcMicros(text: string): string | undefined {
  const match = RFC3339.exec(text);
  if (!match) return undefined;
  const zone = match[3]?.toUpperCase() === 'Z' ? 'Z' : (match[3] ?? 'Z');
  const ms = Date.parse(`${match[1]}${zone}`);
  if (Number.isNaN(ms)) return undefined;
  const fraction = (match[2] ?? '').slice(0, 6).padEnd(6, '0');
  return `${new Date(ms).toISOString().slice(0, 19)}.${fraction}Z`;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A column name as a sink makes one of a JSON key: letters, digits and underscores. */
function columnName(key: string): string {
  const name = key.replace(/[^A-Za-z0-9_]/g, '_');
  return /^[0-9]/.test(name) ? `_${name}` : name;
}

/** The payload with its keys renamed as the sink's columns are, at any depth. */
function withColumnNames(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withColumnNames);
  if (!isObject(value)) return value;
  return Object.fromEntries(Object.entries(value).map(([key, item]) => [columnName(key), withColumnNames(item)]));
}

/** A column as a sink creates it for a JSON value; undefined for null, which says nothing. */
function fieldFor(name: string, value: unknown): TableField | undefined {
  if (value === null || value === undefined) return undefined;
  if (Array.isArray(value)) {
    const element = value.map((item) => fieldFor(name, item)).find((field) => field !== undefined);
    return element && { ...element, mode: 'REPEATED' };
  }
  if (isObject(value)) return { name, type: 'RECORD', mode: 'NULLABLE', fields: [] };
  const type = typeof value === 'number' ? 'FLOAT' : typeof value === 'boolean' ? 'BOOLEAN' : 'STRING';
  return { name, type, mode: 'NULLABLE' };
}

/** Adds the columns `value` needs to `fields`; a value of another type than its column is an error. */
function addFields(value: Record<string, unknown>, fields: TableField[], path: string): void {
  for (const [name, item] of Object.entries(value)) {
    const wanted = fieldFor(name, item);
    if (!wanted) continue;
    let known = fields.find((field) => field.name === name);
    if (!known) {
      known = wanted;
      fields.push(known);
    } else if (known.type !== wanted.type || known.mode !== wanted.mode) {
      throw new Error(`${path}.${name} is ${wanted.mode} ${wanted.type} here but ${known.mode} ${known.type} before`);
    }
    if (known.type !== 'RECORD') continue;
    for (const record of (Array.isArray(item) ? item : [item]).filter(isObject)) {
      addFields(record, (known.fields ??= []), `${path}.${name}`);
    }
  }
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** One line's entry; throws with what is missing. */
function entryOf(value: unknown, fields: TableField[], lineNumber: number): LogEntry {
  if (!isObject(value)) throw new Error('not a JSON object');
  const stream = /\/logs\/(stdout|stderr)$/.exec(text(value.logName) ?? '')?.[1] as Stream | undefined;
  if (!stream) throw new Error('logName must end in /logs/stdout or /logs/stderr');
  const labels = isObject(value.resource) && isObject(value.resource.labels) ? value.resource.labels : {};
  const namespace = text(labels.namespace_name);
  const pod = text(labels.pod_name);
  const container = text(labels.container_name);
  if (!namespace || !pod || !container) {
    throw new Error('resource.labels needs namespace_name, pod_name and container_name');
  }
  const timestamp = utcMicros(text(value.timestamp) ?? '');
  if (!timestamp) throw new Error('timestamp must be RFC 3339, such as 2026-11-30T10:00:00.123456Z');
  const entry: LogEntry = {
    namespace,
    pod,
    container,
    stream,
    timestamp,
    insertId: text(value.insertId) ?? `line-${lineNumber}`,
  };
  const cluster = text(labels.cluster_name);
  if (cluster) entry.cluster = cluster;
  const severity = text(value.severity);
  if (severity) entry.severity = severity;
  // The pod's top-level controller: under its original key as Cloud Logging prints it, or as a sink names it.
  const podLabels = isObject(value.labels) ? value.labels : {};
  const label = (key: string) => text(podLabels[`logging.gke.io/${key}`]) ?? text(podLabels[`logging_gke_io_${key}`]);
  const controller = label('top_level_controller_name');
  if (controller) entry.controller = { name: controller, kind: label('top_level_controller_type') ?? '' };
  if (typeof value.textPayload === 'string') entry.textPayload = value.textPayload;
  else if (isObject(value.jsonPayload)) {
    const payload = withColumnNames(value.jsonPayload) as Record<string, unknown>;
    addFields(payload, fields, 'jsonPayload');
    entry.jsonPayload = payload;
  }
  return entry;
}

/**
 * The entries of a file, and the jsonPayload columns they need: `knownFields` (changed in place, so
 * several files can share one list) plus what the file adds.
 */
export async function readEntryFile(path: string, knownFields: TableField[] = []): Promise<EntryFile> {
  const entries: LogEntry[] = [];
  const jsonPayloadFields = knownFields;
  const lines = createInterface({ input: createReadStream(path, 'utf8'), crlfDelay: Infinity });
  let lineNumber = 0;
  for await (const line of lines) {
    lineNumber++;
    if (line.trim() === '') continue;
    try {
      entries.push(entryOf(JSON.parse(line), jsonPayloadFields, lineNumber));
    } catch (error) {
      throw new Error(`${path}:${lineNumber}: ${(error as Error).message}`, { cause: error });
    }
  }
  return { entries, jsonPayloadFields };
}
