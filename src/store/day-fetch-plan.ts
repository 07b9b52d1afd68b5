// What one fetch of a container-day covers: from the day's first hour not yet final in the cache to
// its end, the requested hour first; which of its hours it may seal as final (those that ended more
// than the grace period before it began); and when it began.
import type { SweepScope } from '../bigquery/query-builder.js';
import { DAY_MS, type DayName, type TimeRange, type TimeZoneModel } from '../model/time-model.js';
import { utcDayParts, type SweepNeed } from './sweeps.js';

export interface DayFetchPlan {
  range: TimeRange;
  /** The requested hour, streamed first. */
  first: TimeRange;
  /** Hours that end at or before this instant are final once fetched. */
  finalThroughMs: number;
  fetchStartMs: number;
  /** The hours the fetch delivers, with entries or without. */
  hours: number[];
  /** It fetches again what an earlier fetch of this day already delivered a snapshot of. */
  refresh: boolean;
}

export function planDayFetch(
  zone: TimeZoneModel,
  day: DayName,
  request: { knownThroughMs: number; firstHour: number; sealAfterMs: number; nowMs: number; refresh: boolean },
): DayFetchPlan {
  const fetchStartMs = request.nowMs;
  const whole = zone.dayRange(day);
  const range = { startMs: Math.max(whole.startMs, request.knownThroughMs), endMs: whole.endMs };
  const segments = zone.hourSegments(day).filter((segment) => segment.startMs >= range.startMs);
  const finalThroughMs = Math.max(
    range.startMs,
    ...segments.filter((segment) => segment.endMs + request.sealAfterMs <= fetchStartMs).map((s) => s.endMs),
  );
  return {
    range,
    first: zone.hourRange(day, request.firstHour) ?? range,
    finalThroughMs,
    fetchStartMs,
    hours: segments.map((segment) => segment.hour),
    refresh: request.refresh,
  };
}

/** Whether the fetch seals the hour: it ends by the plan's `finalThroughMs`. A skipped hour never is. */
export function sealsHour(plan: DayFetchPlan, zone: TimeZoneModel, day: DayName, hour: number): boolean {
  return (zone.hourRange(day, hour)?.endMs ?? Infinity) <= plan.finalThroughMs;
}

/**
 * What the plan needs from sweeps of `scope`: one per UTC day it overlaps that has begun, whole days
 * each, and how recent each sweep must be.
 */
export function sweepNeeds(
  plan: DayFetchPlan,
  scope: SweepScope,
  timing: { sealAfterMs: number; refreshMs: number },
): SweepNeed[] {
  // A UTC day that has not begun holds nothing yet.
  const begun = utcDayParts(plan.range).filter((part) => part.startMs <= plan.fetchStartMs);
  return begun.map((part) => {
    const sealedEndMs = Math.min(part.endMs, plan.finalThroughMs);
    // What the fetch seals must be complete in the sweep: it began after the grace period. A part
    // with hours still filling also needs a sweep newer than the last refresh.
    const completeAfterMs = sealedEndMs > part.startMs ? sealedEndMs + timing.sealAfterMs : -Infinity;
    const notBeforeMs =
      sealedEndMs >= part.endMs ? completeAfterMs : Math.max(plan.fetchStartMs - timing.refreshMs + 1, completeAfterMs);
    const utcDayStart = part.startMs - (part.startMs % DAY_MS);
    return { scope, range: { startMs: utcDayStart, endMs: utcDayStart + DAY_MS }, notBeforeMs };
  });
}
