// Which hours a fetch covers. Hour files are the unit, so every window is widened to the whole UTC
// hours it touches: the output is then exactly those hour files of the mount, one after another.
import { DAY_MS, HOUR_MS, type TimeRange } from './time-model.js';

export type WindowChoice =
  /** The last `durationMs` up to now. */
  | { kind: 'recent'; durationMs: number }
  /** `hours` hours ending at the current clock time on day `day` of this month, or of the last one. */
  | { kind: 'day-of-month'; day: number; hours: number }
  /** [fromMs, toMs), as given. */
  | { kind: 'between'; fromMs: number; toMs: number };

export function wholeHours(range: TimeRange): TimeRange {
  return {
    startMs: Math.floor(range.startMs / HOUR_MS) * HOUR_MS,
    endMs: Math.ceil(range.endMs / HOUR_MS) * HOUR_MS,
  };
}

/** The start of day `day` of the current month, or of the previous one if that day is still to come. */
function dayOfMonthStart(day: number, nowMs: number): number {
  const now = new Date(nowMs);
  const monthsBack = day > now.getUTCDate() ? 1 : 0;
  const monthStart = Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - monthsBack, 1);
  const startMs = monthStart + (day - 1) * DAY_MS;
  if (new Date(startMs).getUTCMonth() !== new Date(monthStart).getUTCMonth()) {
    throw new Error(`${new Date(monthStart).toISOString().slice(0, 7)} has no day ${day}`);
  }
  return startMs;
}

/** The whole hours a choice covers at `nowMs`; throws when the choice names no time. */
export function fetchWindow(choice: WindowChoice, nowMs: number): TimeRange {
  switch (choice.kind) {
    case 'recent':
      return wholeHours({ startMs: nowMs - choice.durationMs, endMs: nowMs });
    case 'day-of-month': {
      const endMs = dayOfMonthStart(choice.day, nowMs) + (nowMs % DAY_MS);
      return wholeHours({ startMs: endMs - choice.hours * HOUR_MS, endMs });
    }
    case 'between':
      return wholeHours({ startMs: choice.fromMs, endMs: choice.toMs });
  }
}

const INSTANT = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2})(?::(\d{2}):(\d{2})(?:\.(\d{1,9}))?([Zz]|[+-]\d{2}:\d{2}))?$/;

/**
 * Parses an RFC 3339 date-time (`2026-11-25T10:30:00Z`, `…T10:30:00.5+01:00`) or the short
 * `YYYY-MM-DDTHH`, read as UTC, into epoch milliseconds (fractional below a millisecond).
 */
export function parseInstant(text: string): number | undefined {
  const match = INSTANT.exec(text);
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
  let offsetMs = 0;
  const offset = match[8];
  if (offset !== undefined && offset.toUpperCase() !== 'Z') {
    const [offsetHours, offsetMinutes] = offset.slice(1).split(':').map(Number) as [number, number];
    if (offsetHours > 23 || offsetMinutes > 59) return undefined;
    offsetMs = (offset.startsWith('-') ? -1 : 1) * (offsetHours * 60 + offsetMinutes) * 60_000;
  }
  const fractionMs = match[7] === undefined ? 0 : Number(`0.${match[7]}`) * 1000;
  return wholeMs + fractionMs - offsetMs;
}
