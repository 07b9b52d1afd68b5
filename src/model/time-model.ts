// The one place that knows how day and hour names map to time: UTC, or any IANA zone (`--tz`),
// where a local day may span two UTC days, a skipped hour does not exist and a repeated one lasts 2 h.

export const HOUR_MS = 3_600_000;
export const DAY_MS = 24 * HOUR_MS;

/** A calendar day as written in paths, `YYYY-MM-DD`. */
export type DayName = string;

export interface TimeRange {
  /** Inclusive start, epoch milliseconds (always a whole hour, so exact). */
  startMs: number;
  /** Exclusive end, epoch milliseconds. */
  endMs: number;
}

const DAY_PATTERN = /^(\d{4})-(\d{2})-(\d{2})$/;

/** Returns the day's start in epoch ms, or undefined for anything that is not a real calendar day. */
export function parseDayName(text: string): number | undefined {
  const match = DAY_PATTERN.exec(text);
  if (!match) return undefined;
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  if (year < 1970 || month < 1 || month > 12 || day < 1) return undefined;
  const startMs = Date.UTC(year, month - 1, day);
  const back = new Date(startMs);
  if (back.getUTCFullYear() !== year || back.getUTCMonth() !== month - 1 || back.getUTCDate() !== day) {
    return undefined;
  }
  return startMs;
}

export function dayNameOf(epochMs: number): DayName {
  return new Date(epochMs).toISOString().slice(0, 10);
}

export function dayRange(day: DayName): TimeRange {
  const startMs = parseDayName(day);
  if (startMs === undefined) throw new Error(`not a day: ${day}`);
  return { startMs, endMs: startMs + DAY_MS };
}

export function hourRange(day: DayName, hour: number): TimeRange {
  const { startMs } = dayRange(day);
  const hourStart = startMs + hour * HOUR_MS;
  return { startMs: hourStart, endMs: hourStart + HOUR_MS };
}

/** The days a range touches, oldest first. */
export function daysIn(range: TimeRange): DayName[] {
  const days: DayName[] = [];
  for (let ms = Math.floor(range.startMs / DAY_MS) * DAY_MS; ms < range.endMs; ms += DAY_MS) {
    days.push(dayNameOf(ms));
  }
  return days;
}

/** The `YYYYMMDD` suffix of a date-sharded table for a day. */
export function shardSuffix(day: DayName): string {
  return day.replaceAll('-', '');
}

/** RFC 3339 with microseconds, as `kubectl logs --timestamps` prints. */
export function microsToRfc3339(micros: bigint): string {
  const ms = Number(micros / 1000n);
  const fraction = (((micros % 1_000_000n) + 1_000_000n) % 1_000_000n).toString().padStart(6, '0');
  return `${new Date(ms).toISOString().slice(0, 19)}.${fraction}Z`;
}

/** Units from the largest down; a duration names each at most once, in this order, as kubectl and Go write them. */
const DURATION_UNITS: readonly [unit: string, ms: number][] = [
  ['w', 7 * DAY_MS],
  ['d', DAY_MS],
  ['h', HOUR_MS],
  ['m', 60_000],
  ['s', 1000],
  ['ms', 1],
];
const DURATION_PATTERN = new RegExp(
  `^${DURATION_UNITS.map(([unit]) => `(?:(\\d+(?:\\.\\d+)?)${unit}(?![a-z]))?`).join('')}$`,
);

/** Parses durations such as `7d`, `15m`, `10s`, `1h30m`, `1w`, `1.5h`: milliseconds. */
export function parseDuration(text: string): number {
  const match = DURATION_PATTERN.exec(text.trim());
  if (!match || text.trim() === '') {
    throw new Error(`not a duration: "${text}" (use numbers with units w, d, h, m, s, ms, e.g. 7d, 90m, 1h30m)`);
  }
  let total = 0;
  DURATION_UNITS.forEach(([, unitMs], index) => {
    const amount = match[index + 1];
    if (amount !== undefined) total += Number(amount) * unitMs;
  });
  return Math.round(total);
}

