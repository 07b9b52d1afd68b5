// BigQuery table schemas: validation, canonical type names, mapping to DuckDB
// column types, and leaf column paths (the unit of billing).
import { BqError } from './errors.js';

export type FieldType =
  | 'STRING'
  | 'BYTES'
  | 'INTEGER'
  | 'FLOAT'
  | 'NUMERIC'
  | 'BIGNUMERIC'
  | 'BOOLEAN'
  | 'TIMESTAMP'
  | 'DATE'
  | 'TIME'
  | 'DATETIME'
  | 'GEOGRAPHY'
  | 'JSON'
  | 'RECORD';

export type FieldMode = 'NULLABLE' | 'REQUIRED' | 'REPEATED';

export interface BqField {
  name: string;
  type: FieldType;
  mode?: FieldMode;
  fields?: BqField[];
  description?: string;
}

const TYPE_ALIASES: Record<string, FieldType> = {
  STRING: 'STRING',
  BYTES: 'BYTES',
  INTEGER: 'INTEGER',
  INT64: 'INTEGER',
  FLOAT: 'FLOAT',
  FLOAT64: 'FLOAT',
  NUMERIC: 'NUMERIC',
  DECIMAL: 'NUMERIC',
  BIGNUMERIC: 'BIGNUMERIC',
  BIGDECIMAL: 'BIGNUMERIC',
  BOOLEAN: 'BOOLEAN',
  BOOL: 'BOOLEAN',
  TIMESTAMP: 'TIMESTAMP',
  DATE: 'DATE',
  TIME: 'TIME',
  DATETIME: 'DATETIME',
  GEOGRAPHY: 'GEOGRAPHY',
  JSON: 'JSON',
  RECORD: 'RECORD',
  STRUCT: 'RECORD',
};

const NAME_RE = /^[A-Za-z_][A-Za-z0-9_]{0,299}$/;

/** Validates a schema from a request and returns it with canonical type names. */
export function normalizeSchema(raw: unknown, where = 'schema'): BqField[] {
  if (!Array.isArray(raw)) throw BqError.invalid(`Invalid ${where}: fields must be an array`);
  const seen = new Set<string>();
  return raw.map((f: unknown) => {
    if (typeof f !== 'object' || f === null) throw BqError.invalid(`Invalid field in ${where}`);
    const o = f as Record<string, unknown>;
    const name = String(o.name ?? '');
    if (!NAME_RE.test(name))
      throw BqError.invalid(
        `Invalid field name "${name}". Fields must contain only letters, numbers, and underscores, start with a letter or underscore, and be at most 300 characters long.`,
      );
    if (seen.has(name.toLowerCase())) throw BqError.invalid(`Field ${name} already exists in schema`);
    seen.add(name.toLowerCase());
    const type = TYPE_ALIASES[String(o.type ?? '').toUpperCase()];
    if (!type) throw BqError.invalid(`Invalid value for type: ${String(o.type)} is not a valid value`);
    const mode = String(o.mode ?? 'NULLABLE').toUpperCase();
    if (mode !== 'NULLABLE' && mode !== 'REQUIRED' && mode !== 'REPEATED')
      throw BqError.invalid(`Invalid value for mode: ${mode} is not a valid value`);
    const field: BqField = { name, type, mode };
    if (typeof o.description === 'string') field.description = o.description;
    if (type === 'RECORD') {
      if (!Array.isArray(o.fields) || o.fields.length === 0)
        throw BqError.invalid(`Field ${name} is type RECORD but has no schema`);
      field.fields = normalizeSchema(o.fields, `${where}.${name}`);
    }
    return field;
  });
}

export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** DuckDB type of one value of the field (ignoring REPEATED). */
export function duckScalarType(field: BqField): string {
  switch (field.type) {
    case 'STRING':
    case 'GEOGRAPHY':
      return 'VARCHAR';
    case 'BYTES':
      return 'BLOB';
    case 'INTEGER':
      return 'BIGINT';
    case 'FLOAT':
      return 'DOUBLE';
    case 'NUMERIC':
    case 'BIGNUMERIC':
      return 'DECIMAL(38,9)';
    case 'BOOLEAN':
      return 'BOOLEAN';
    case 'TIMESTAMP':
    case 'DATETIME':
      return 'TIMESTAMP';
    case 'DATE':
      return 'DATE';
    case 'TIME':
      return 'TIME';
    case 'JSON':
      return 'JSON';
    case 'RECORD':
      return `STRUCT(${(field.fields ?? []).map((f) => `${quoteIdent(f.name)} ${duckType(f)}`).join(', ')})`;
  }
}

export function duckType(field: BqField): string {
  const scalar = duckScalarType(field);
  return field.mode === 'REPEATED' ? `${scalar}[]` : scalar;
}

export interface Leaf {
  path: string;
  field: BqField;
}

export function leaves(fields: BqField[], prefix = ''): Leaf[] {
  return fields.flatMap((f) => {
    const path = prefix ? `${prefix}.${f.name}` : f.name;
    return f.type === 'RECORD' ? leaves(f.fields ?? [], path) : [{ path, field: f }];
  });
}

export function findField(fields: BqField[] | undefined, name: string): BqField | undefined {
  const lower = name.toLowerCase();
  return fields?.find((f) => f.name.toLowerCase() === lower);
}

/** Schema as returned by the REST API (modes always present). */
export function schemaToApi(fields: BqField[]): object[] {
  return fields.map((f) => ({
    name: f.name,
    type: f.type,
    mode: f.mode ?? 'NULLABLE',
    ...(f.description !== undefined ? { description: f.description } : {}),
    ...(f.fields ? { fields: schemaToApi(f.fields) } : {}),
  }));
}
