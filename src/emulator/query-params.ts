// Converts REST queryParameters into DuckDB prepared-statement values. Values
// are always bound, never pasted into SQL text.
import {
  BIGINT,
  BLOB,
  BOOLEAN,
  DATE,
  DECIMAL,
  DOUBLE,
  LIST,
  STRUCT,
  TIMESTAMP,
  VARCHAR,
  blobValue,
  dateValue,
  decimalValue,
  listValue,
  structValue,
  timestampValue,
  type DuckDBType,
  type DuckDBValue,
} from '@duckdb/node-api';
import { BqError } from './errors.js';
import { parseDateDays, parseTimestampMicros } from './timestamps.js';

interface ParamType {
  type?: string;
  arrayType?: ParamType;
  structTypes?: Array<{ name?: string; type?: ParamType }>;
}

interface ParamValue {
  value?: string | null;
  arrayValues?: ParamValue[];
  structValues?: Record<string, ParamValue>;
}

export interface QueryParameter {
  name?: string;
  parameterType?: ParamType;
  parameterValue?: ParamValue;
}

export interface BoundParam {
  type: string;
  duckType: DuckDBType;
  value: DuckDBValue;
  /** Scalar value for constant folding in pruning (micros for TIMESTAMP, days for DATE). */
  constant: string | bigint | number | null;
}

function duckTypeOf(t: ParamType): DuckDBType {
  switch ((t.type ?? '').toUpperCase()) {
    case 'STRING':
    case 'JSON':
    case 'GEOGRAPHY':
      return VARCHAR;
    case 'INT64':
    case 'INTEGER':
      return BIGINT;
    case 'FLOAT64':
    case 'FLOAT':
      return DOUBLE;
    case 'BOOL':
    case 'BOOLEAN':
      return BOOLEAN;
    case 'TIMESTAMP':
    case 'DATETIME':
      return TIMESTAMP;
    case 'DATE':
      return DATE;
    case 'BYTES':
      return BLOB;
    case 'NUMERIC':
    case 'BIGNUMERIC':
      return DECIMAL(38, 9);
    case 'ARRAY':
      return LIST(duckTypeOf(t.arrayType ?? {}));
    case 'STRUCT': {
      const entries: Record<string, DuckDBType> = {};
      for (const s of t.structTypes ?? []) entries[s.name ?? ''] = duckTypeOf(s.type ?? {});
      return STRUCT(entries);
    }
    default:
      throw BqError.invalidQuery(`Unsupported query parameter type: ${t.type ?? '(missing)'}`);
  }
}

function numericToScaled(text: string): bigint {
  const m = /^([+-])?(\d*)(?:\.(\d*))?$/.exec(text.trim());
  if (!m) throw new Error('bad numeric');
  const scaled = BigInt((m[2] || '0') + (m[3] ?? '').padEnd(9, '0').slice(0, 9));
  return m[1] === '-' ? -scaled : scaled;
}

function convertValue(t: ParamType, v: ParamValue | undefined, name: string): DuckDBValue {
  const type = (t.type ?? '').toUpperCase();
  if (type === 'ARRAY') {
    if (!v?.arrayValues) return v?.value === null || v === undefined ? null : listValue([]);
    return listValue(v.arrayValues.map((item) => convertValue(t.arrayType ?? {}, item, name)));
  }
  if (type === 'STRUCT') {
    if (!v?.structValues) return null;
    const entries: Record<string, DuckDBValue> = {};
    for (const s of t.structTypes ?? [])
      entries[s.name ?? ''] = convertValue(s.type ?? {}, v.structValues[s.name ?? ''], name);
    return structValue(entries);
  }
  const raw = v?.value;
  if (raw === null || raw === undefined) return null;
  try {
    switch (type) {
      case 'STRING':
      case 'JSON':
      case 'GEOGRAPHY':
        return String(raw);
      case 'INT64':
      case 'INTEGER':
        if (!/^\s*[+-]?\d+\s*$/.test(String(raw))) throw new Error('bad int');
        return BigInt(String(raw).trim());
      case 'FLOAT64':
      case 'FLOAT': {
        const n = Number(String(raw).replace(/^(-?)inf$/i, '$1Infinity'));
        if (Number.isNaN(n) && !/^nan$/i.test(String(raw))) throw new Error('bad float');
        return n;
      }
      case 'BOOL':
      case 'BOOLEAN':
        if (!/^(true|false)$/i.test(String(raw))) throw new Error('bad bool');
        return String(raw).toLowerCase() === 'true';
      case 'TIMESTAMP':
      case 'DATETIME':
        return timestampValue(parseTimestampMicros(String(raw)));
      case 'DATE':
        return dateValue(parseDateDays(String(raw)));
      case 'BYTES':
        return blobValue(new Uint8Array(Buffer.from(String(raw), 'base64')));
      case 'NUMERIC':
      case 'BIGNUMERIC':
        return decimalValue(numericToScaled(String(raw)), 38, 9);
    }
  } catch {
    throw BqError.invalidQuery(`Invalid ${type} value for query parameter ${name}: ${String(raw)}`);
  }
  throw BqError.invalidQuery(`Unsupported query parameter type: ${type}`);
}

function constantOf(type: string, value: DuckDBValue): BoundParam['constant'] {
  if (value === null) return null;
  if (typeof value === 'string' || typeof value === 'bigint' || typeof value === 'number') return value;
  if (type === 'TIMESTAMP' || type === 'DATETIME') return (value as { micros: bigint }).micros;
  if (type === 'DATE') return (value as { days: number }).days;
  return null;
}

/** Named parameters keyed by lower-cased name (GoogleSQL names are case-insensitive). */
export function bindParameters(
  params: QueryParameter[] | undefined,
  parameterMode: string | undefined,
): Map<string, BoundParam> {
  const bound = new Map<string, BoundParam>();
  if (!params || params.length === 0) return bound;
  if ((parameterMode ?? 'NAMED').toUpperCase() === 'POSITIONAL' || params.some((p) => !p.name)) {
    throw BqError.invalidQuery(
      'Positional query parameters are not supported by the emulator; use named parameters (@name).',
    );
  }
  for (const p of params) {
    const name = p.name!;
    const type = (p.parameterType?.type ?? '').toUpperCase();
    const duckType = duckTypeOf(p.parameterType ?? {});
    const value = convertValue(p.parameterType ?? {}, p.parameterValue, name);
    bound.set(name.toLowerCase(), { type, duckType, value, constant: constantOf(type, value) });
  }
  return bound;
}

/** DuckDB parameter name for a GoogleSQL @name. */
export function duckParamName(name: string): string {
  return `p_${name.toLowerCase()}`;
}
