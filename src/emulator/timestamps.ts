// Timestamp and date handling with exact microsecond precision. Values are
// carried as bigint microseconds since the Unix epoch (UTC); JS Date is never
// used because it drops sub-millisecond digits.

export const MICROS_PER_SECOND = 1_000_000n;
export const MICROS_PER_DAY = 86_400_000_000n;

const MIN_MICROS = -62135596800000000n; // 0001-01-01 00:00:00
const MAX_MICROS = 253402300799999999n; // 9999-12-31 23:59:59.999999

/** Days since 1970-01-01 for a proleptic Gregorian civil date. */
export function daysFromCivil(y: number, m: number, d: number): number {
  const yy = m <= 2 ? y - 1 : y;
  const era = Math.floor(yy / 400);
  const yoe = yy - era * 400;
  const mp = (m + 9) % 12;
  const doy = Math.floor((153 * mp + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

export function civilFromDays(days: number): { y: number; m: number; d: number } {
  const z = days + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const d = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const m = mp < 10 ? mp + 3 : mp - 9;
  return { y: era * 400 + yoe + (m <= 2 ? 1 : 0), m, d };
}

function daysInMonth(y: number, m: number): number {
  return [31, y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0) ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][
    m - 1
  ]!;
}

const DATETIME_RE =
  /^(\d{4})[-/](\d{1,2})[-/](\d{1,2})(?:(?:[Tt]|\s+)(\d{1,2}):(\d{1,2})(?::(\d{1,2})(?:\.(\d{1,12}))?)?)?\s*(Z|UTC|[+-]\d{1,2}(?::?\d{2})?)?$/i;

const DECIMAL_RE = /^([+-])?(\d+)(?:\.(\d*))?$/;

/** Parses "123.456" (seconds) into microseconds, rounding half away from zero. */
function decimalSecondsToMicros(text: string): bigint | undefined {
  const m = DECIMAL_RE.exec(text.trim());
  if (!m) return undefined;
  const frac = (m[3] ?? '').padEnd(7, '0');
  let micros = BigInt(m[2]!) * MICROS_PER_SECOND + BigInt(frac.slice(0, 6));
  if (Number(frac[6]) >= 5) micros += 1n;
  return m[1] === '-' ? -micros : micros;
}

export class TimestampParseError extends Error {}

/**
 * Parses a BigQuery TIMESTAMP input: a date-time string (ISO 'T' or space
 * separator, optional fraction, optional Z/UTC/±hh:mm offset), a numeric
 * string or a number of epoch seconds (may be fractional).
 */
export function parseTimestampMicros(value: unknown): bigint {
  let micros: bigint | undefined;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new TimestampParseError(`Cannot convert ${value} to a timestamp`);
    micros = decimalSecondsToMicros(value.toFixed(7));
  } else if (typeof value === 'bigint') {
    micros = value * MICROS_PER_SECOND;
  } else if (typeof value === 'string') {
    micros = decimalSecondsToMicros(value) ?? parseDateTimeString(value);
  }
  if (micros === undefined || micros < MIN_MICROS || micros > MAX_MICROS) {
    throw new TimestampParseError(
      `Could not parse '${String(value)}' as a timestamp. Required format is YYYY-MM-DD HH:MM[:SS[.SSSSSS]]`,
    );
  }
  return micros;
}

function parseDateTimeString(text: string): bigint | undefined {
  const m = DATETIME_RE.exec(text.trim());
  if (!m) return undefined;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const [h, mi, s] = [Number(m[4] ?? 0), Number(m[5] ?? 0), Number(m[6] ?? 0)];
  if (mo < 1 || mo > 12 || d < 1 || d > daysInMonth(y, mo) || h > 23 || mi > 59 || s > 59) return undefined;
  const frac = BigInt((m[7] ?? '').padEnd(6, '0').slice(0, 6));
  let offsetMinutes = 0;
  const zone = m[8];
  if (zone && /^[+-]/.test(zone)) {
    const z = /^([+-])(\d{1,2}):?(\d{2})?$/.exec(zone)!;
    offsetMinutes = (Number(z[2]) * 60 + Number(z[3] ?? 0)) * (z[1] === '-' ? -1 : 1);
  }
  const seconds = BigInt(daysFromCivil(y, mo, d)) * 86400n + BigInt(h * 3600 + mi * 60 + s - offsetMinutes * 60);
  return seconds * MICROS_PER_SECOND + frac;
}

/** Parses 'YYYY-MM-DD' into days since the epoch. */
export function parseDateDays(value: unknown): number {
  const m = typeof value === 'string' ? /^\s*(\d{4})-(\d{1,2})-(\d{1,2})\s*$/.exec(value) : null;
  if (m) {
    const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
    if (mo >= 1 && mo <= 12 && d >= 1 && d <= daysInMonth(y, mo)) return daysFromCivil(y, mo, d);
  }
  throw new TimestampParseError(`Could not parse '${String(value)}' as a date. Required format is YYYY-MM-DD`);
}

function pad(n: number, width: number): string {
  return String(n).padStart(width, '0');
}

export function formatDate(days: number): string {
  const { y, m, d } = civilFromDays(days);
  return `${pad(y, 4)}-${pad(m, 2)}-${pad(d, 2)}`;
}

/** Floor division of micros into (days, micros within day). */
export function splitMicros(micros: bigint): { days: number; micros: bigint } {
  let days = micros / MICROS_PER_DAY;
  let rest = micros % MICROS_PER_DAY;
  if (rest < 0n) {
    rest += MICROS_PER_DAY;
    days -= 1n;
  }
  return { days: Number(days), micros: rest };
}

/** 'YYYY-MM-DD HH:MM:SS.ffffff' (what DuckDB parses as a TIMESTAMP). */
export function formatTimestamp(micros: bigint, separator = ' ', suffix = ''): string {
  const { days, micros: inDay } = splitMicros(micros);
  const secs = Number(inDay / MICROS_PER_SECOND);
  const frac = Number(inDay % MICROS_PER_SECOND);
  const time = `${pad(Math.floor(secs / 3600), 2)}:${pad(Math.floor(secs / 60) % 60, 2)}:${pad(secs % 60, 2)}.${pad(frac, 6)}`;
  return `${formatDate(days)}${separator}${time}${suffix}`;
}

export function formatTimestampIso(micros: bigint): string {
  return formatTimestamp(micros, 'T', 'Z');
}

/** Epoch seconds as an exact decimal string, e.g. "1795687200.123456". */
export function formatEpochSeconds(micros: bigint): string {
  const neg = micros < 0n;
  const abs = neg ? -micros : micros;
  const secs = abs / MICROS_PER_SECOND;
  const frac = abs % MICROS_PER_SECOND;
  const fracText = frac === 0n ? '' : '.' + frac.toString().padStart(6, '0').replace(/0+$/, '');
  return `${neg ? '-' : ''}${secs}${fracText}`;
}

export function dayOfMicros(micros: bigint): number {
  return splitMicros(micros).days;
}
