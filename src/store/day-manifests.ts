// Writes each container-day's manifest, one write at a time per day: after every final hour a fetch
// finishes (so a daemon stopped right after `cat` of one hour keeps it), and when a fetch ends. Each
// write records the day's state as it is when the write starts, so a later write never loses what
// an earlier one recorded.
import type { ContainerRef } from '../model/log-path.js';
import type { DayName } from '../model/time-model.js';
import { manifestOf, type DayState } from './day-state.js';
import type { DiskCache } from './disk-cache.js';

/** The last write queued for each day. */
const queued = new WeakMap<DayState, Promise<void>>();

/** Writes the day's manifest after any write already queued for it; resolves once it is on disk. */
export function recordManifest(cache: DiskCache, ref: ContainerRef, day: DayName, state: DayState): Promise<void> {
  const write = (queued.get(state) ?? Promise.resolve())
    .catch(() => undefined)
    .then(() => cache.writeManifest(ref, day, manifestOf(state)));
  queued.set(state, write);
  return write;
}
