// GoogleSQL functions whose DuckDB spelling or semantics differ. Functions not
// listed here are passed through unchanged (DuckDB reports unknown ones).
import { translateType } from './types.js';
import { SqlSyntaxError, isWord, upper, type Token } from './tokenizer.js';

export interface Call {
  name: string;
  args: Array<[number, number]>;
  tokens: Token[];
  /** Translates a token range of the original query. */
  tr(range: [number, number]): string;
}

type Rewrite = (call: Call) => string;

/** GoogleSQL's BYTE_LENGTH, for STRING and BYTES alike: a macro the database defines (database.ts). */
export const BYTE_LENGTH_MACRO = 'bq_results.main.bq_byte_length';

function arg(call: Call, i: number): string {
  const range = call.args[i];
  if (!range) throw new SqlSyntaxError(`Function ${call.name} expects at least ${i + 1} arguments`);
  return call.tr(range);
}

function allArgs(call: Call): string[] {
  return call.args.map((r) => call.tr(r));
}

/** A date part given as a bare word argument (HOUR, DAY, ...). */
function datePart(call: Call, i: number): string {
  const range = call.args[i];
  if (!range || range[1] - range[0] !== 1) {
    // WEEK(MONDAY) and similar forms are not supported
    throw new SqlSyntaxError(`Function ${call.name}: unsupported date part`);
  }
  return upper(call.tokens[range[0]]) || (call.tokens[range[0]]?.value ?? '').toUpperCase();
}

const TRUNC_PARTS: Record<string, string> = {
  MICROSECOND: 'microseconds',
  MILLISECOND: 'milliseconds',
  SECOND: 'second',
  MINUTE: 'minute',
  HOUR: 'hour',
  DAY: 'day',
  ISOWEEK: 'week',
  MONTH: 'month',
  QUARTER: 'quarter',
  YEAR: 'year',
  ISOYEAR: 'isoyear',
};

function truncate(expr: string, part: string): string {
  // GoogleSQL WEEK starts on Sunday; DuckDB's week is ISO (Monday).
  if (part === 'WEEK') return `(date_trunc('week', ${expr} + INTERVAL 1 DAY) - INTERVAL 1 DAY)`;
  const p = TRUNC_PARTS[part];
  if (!p) throw new SqlSyntaxError(`Unsupported date part ${part}`);
  return `date_trunc('${p}', ${expr})`;
}

const MICROS_PER_UNIT: Record<string, number> = {
  MICROSECOND: 1,
  MILLISECOND: 1_000,
  SECOND: 1_000_000,
  MINUTE: 60_000_000,
  HOUR: 3_600_000_000,
  DAY: 86_400_000_000,
};

function extract(call: Call): string {
  const [s, e] = call.args[0] ?? [0, 0];
  const part = upper(call.tokens[s]);
  if (!isWord(call.tokens[s + 1], 'FROM'))
    throw new SqlSyntaxError('Syntax error: expected EXTRACT(part FROM expression)');
  let end = e;
  let zone: string | undefined;
  for (let i = s + 2; i < e; i++) {
    if (isWord(call.tokens[i], 'AT') && isWord(call.tokens[i + 1], 'TIME') && isWord(call.tokens[i + 2], 'ZONE')) {
      zone = call.tr([i + 3, e]);
      end = i;
      break;
    }
  }
  let x = call.tr([s + 2, end]);
  if (zone !== undefined) x = `timezone(${zone}, CAST(${x} AS TIMESTAMPTZ))`;
  switch (part) {
    case 'DATE':
      return `CAST(${x} AS DATE)`;
    case 'TIME':
      return `CAST(${x} AS TIME)`;
    case 'DATETIME':
      return `CAST(${x} AS TIMESTAMP)`;
    case 'DAYOFWEEK':
      return `(dayofweek(${x}) + 1)`;
    case 'DAYOFYEAR':
      return `dayofyear(${x})`;
    case 'MILLISECOND':
      return `(millisecond(${x}) % 1000)`;
    case 'MICROSECOND':
      return `(microsecond(${x}) % 1000000)`;
    case 'ISOWEEK':
      return `week(${x})`;
    case 'ISOYEAR':
      return `isoyear(${x})`;
    case 'WEEK':
      return `CAST(strftime(${x}, '%U') AS BIGINT)`;
    case 'YEAR':
    case 'QUARTER':
    case 'MONTH':
    case 'DAY':
    case 'HOUR':
    case 'MINUTE':
    case 'SECOND':
      return `EXTRACT(${part} FROM ${x})`;
    default:
      throw new SqlSyntaxError(`Unsupported date part ${part} in EXTRACT`);
  }
}

