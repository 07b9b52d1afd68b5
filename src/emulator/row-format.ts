// DuckDB result columns as BigQuery REST results: schema fields mapped back
// from DuckDB types, and row values in the f/v form.
import {
  DuckDBBlobValue,
  DuckDBDateValue,
  DuckDBListType,
  DuckDBListValue,
  DuckDBStructType,
  DuckDBStructValue,
  DuckDBTimestampMillisecondsValue,
  DuckDBTimestampNanosecondsValue,
  DuckDBTimestampSecondsValue,
  DuckDBTimestampTZValue,
  DuckDBTimestampValue,
  DuckDBTypeId,
  DuckDBArrayType,
  DuckDBDecimalType,
  type DuckDBType,
  type DuckDBValue,
} from '@duckdb/node-api';
import { formatDate, formatEpochSeconds, formatTimestampIso } from './timestamps.js';

export interface ApiField {
  name: string;
  type: string;
  mode: 'NULLABLE' | 'REPEATED';
  fields?: ApiField[];
}

export type TimestampFormat = 'int64' | 'iso' | 'float';

/** Picks the timestamp encoding from formatOptions (query string or body). */
export function timestampFormat(useInt64Timestamp: unknown, timestampOutputFormat: unknown): TimestampFormat {
  const fmt = String(timestampOutputFormat ?? '').toUpperCase();
  if (fmt === 'ISO8601_STRING') return 'iso';
  if (fmt === 'INT64') return 'int64';
  if (fmt === 'FLOAT64') return 'float';
  return useInt64Timestamp === true || String(useInt64Timestamp).toLowerCase() === 'true' ? 'int64' : 'float';
}

function scalarTypeName(type: DuckDBType): string {
  switch (type.typeId) {
    case DuckDBTypeId.BOOLEAN:
      return 'BOOLEAN';
    case DuckDBTypeId.TINYINT:
    case DuckDBTypeId.SMALLINT:
    case DuckDBTypeId.INTEGER:
    case DuckDBTypeId.BIGINT:
    case DuckDBTypeId.UTINYINT:
    case DuckDBTypeId.USMALLINT:
    case DuckDBTypeId.UINTEGER:
    case DuckDBTypeId.UBIGINT:
    case DuckDBTypeId.HUGEINT:
    case DuckDBTypeId.UHUGEINT:
      return 'INTEGER';
    case DuckDBTypeId.FLOAT:
    case DuckDBTypeId.DOUBLE:
      return 'FLOAT';
    case DuckDBTypeId.DECIMAL:
      return (type as DuckDBDecimalType).scale > 9 ? 'BIGNUMERIC' : 'NUMERIC';
    case DuckDBTypeId.TIMESTAMP:
    case DuckDBTypeId.TIMESTAMP_S:
    case DuckDBTypeId.TIMESTAMP_MS:
    case DuckDBTypeId.TIMESTAMP_NS:
    case DuckDBTypeId.TIMESTAMP_TZ:
      return 'TIMESTAMP';
    case DuckDBTypeId.DATE:
      return 'DATE';
    case DuckDBTypeId.TIME:
      return 'TIME';
    case DuckDBTypeId.BLOB:
      return 'BYTES';
    case DuckDBTypeId.INTERVAL:
      return 'INTERVAL';
    case DuckDBTypeId.VARCHAR:
      return type.alias === 'JSON' ? 'JSON' : 'STRING';
    default:
      return 'STRING';
  }
}

export function apiField(name: string, type: DuckDBType): ApiField {
  if (type instanceof DuckDBListType || type instanceof DuckDBArrayType) {
    return { ...apiField(name, type.valueType), mode: 'REPEATED' };
  }
  if (type instanceof DuckDBStructType) {
    return {
      name,
      type: 'RECORD',
      mode: 'NULLABLE',
      fields: type.entryNames.map((n, i) => apiField(n, type.entryTypes[i]!)),
    };
  }
  return { name, type: scalarTypeName(type), mode: 'NULLABLE' };
}

function timestampMicros(value: DuckDBValue): bigint | undefined {
  if (value instanceof DuckDBTimestampValue || value instanceof DuckDBTimestampTZValue) return value.micros;
  if (value instanceof DuckDBTimestampSecondsValue) return value.seconds * 1_000_000n;
  if (value instanceof DuckDBTimestampMillisecondsValue) return value.millis * 1_000n;
  if (value instanceof DuckDBTimestampNanosecondsValue) return value.nanos / 1_000n;
  return undefined;
}

export function formatValue(value: DuckDBValue, type: DuckDBType, ts: TimestampFormat): unknown {
  if (value === null || value === undefined) return null;
  if (value instanceof DuckDBListValue) {
    const elementType = (type as DuckDBListType).valueType;
    return value.items.map((item) => ({ v: formatValue(item, elementType, ts) }));
  }
  if (value instanceof DuckDBStructValue) {
    const st = type as DuckDBStructType;
    return { f: st.entryNames.map((n, i) => ({ v: formatValue(value.entries[n] ?? null, st.entryTypes[i]!, ts) })) };
  }
  if (typeof value === 'string') return value;
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (typeof value === 'bigint') return value.toString();
  if (typeof value === 'number') {
    if (Number.isNaN(value)) return 'NaN';
    if (value === Infinity) return 'Infinity';
    if (value === -Infinity) return '-Infinity';
    return type.typeId === DuckDBTypeId.DOUBLE || type.typeId === DuckDBTypeId.FLOAT ? String(value) : value.toFixed(0);
  }
  const micros = timestampMicros(value);
  if (micros !== undefined) {
    if (ts === 'int64') return micros.toString();
    if (ts === 'iso') return formatTimestampIso(micros);
    return formatEpochSeconds(micros);
  }
  if (value instanceof DuckDBDateValue) return formatDate(value.days);
  if (value instanceof DuckDBBlobValue) return Buffer.from(value.bytes).toString('base64');
  if (type.typeId === DuckDBTypeId.DECIMAL) {
    const text = String(value);
    return text.includes('.') ? text.replace(/0+$/, '').replace(/\.$/, '') : text;
  }
  return String(value);
}

export function formatRow(
  values: DuckDBValue[],
  types: DuckDBType[],
  ts: TimestampFormat,
): { f: Array<{ v: unknown }> } {
  return { f: values.map((v, i) => ({ v: formatValue(v, types[i]!, ts) })) };
}