/** One local clock hour of a day: the UTC span it covers (two hours long when clocks fall back). */
export interface HourSegment extends TimeRange {
  hour: number;
}

const QUARTER_HOUR_MS = 15 * 60_000;

/**
 * Days and hours in one time zone. Every UTC offset in use is a whole number of quarter hours, so
 * local hour boundaries fall on UTC quarter hours, which is where this looks for them.
 */
export class TimeZoneModel {
  private readonly parts: Intl.DateTimeFormat;
  private readonly segmentCache = new Map<DayName, HourSegment[]>();
  private readonly offsetCache = new Map<number, number>();
  private offsets: Intl.DateTimeFormat | undefined;

  constructor(readonly zone: string) {
    try {
      this.parts = new Intl.DateTimeFormat('en-US', {
        timeZone: zone,
        hourCycle: 'h23',
        year: 'numeric',
        month: '2-digit',
        day: '2-digit',
        hour: '2-digit',
      });
    } catch {
      throw new Error(`unknown time zone "${zone}" (use an IANA name such as Europe/Berlin, or UTC)`);
    }
  }

  get isUtc(): boolean {
    return this.zone === 'UTC';
  }

  /**
   * RFC 3339 with microseconds in this zone's local time and offset (`…T19:00:00.123456+09:00`);
   * in UTC with `Z`, as microsToRfc3339.
   */
  rfc3339(micros: bigint): string {
    if (this.isUtc) return microsToRfc3339(micros);
    const ms = Number(micros / 1000n);
    const offsetMs = this.offsetAt(ms);
    const fraction = (((micros % 1_000_000n) + 1_000_000n) % 1_000_000n).toString().padStart(6, '0');
    const sign = offsetMs < 0 ? '-' : '+';
    const minutes = Math.abs(offsetMs) / 60_000;
    const offset = `${sign}${String(Math.floor(minutes / 60)).padStart(2, '0')}:${String(minutes % 60).padStart(2, '0')}`;
    return `${new Date(ms + offsetMs).toISOString().slice(0, 19)}.${fraction}${offset}`;
  }

  /** The zone's UTC offset at an instant; it changes only on UTC quarter hours, so it is kept per quarter. */
  private offsetAt(epochMs: number): number {
    const quarter = Math.floor(epochMs / QUARTER_HOUR_MS);
    const cached = this.offsetCache.get(quarter);
    if (cached !== undefined) return cached;
    this.offsets ??= new Intl.DateTimeFormat('en-US', { timeZone: this.zone, timeZoneName: 'longOffset' });
    const name = this.offsets.formatToParts(quarter * QUARTER_HOUR_MS).find((part) => part.type === 'timeZoneName');
    const match = /GMT([+-])(\d{2}):(\d{2})/.exec(name?.value ?? '');
    const offsetMs = match ? (match[1] === '-' ? -1 : 1) * (Number(match[2]) * HOUR_MS + Number(match[3]) * 60_000) : 0;
    if (this.offsetCache.size > 10_000) this.offsetCache.clear();
    this.offsetCache.set(quarter, offsetMs);
    return offsetMs;
  }

  /** The local day and hour at an instant. */
  localHour(epochMs: number): { day: DayName; hour: number } {
    const fields: Record<string, string> = {};
    for (const part of this.parts.formatToParts(epochMs)) fields[part.type] = part.value;
    return { day: `${fields.year}-${fields.month}-${fields.day}`, hour: Number(fields.hour) };
  }

  dayNameOf(epochMs: number): DayName {
    return this.localHour(epochMs).day;
  }

  /** The local hours of a day, in order; an hour skipped by a clock change is missing. */
  hourSegments(day: DayName): HourSegment[] {
    const cached = this.segmentCache.get(day);
    if (cached) return cached;
    const noonUtc = parseDayName(day);
    if (noonUtc === undefined) throw new Error(`not a day: ${day}`);
    const segments: HourSegment[] = [];
    // Any local day lies within 14 hours either side of the same UTC day.
    for (let ms = noonUtc - 15 * HOUR_MS; ms < noonUtc + DAY_MS + 15 * HOUR_MS; ms += QUARTER_HOUR_MS) {
      const local = this.localHour(ms);
      if (local.day !== day) continue;
      const last = segments[segments.length - 1];
      if (last && last.hour === local.hour && last.endMs === ms) last.endMs = ms + QUARTER_HOUR_MS;
      else segments.push({ hour: local.hour, startMs: ms, endMs: ms + QUARTER_HOUR_MS });
    }
    this.segmentCache.set(day, segments);
    return segments;
  }