function cast(safe: boolean): Rewrite {
  return (call) => {
    const [s, e] = call.args[0] ?? [0, 0];
    let asAt = -1;
    for (let i = e - 1; i > s; i--) {
      if (isWord(call.tokens[i], 'AS')) {
        asAt = i;
        break;
      }
    }
    if (asAt < 0) throw new SqlSyntaxError('Syntax error: expected CAST(expression AS type)');
    const { type, end } = translateType(call.tokens, asAt + 1);
    if (end !== e) throw new SqlSyntaxError('Syntax error: unexpected tokens after CAST target type');
    const x = call.tr([s, asAt]);
    const op = safe ? 'TRY_CAST' : 'CAST';
    // Strings may carry a UTC offset; go through TIMESTAMPTZ (session zone is UTC).
    if (type === 'TIMESTAMP' && upper(call.tokens[asAt + 1]) === 'TIMESTAMP')
      return `${op}(${op}(${x} AS TIMESTAMPTZ) AS TIMESTAMP)`;
    return `${op}(${x} AS ${type})`;
  };
}

/** `INTERVAL <expr> <unit>` to a DuckDB interval expression. */
export function intervalExpr(amount: string, unit: string): string {
  switch (unit) {
    case 'MICROSECOND':
      return `to_microseconds(CAST(${amount} AS BIGINT))`;
    case 'MILLISECOND':
      return `to_milliseconds(CAST(${amount} AS BIGINT))`;
    case 'SECOND':
      return `to_seconds(CAST(${amount} AS BIGINT))`;
    case 'MINUTE':
      return `to_minutes(CAST(${amount} AS BIGINT))`;
    case 'HOUR':
      return `to_hours(CAST(${amount} AS BIGINT))`;
    case 'DAY':
      return `to_days(CAST(${amount} AS INTEGER))`;
    case 'WEEK':
      return `to_weeks(CAST(${amount} AS INTEGER))`;
    case 'MONTH':
      return `to_months(CAST(${amount} AS INTEGER))`;
    case 'QUARTER':
      return `to_months(CAST(${amount} AS INTEGER) * 3)`;
    case 'YEAR':
      return `to_years(CAST(${amount} AS INTEGER))`;
    default:
      throw new SqlSyntaxError(`Unsupported INTERVAL unit ${unit}`);
  }
}

function strftimeFormat(call: Call, i: number): string {
  const range = call.args[i];
  const tok = range && range[1] - range[0] === 1 ? call.tokens[range[0]] : undefined;
  if (tok?.kind !== 'string') return arg(call, i);
  const converted = tok.value
    .replace(/%F/g, '%Y-%m-%d')
    .replace(/%T/g, '%H:%M:%S')
    .replace(/%R/g, '%H:%M')
    .replace(/%D/g, '%m/%d/%y')
    .replace(/%E6S/g, '%S.%f')
    .replace(/%E3S/g, '%S.%g')
    .replace(/%E\*S/g, '%S.%f')
    .replace(/%Ez/g, '+00:00')
    .replace(/%Z/g, 'UTC')
    .replace(/%z/g, '+0000')
    .replace(/%s/g, '%s')
    .replace(/%Q/g, '%q');
  return `'${converted.replace(/'/g, "''")}'`;
}

function inZone(call: Call, tsIndex: number, zoneIndex: number): string {
  const ts = arg(call, tsIndex);
  return call.args[zoneIndex] ? `timezone(${arg(call, zoneIndex)}, CAST(${ts} AS TIMESTAMPTZ))` : ts;
}

