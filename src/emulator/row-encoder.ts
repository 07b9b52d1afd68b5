// Validates one insertAll row against a table schema and encodes it as the
// JSON text that DuckDB's from_json() reads (see typeConversion.stagingStructure).
// While walking the row it also measures BigQuery's stored size per leaf
// column (the basis of on-demand billing):
//   STRING/BYTES 2 + bytes, INT64/FLOAT64/TIMESTAMP/DATE/DATETIME/TIME 8,
//   BOOL 1, NUMERIC 16, BIGNUMERIC 32, JSON its UTF-8 length, NULL 0,
//   RECORD = sum of its fields, REPEATED = sum of its elements.
import type { BqField } from './schema.js';
import { formatDate, formatTimestamp, parseDateDays, parseTimestampMicros } from './timestamps.js';

export interface RowError {
  reason: string;
  location: string;
  message: string;
}

export interface EncodedRow {
  json: string;
  /** Stored bytes per leaf column path. */
  sizes: Map<string, number>;
  /** Value of the top-level partitioning column (micros or days), if any. */
  partitionValue?: bigint | number | null;
}

class RowInvalid extends Error {
  constructor(
    readonly location: string,
    message: string,
  ) {
    super(message);
  }
}

const INT64_RE = /^[+-]?\d+$/;
const NUMERIC_RE = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

export interface EncodeOptions {
  ignoreUnknownValues: boolean;
  partitionField?: string;
}

export function encodeRow(schema: BqField[], row: unknown, options: EncodeOptions): EncodedRow | RowError[] {
  const sizes = new Map<string, number>();
  const encoder = new Encoder(sizes, options.ignoreUnknownValues);
  try {
    if (typeof row !== 'object' || row === null || Array.isArray(row))
      throw new RowInvalid('', 'Row must be a JSON object.');
    encoder.partitionField = options.partitionField;
    const json = encoder.record(schema, row as Record<string, unknown>, '');
    const result: EncodedRow = { json, sizes };
    if (options.partitionField !== undefined) result.partitionValue = encoder.partitionValue ?? null;
    return result;
  } catch (err) {
    if (err instanceof RowInvalid) return [{ reason: 'invalid', location: err.location, message: err.message }];
    throw err;
  }
}

const indexes = new WeakMap<BqField[], Map<string, BqField>>();

/** Field lookup by exact and lower-cased name (BigQuery names are case-insensitive). */
function fieldIndex(fields: BqField[]): Map<string, BqField> {
  let index = indexes.get(fields);
  if (!index) {
    index = new Map();
    for (const f of fields) {
      index.set(f.name.toLowerCase(), f);
      index.set(f.name, f);
    }
    indexes.set(fields, index);
  }
  return index;
}

class Encoder {
  /** Top-level partitioning column; its parsed value is captured while encoding. */
  partitionField: string | undefined;
  partitionValue: bigint | number | undefined;

  constructor(
    private readonly sizes: Map<string, number>,
    private readonly ignoreUnknown: boolean,
  ) {}

  record(fields: BqField[], obj: Record<string, unknown>, prefix: string): string {
    const byName = fieldIndex(fields);
    const values = new Map<BqField, unknown>();
    for (const key in obj) {
      const field = byName.get(key) ?? byName.get(key.toLowerCase());
      if (!field) {
        if (this.ignoreUnknown) continue;
        throw new RowInvalid(prefix + key, `no such field: ${prefix + key}.`);
      }
      values.set(field, obj[key]);
    }
    let out = '{';
    for (let i = 0; i < fields.length; i++) {
      const field = fields[i]!;
      if (i > 0) out += ',';
      out += `${JSON.stringify(field.name)}:${this.field(field, values.get(field), prefix + field.name)}`;
    }
    return out + '}';
  }

  private field(field: BqField, value: unknown, path: string): string {
    if (field.mode === 'REPEATED') {
      if (value === null || value === undefined) return '[]';
      if (!Array.isArray(value)) throw new RowInvalid(path, `Non-array value specified for repeated field: ${path}.`);
      return `[${value
        .map((v) => {
          if (v === null || v === undefined) throw new RowInvalid(path, `Array cannot have a null element: ${path}.`);
          return this.scalar(field, v, path);
        })
        .join(',')}]`;
    }
    if (value === null || value === undefined) {
      if (field.mode === 'REQUIRED') throw new RowInvalid(path, `Missing required field: ${path}.`);
      return 'null';
    }
    if (Array.isArray(value)) throw new RowInvalid(path, `Array specified for non-repeated field: ${path}.`);
    return this.scalar(field, value, path);
  }

  private add(path: string, bytes: number): void {
    this.sizes.set(path, (this.sizes.get(path) ?? 0) + bytes);
  }