  dayRange(day: DayName): TimeRange {
    const segments = this.hourSegments(day);
    return { startMs: segments[0]?.startMs ?? 0, endMs: segments[segments.length - 1]?.endMs ?? 0 };
  }

  /** The UTC span of a local hour, or undefined when that hour does not exist that day. */
  hourRange(day: DayName, hour: number): TimeRange | undefined {
    const segment = this.hourSegments(day).find((candidate) => candidate.hour === hour);
    return segment && { startMs: segment.startMs, endMs: segment.endMs };
  }

  /** The local hour an entry timestamp (epoch microseconds) belongs to within a day's segments. */
  hourOfMicros(day: DayName, micros: bigint): number | undefined {
    const ms = Number(micros / 1000n);
    return this.hourSegments(day).find((segment) => ms >= segment.startMs && ms < segment.endMs)?.hour;
  }

  /** The local hour that holds an instant. */
  hourSegmentAt(epochMs: number): HourSegment {
    const found = this.hourSegments(this.dayNameOf(epochMs)).find(
      (segment) => epochMs >= segment.startMs && epochMs < segment.endMs,
    );
    if (!found) throw new Error(`no hour of ${this.zone} holds ${new Date(epochMs).toISOString()}`);
    return found;
  }

  /** The local days a UTC range touches, oldest first. */
  daysIn(range: TimeRange): DayName[] {
    const days: DayName[] = [];
    for (let ms = range.startMs; ms < range.endMs + HOUR_MS; ms += HOUR_MS) {
      const day = this.dayNameOf(Math.min(ms, range.endMs - 1));
      if (days[days.length - 1] !== day) days.push(day);
    }
    return days;
  }
}

/** Wall-clock readings of one zone to the second, for times written without an offset. */
export class WallClock {
  private readonly format: Intl.DateTimeFormat;

  constructor(zone: string) {
    this.format = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
  }

  /** The clock's reading at an instant, as a wall-clock time (see TimePoint). */
  wallAt(instantMs: number): number {
    const wholeSecondMs = Math.floor(instantMs / 1000) * 1000;
    const fields: Record<string, number> = {};
    for (const part of this.format.formatToParts(wholeSecondMs)) fields[part.type] = Number(part.value);
    const { year = 0, month = 1, day = 1, hour = 0, minute = 0, second = 0 } = fields;
    return Date.UTC(year, month - 1, day, hour, minute, second) + (instantMs - wholeSecondMs);
  }

  /**
   * The instant the clock reads a wall-clock time; of two (clocks fell back), the earlier. A time
   * the clocks skipped is read with the offset from before the change, so it lands as far after it.
   */
  instantOf(wallMs: number): number {
    // Offsets are whole seconds: the fraction of a second is carried over as it is.
    const wholeSecondMs = Math.floor(wallMs / 1000) * 1000;
    const offsetAt = (instantMs: number) => this.wallAt(instantMs) - instantMs;
    const offsetBefore = offsetAt(wholeSecondMs - DAY_MS);
    const offsetAfter = offsetAt(wholeSecondMs + DAY_MS);
    const matching = [wholeSecondMs - offsetBefore, wholeSecondMs - offsetAfter].filter(
      (instantMs) => this.wallAt(instantMs) === wholeSecondMs,
    );
    const instantMs = matching.length > 0 ? Math.min(...matching) : wholeSecondMs - offsetBefore;
    return instantMs + (wallMs - wholeSecondMs);
  }
}

/** The zone name, if the runtime knows it; otherwise an error that says what to use. */
export function checkTimeZone(zone: string): string {
  return new TimeZoneModel(zone).zone;
}
