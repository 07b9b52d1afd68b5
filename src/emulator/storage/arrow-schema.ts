// How each DuckDB result column is served as Arrow, with the types BigQuery's Storage Read API uses:
// INT64 as int64, FLOAT64 as double, STRING as utf8, BYTES as binary, DATE as date32, TIME as
// time64(us), TIMESTAMP as timestamp(us, "UTC"), NUMERIC as decimal128, STRUCT as struct and
// REPEATED as list. Columns whose DuckDB representation differs (narrower integers, other timestamp
// units, …) are cast in SQL first, so the converter only ever sees a few physical layouts.
import {
  Binary,
  Bool,
  DataType,
  DateDay,
  Decimal,
  Field,
  Float64,
  Int64,
  List,
  Schema,
  Struct,
  TimeMicrosecond,
  TimestampMicrosecond,
  Utf8,
} from 'apache-arrow';
import {
  DuckDBArrayType,
  DuckDBDecimalType,
  DuckDBListType,
  DuckDBStructType,
  DuckDBTypeId,
  type DuckDBType,
} from '@duckdb/node-api';
import { quoteIdent } from '../schema.js';

/** The physical layout the converter reads from a DuckDB vector. */
export type Layout =
  | { kind: 'bool' | 'int64' | 'float64' | 'utf8' | 'binary' | 'date' | 'time' | 'timestamp' }
  | { kind: 'decimal'; scale: number }
  | { kind: 'struct'; children: ColumnShape[] }
  | { kind: 'list'; element: ColumnShape };

export interface ColumnShape {
  layout: Layout;
  arrow: DataType;
  /** The DuckDB type the column is read as. */
  duckSql: string;
  /** Whether the stored column must be cast to `duckSql` to have that layout. */
  cast: boolean;
  /** Arrow field metadata, as BigQuery marks JSON columns. */
  metadata?: Map<string, string>;
}

export interface ServedColumn {
  name: string;
  shape: ColumnShape;
  /** What to SELECT to read it. */
  selectSql: string;
}

const DECIMAL_WIDTH = 38;

function scalar(
  kind: Exclude<Layout['kind'], 'decimal' | 'struct' | 'list'>,
  arrow: DataType,
  duckSql: string,
  cast: boolean,
): ColumnShape {
  return { layout: { kind }, arrow, duckSql, cast };
}

export function shapeOf(type: DuckDBType): ColumnShape {
  switch (type.typeId) {
    case DuckDBTypeId.BOOLEAN:
      return scalar('bool', new Bool(), 'BOOLEAN', false);
    case DuckDBTypeId.BIGINT:
      return scalar('int64', new Int64(), 'BIGINT', false);
    case DuckDBTypeId.TINYINT:
    case DuckDBTypeId.SMALLINT:
    case DuckDBTypeId.INTEGER:
    case DuckDBTypeId.UTINYINT:
    case DuckDBTypeId.USMALLINT:
    case DuckDBTypeId.UINTEGER:
    case DuckDBTypeId.UBIGINT:
    case DuckDBTypeId.HUGEINT:
    case DuckDBTypeId.UHUGEINT:
      return scalar('int64', new Int64(), 'BIGINT', true);
    case DuckDBTypeId.DOUBLE:
      return scalar('float64', new Float64(), 'DOUBLE', false);
    case DuckDBTypeId.FLOAT:
      return scalar('float64', new Float64(), 'DOUBLE', true);
    case DuckDBTypeId.DECIMAL: {
      const { width, scale } = type as DuckDBDecimalType;
      return {
        layout: { kind: 'decimal', scale },
        arrow: new Decimal(scale, DECIMAL_WIDTH, 128),
        duckSql: `DECIMAL(${DECIMAL_WIDTH}, ${scale})`,
        cast: width !== DECIMAL_WIDTH,
      };
    }
    case DuckDBTypeId.VARCHAR: {
      const shape = scalar('utf8', new Utf8(), 'VARCHAR', false);
      if (type.alias === 'JSON') shape.metadata = new Map([['ARROW:extension:name', 'google:sqlType:json']]);
      return shape;
    }
    case DuckDBTypeId.BLOB:
      return scalar('binary', new Binary(), 'BLOB', false);
    case DuckDBTypeId.DATE:
      return scalar('date', new DateDay(), 'DATE', false);
    case DuckDBTypeId.TIME:
      return scalar('time', new TimeMicrosecond(), 'TIME', false);
    case DuckDBTypeId.TIMESTAMP:
      return scalar('timestamp', new TimestampMicrosecond('UTC'), 'TIMESTAMP', false);
    case DuckDBTypeId.TIMESTAMP_TZ:
      return scalar('timestamp', new TimestampMicrosecond('UTC'), 'TIMESTAMPTZ', false);
    case DuckDBTypeId.TIMESTAMP_S:
    case DuckDBTypeId.TIMESTAMP_MS:
    case DuckDBTypeId.TIMESTAMP_NS:
      return scalar('timestamp', new TimestampMicrosecond('UTC'), 'TIMESTAMP', true);
    case DuckDBTypeId.STRUCT: {
      const struct = type as DuckDBStructType;
      const children = struct.entryTypes.map(shapeOf);
      return {
        layout: { kind: 'struct', children },
        arrow: new Struct(children.map((child, i) => arrowField(struct.entryNames[i]!, child))),
        duckSql: `STRUCT(${children.map((child, i) => `${quoteIdent(struct.entryNames[i]!)} ${child.duckSql}`).join(', ')})`,
        cast: children.some((child) => child.cast),
      };
    }
    case DuckDBTypeId.LIST:
    case DuckDBTypeId.ARRAY: {
      const element = shapeOf((type as DuckDBListType | DuckDBArrayType).valueType);
      return {
        layout: { kind: 'list', element },
        arrow: new List(arrowField('item', element)),
        duckSql: `${element.duckSql}[]`,
        cast: element.cast || type.typeId === DuckDBTypeId.ARRAY,
      };
    }
    default:
      // INTERVAL, UUID, ENUM, MAP, …: served as their text, as the REST API shows them.
      return scalar('utf8', new Utf8(), 'VARCHAR', true);
  }
}

function arrowField(name: string, shape: ColumnShape): Field {
  return new Field(name, shape.arrow, true, shape.metadata ?? null);
}

export function servedColumn(name: string, type: DuckDBType): ServedColumn {
  const shape = shapeOf(type);
  const column = quoteIdent(name);
  return { name, shape, selectSql: shape.cast ? `CAST(${column} AS ${shape.duckSql}) AS ${column}` : column };
}

export function arrowSchema(columns: ServedColumn[]): Schema {
  return new Schema(columns.map((column) => arrowField(column.name, column.shape)));
}