function hasCaptureGroup(call: Call, i: number): boolean {
  const range = call.args[i];
  const tok = range && range[1] - range[0] === 1 ? call.tokens[range[0]] : undefined;
  return tok?.kind === 'string' && /\((?!\?)/.test(tok.value.replace(/\\./g, ''));
}

function rename(duckName: string): Rewrite {
  return (call) => `${duckName}(${allArgs(call).join(', ')})`;
}

export const FUNCTION_REWRITES: Record<string, Rewrite> = {
  // GoogleSQL renders a NULL argument as the JSON text 'null'.
  TO_JSON_STRING: (c) => `coalesce(CAST(to_json(${arg(c, 0)}) AS VARCHAR), 'null')`,
  TO_JSON: (c) => `to_json(${arg(c, 0)})`,
  TIMESTAMP_TRUNC: (c) => truncate(arg(c, 0), datePart(c, 1)),
  DATETIME_TRUNC: (c) => truncate(arg(c, 0), datePart(c, 1)),
  DATE_TRUNC: (c) => `CAST(${truncate(arg(c, 0), datePart(c, 1))} AS DATE)`,
  EXTRACT: extract,
  CAST: cast(false),
  SAFE_CAST: cast(true),
  DATE: (c) => {
    if (c.args.length === 3) return `make_date(${allArgs(c).join(', ')})`;
    if (c.args.length === 2) return `CAST(timezone(${arg(c, 1)}, CAST(${arg(c, 0)} AS TIMESTAMPTZ)) AS DATE)`;
    return `CAST(${arg(c, 0)} AS DATE)`;
  },
  TIMESTAMP: (c) => {
    if (c.args.length === 2) return `CAST(timezone(${arg(c, 1)}, CAST(${arg(c, 0)} AS TIMESTAMP)) AS TIMESTAMP)`;
    return `CAST(CAST(${arg(c, 0)} AS TIMESTAMPTZ) AS TIMESTAMP)`;
  },
  DATETIME: (c) => {
    if (c.args.length === 2) return `CAST(timezone(${arg(c, 1)}, CAST(${arg(c, 0)} AS TIMESTAMPTZ)) AS TIMESTAMP)`;
    return `CAST(${arg(c, 0)} AS TIMESTAMP)`;
  },
  UNIX_MICROS: (c) => `epoch_us(${arg(c, 0)})`,
  UNIX_MILLIS: (c) => `epoch_ms(${arg(c, 0)})`,
  UNIX_SECONDS: (c) => `CAST(floor(epoch_us(${arg(c, 0)}) / 1000000) AS BIGINT)`,
  UNIX_DATE: (c) => `(CAST(${arg(c, 0)} AS DATE) - DATE '1970-01-01')`,
  TIMESTAMP_MICROS: (c) => `make_timestamp(CAST(${arg(c, 0)} AS BIGINT))`,
  TIMESTAMP_MILLIS: (c) => `make_timestamp(CAST(${arg(c, 0)} AS BIGINT) * 1000)`,
  TIMESTAMP_SECONDS: (c) => `make_timestamp(CAST(${arg(c, 0)} AS BIGINT) * 1000000)`,
  DATE_FROM_UNIX_DATE: (c) => `CAST(DATE '1970-01-01' + CAST(${arg(c, 0)} AS INTEGER) AS DATE)`,
  FORMAT_TIMESTAMP: (c) => `strftime(${inZone(c, 1, 2)}, ${strftimeFormat(c, 0)})`,
  FORMAT_DATETIME: (c) => `strftime(${arg(c, 1)}, ${strftimeFormat(c, 0)})`,
  FORMAT_DATE: (c) => `strftime(${arg(c, 1)}, ${strftimeFormat(c, 0)})`,
  PARSE_TIMESTAMP: (c) => `CAST(strptime(${arg(c, 1)}, ${strftimeFormat(c, 0)}) AS TIMESTAMP)`,
  PARSE_DATE: (c) => `CAST(strptime(${arg(c, 1)}, ${strftimeFormat(c, 0)}) AS DATE)`,
  TIMESTAMP_ADD: (c) => `(${arg(c, 0)} + ${arg(c, 1)})`,
  TIMESTAMP_SUB: (c) => `(${arg(c, 0)} - ${arg(c, 1)})`,
  DATETIME_ADD: (c) => `(${arg(c, 0)} + ${arg(c, 1)})`,
  DATETIME_SUB: (c) => `(${arg(c, 0)} - ${arg(c, 1)})`,
  DATE_ADD: (c) => `CAST(${arg(c, 0)} + ${arg(c, 1)} AS DATE)`,
  DATE_SUB: (c) => `CAST(${arg(c, 0)} - ${arg(c, 1)} AS DATE)`,
  TIMESTAMP_DIFF: (c) => {
    const unit = MICROS_PER_UNIT[datePart(c, 2)];
    if (!unit) throw new SqlSyntaxError(`Unsupported date part for TIMESTAMP_DIFF: ${datePart(c, 2)}`);
    return `CAST(trunc((epoch_us(${arg(c, 0)}) - epoch_us(${arg(c, 1)})) / ${unit}) AS BIGINT)`;
  },
  DATE_DIFF: (c) => `date_diff('${datePart(c, 2).toLowerCase()}', ${arg(c, 1)}, ${arg(c, 0)})`,
  CURRENT_TIMESTAMP: () => 'CAST(get_current_timestamp() AS TIMESTAMP)',
  CURRENT_DATETIME: () => 'CAST(get_current_timestamp() AS TIMESTAMP)',
  CURRENT_DATE: () => 'CAST(get_current_timestamp() AS DATE)',
  IF: (c) => `(CASE WHEN ${arg(c, 0)} THEN ${arg(c, 1)} ELSE ${arg(c, 2)} END)`,
  IFNULL: rename('coalesce'),
  CONCAT: (c) => `(${allArgs(c).join(' || ')})`,
  REGEXP_CONTAINS: rename('regexp_matches'),
  REGEXP_REPLACE: (c) => `regexp_replace(${arg(c, 0)}, ${arg(c, 1)}, ${arg(c, 2)}, 'g')`,
  REGEXP_EXTRACT: (c) => `regexp_extract(${arg(c, 0)}, ${arg(c, 1)}, ${hasCaptureGroup(c, 1) ? 1 : 0})`,
  REGEXP_EXTRACT_ALL: (c) => `regexp_extract_all(${arg(c, 0)}, ${arg(c, 1)}, ${hasCaptureGroup(c, 1) ? 1 : 0})`,
  SAFE_DIVIDE: (c) => `(CASE WHEN ${arg(c, 1)} = 0 THEN NULL ELSE ${arg(c, 0)} / ${arg(c, 1)} END)`,
  DIV: (c) => `(${arg(c, 0)} // ${arg(c, 1)})`,
  ARRAY_LENGTH: rename('len'),
  ARRAY_CONCAT: rename('list_concat'),
  ARRAY_TO_STRING: (c) => `array_to_string(${arg(c, 0)}, ${arg(c, 1)})`,
  GENERATE_ARRAY: rename('generate_series'),
  SPLIT: (c) => `str_split(${arg(c, 0)}, ${c.args[1] ? arg(c, 1) : "','"})`,
  JSON_VALUE: (c) => `json_extract_string(${arg(c, 0)}, ${c.args[1] ? arg(c, 1) : "'$'"})`,
  JSON_EXTRACT_SCALAR: (c) => `json_extract_string(${arg(c, 0)}, ${c.args[1] ? arg(c, 1) : "'$'"})`,
  JSON_QUERY: (c) => `json_extract(${arg(c, 0)}, ${c.args[1] ? arg(c, 1) : "'$'"})`,
  JSON_EXTRACT: (c) => `json_extract(${arg(c, 0)}, ${c.args[1] ? arg(c, 1) : "'$'"})`,
  LOGICAL_AND: rename('bool_and'),
  LOGICAL_OR: rename('bool_or'),
  COUNTIF: (c) => `CAST(count_if(${arg(c, 0)}) AS BIGINT)`,
  GENERATE_UUID: () => 'CAST(gen_random_uuid() AS VARCHAR)',
  BYTE_LENGTH: rename(BYTE_LENGTH_MACRO),
  CHAR_LENGTH: rename('length'),
  CHARACTER_LENGTH: rename('length'),
  STRUCT: (c) =>
    `struct_pack(${c.args
      .map(([s, e], i) => {
        let asAt = -1;
        if (e - s >= 3 && isWord(c.tokens[e - 2], 'AS')) asAt = e - 2;
        if (asAt >= 0) return `"${c.tokens[e - 1]!.value.replace(/"/g, '""')}" := ${c.tr([s, asAt])}`;
        const last = c.tokens[e - 1];
        const name = e - s >= 1 && (last?.kind === 'ident' || last?.kind === 'quoted') ? last.value : `_field_${i + 1}`;
        return `"${name.replace(/"/g, '""')}" := ${c.tr([s, e])}`;
      })
      .join(', ')})`,
};
