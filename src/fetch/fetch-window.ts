// Which hours a fetch covers. Hour files are the unit, so every window is widened to the whole
// local hours of --tz (UTC by default) that it touches, cut as the mount cuts them: the output is
// then exactly those hour files of a mount with the same --tz, one after another.
import {
  DAY_MS,
  HOUR_MS,
  WallClock,
  type DayName,
  type HourSegment,
  type TimeRange,
  type TimeZoneModel,
} from '../model/time-model.js';

/** A time as written: an instant (with an offset or Z), or a wall-clock time of the zone (without). */
export type TimePoint =
  | { instantMs: number }
  /** The wall-clock reading as the epoch milliseconds that read the same in UTC. */
  | { wallMs: number };

export type WindowChoice =
  /** The last `durationMs` up to now. */
  | { kind: 'recent'; durationMs: number }
  /** `hours` hours ending at the current clock time on day `day` of this month, or of the last one. */
  | { kind: 'day-of-month'; day: number; hours: number }
  /** [from, to), as given. */
  | { kind: 'between'; from: TimePoint; to: TimePoint };

/** One hour file of the window: a local hour (two UTC hours long when clocks fall back). */
export interface WindowHour extends HourSegment {
  day: DayName;
}

/** The range widened to the whole local hours it touches. */
export function wholeHours(range: TimeRange, zone: TimeZoneModel): TimeRange {
  const last = zone.hourSegmentAt(range.endMs);
  return {
    startMs: zone.hourSegmentAt(range.startMs).startMs,
    endMs: last.startMs === range.endMs ? range.endMs : last.endMs,
  };
}

/** The hour files of a window of whole local hours, oldest first. */
export function hoursOf(window: TimeRange, zone: TimeZoneModel): WindowHour[] {
  return zone.daysIn(window).flatMap((day) =>
    zone
      .hourSegments(day)
      .filter((segment) => segment.startMs >= window.startMs && segment.endMs <= window.endMs)
      .map((segment) => ({ day, ...segment })),
  );
}

/** The wall-clock time at which day `day` of the current month (or of the previous one, if still to come) starts. */
function dayOfMonthStart(day: number, nowWallMs: number): number {
  const now = new Date(nowWallMs);
  const monthsBack = day > now.getUTCDate() ? 1 : 0;
  const monthStart = Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - monthsBack, 1);
  const startMs = monthStart + (day - 1) * DAY_MS;
  if (new Date(startMs).getUTCMonth() !== new Date(monthStart).getUTCMonth()) {
    throw new Error(`${new Date(monthStart).toISOString().slice(0, 7)} has no day ${day}`);
  }
  return startMs;
}

/** The whole local hours a choice covers at `nowMs`; throws when the choice names no time. */
export function fetchWindow(choice: WindowChoice, nowMs: number, zone: TimeZoneModel): TimeRange {
  const clock = new WallClock(zone.zone);
  switch (choice.kind) {
    case 'recent':
      return wholeHours({ startMs: nowMs - choice.durationMs, endMs: nowMs }, zone);
    case 'day-of-month': {
      const nowWallMs = clock.wallAt(nowMs);
      const endMs = clock.instantOf(dayOfMonthStart(choice.day, nowWallMs) + (nowWallMs % DAY_MS));
      return wholeHours({ startMs: endMs - choice.hours * HOUR_MS, endMs }, zone);
    }
    case 'between': {
      const instantOf = (point: TimePoint) => ('instantMs' in point ? point.instantMs : clock.instantOf(point.wallMs));
      const startMs = instantOf(choice.from);
      const endMs = instantOf(choice.to);
      if (startMs >= endMs) throw new Error('--from must be before --to');
      return wholeHours({ startMs, endMs }, zone);
    }
  }
}

const TIME = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2})(?::(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?([Zz]|[+-]\d{2}:\d{2})?$/;

/**
 * Parses an RFC 3339 date-time (`2026-11-25T10:30:00Z`, `…T10:30:00.5+01:00`) into an instant, or a
 * date-time without an offset (`2026-11-25T10`, `2026-11-25T10:30`, `2026-11-25T10:30:00`) into a
 * wall-clock time of the zone. Fractions below a millisecond are kept.
 */
export function parseTime(text: string): TimePoint | undefined {
  const match = TIME.exec(text);
  if (!match) return undefined;
  const [year, month, day, hour, minute, second] = match.slice(1, 7).map((part) => Number(part ?? 0)) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  if (year < 1970 || month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || second > 59) return undefined;
  const wholeMs = Date.UTC(year, month - 1, day, hour, minute, second);
  if (new Date(wholeMs).getUTCDate() !== day || new Date(wholeMs).getUTCFullYear() !== year) return undefined;
  const fractionMs = match[7] === undefined ? 0 : Number(`0.${match[7]}`) * 1000;
  const offset = match[8];
  if (offset === undefined) return { wallMs: wholeMs + fractionMs };
  let offsetMs = 0;
  if (offset.toUpperCase() !== 'Z') {
    const [offsetHours, offsetMinutes] = offset.slice(1).split(':').map(Number) as [number, number];
    if (offsetHours > 23 || offsetMinutes > 59) return undefined;
    offsetMs = (offset.startsWith('-') ? -1 : 1) * (offsetHours * 60 + offsetMinutes) * 60_000;
  }
  return { instantMs: wholeMs + fractionMs - offsetMs };
}