  private scalar(field: BqField, value: unknown, path: string): string {
    switch (field.type) {
      case 'STRING':
      case 'GEOGRAPHY': {
        const s =
          typeof value === 'string'
            ? value
            : typeof value === 'number' || typeof value === 'boolean'
              ? String(value)
              : undefined;
        if (s === undefined) throw new RowInvalid(path, `This field: ${path} is not a string.`);
        this.add(path, 2 + Buffer.byteLength(s, 'utf8'));
        return JSON.stringify(s);
      }
      case 'BYTES': {
        if (typeof value !== 'string' || !/^[A-Za-z0-9+/_-]*={0,2}$/.test(value))
          throw new RowInvalid(path, `Could not decode base64 bytes for field: ${path}.`);
        this.add(path, 2 + Buffer.from(value, 'base64').length);
        return JSON.stringify(Buffer.from(value, 'base64').toString('base64'));
      }
      case 'INTEGER': {
        const s =
          typeof value === 'number' && Number.isInteger(value)
            ? value.toFixed(0)
            : typeof value === 'string'
              ? value.trim()
              : '';
        if (!INT64_RE.test(s) || BigInt(s) < INT64_MIN || BigInt(s) > INT64_MAX)
          throw new RowInvalid(path, `Cannot convert value to integer (bad value): ${String(value)}`);
        this.add(path, 8);
        return BigInt(s).toString();
      }
      case 'FLOAT': {
        let n: number;
        if (typeof value === 'number') n = value;
        else if (
          typeof value === 'string' &&
          (NUMERIC_RE.test(value.trim()) || /^[+-]?(nan|inf|infinity)$/i.test(value.trim()))
        ) {
          const t = value.trim().toLowerCase();
          n = t.endsWith('nan')
            ? NaN
            : t.endsWith('inf') || t.endsWith('infinity')
              ? t.startsWith('-')
                ? -Infinity
                : Infinity
              : Number(t);
        } else throw new RowInvalid(path, `Cannot convert value to floating point (bad value): ${String(value)}`);
        this.add(path, 8);
        return Number.isFinite(n) ? String(n) : JSON.stringify(String(n));
      }
      case 'NUMERIC':
      case 'BIGNUMERIC': {
        const s = typeof value === 'number' ? String(value) : typeof value === 'string' ? value.trim() : '';
        if (!NUMERIC_RE.test(s)) throw new RowInvalid(path, `Invalid NUMERIC value: ${String(value)}`);
        this.add(path, field.type === 'NUMERIC' ? 16 : 32);
        return JSON.stringify(s);
      }
      case 'BOOLEAN': {
        let b: boolean;
        if (typeof value === 'boolean') b = value;
        else if (typeof value === 'string' && /^(true|false|1|0)$/i.test(value.trim()))
          b = /^(true|1)$/i.test(value.trim());
        else throw new RowInvalid(path, `Cannot convert value to boolean: ${String(value)}`);
        this.add(path, 1);
        return b ? 'true' : 'false';
      }
      case 'TIMESTAMP':
      case 'DATETIME': {
        let micros: bigint;
        try {
          micros = parseTimestampMicros(value);
        } catch (err) {
          throw new RowInvalid(path, (err as Error).message);
        }
        this.add(path, 8);
        if (path === this.partitionField) this.partitionValue = micros;
        return `"${formatTimestamp(micros)}"`;
      }
      case 'DATE': {
        let days: number;
        try {
          days = parseDateDays(value);
        } catch (err) {
          throw new RowInvalid(path, (err as Error).message);
        }
        this.add(path, 8);
        if (path === this.partitionField) this.partitionValue = days;
        return `"${formatDate(days)}"`;
      }
      case 'TIME': {
        if (typeof value !== 'string' || !/^\d{1,2}:\d{2}(:\d{2}(\.\d{1,6})?)?$/.test(value.trim()))
          throw new RowInvalid(path, `Invalid TIME value: ${String(value)}`);
        this.add(path, 8);
        return JSON.stringify(value.trim());
      }
      case 'JSON': {
        let text: string;
        if (typeof value === 'string') {
          try {
            JSON.parse(value);
          } catch {
            throw new RowInvalid(path, `Invalid JSON value for field: ${path}.`);
          }
          text = value;
        } else text = JSON.stringify(value);
        this.add(path, Buffer.byteLength(text, 'utf8'));
        return JSON.stringify(text);
      }
      case 'RECORD': {
        if (typeof value !== 'object' || value === null)
          throw new RowInvalid(path, `This field: ${path} is not a record.`);
        return this.record(field.fields ?? [], value as Record<string, unknown>, `${path}.`);
      }
    }
  }
}
