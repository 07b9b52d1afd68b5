// What the hour store knows about one container-day: its hour files, how far the day is final,
// which hours a running fetch still owes its waiters, and when the day was last fetched. Restored
// from the day's manifest after a restart, and turned back into one after a fetch.
import type { ContainerRef } from '../model/log-path.js';
import type { DayName, TimeZoneModel } from '../model/time-model.js';
import { deferred, type Deferred } from './deferred.js';
import type { CachedHour, DayManifest, DiskCache } from './disk-cache.js';
import { CHECKED_BLOCK_BYTES } from './hour-file-writers.js';
import { EarlyHour } from './early-hour.js';
import { HourProgress } from './hour-progress.js';
import type { HeldEntries } from './entry-order.js';

/** An hour file as the store hands it out: what it holds and whether it can still change. */
export interface HourFile extends CachedHour {
  mtimeMs: number;
  /** False for an hour that may still receive entries; its file only grows. */
  final: boolean;
  fetchedAtMs: number;
  /** The entries a live hour's file holds, so that a later fetch appends only those it lacks. */
  held?: HeldEntries;
  /** The checksum (CRC-32, hex) of the whole file, recorded when it was written; only new files have one. */
  checksum?: string;
  /** The CRC-32 of each of its 1 MiB blocks (BlockChecksums.hex), against which a restored file is read. */
  blockChecksums?: string;
  /**
   * Its bytes on disk are known to be the ones written: this process wrote them, or has checked
   * them against `checksum`. A file restored from a manifest is checked on its first read.
   */
  verified: boolean;
}

export interface DayState {
  /** Every hour that ends at or before this instant is final. */
  knownThroughMs: number;
  files: Map<number, HourFile>;
  /** Hours the running fetch has not delivered yet. */
  pending: Map<number, Deferred<HourFile | undefined>>;
  fetching: boolean;
  /** When the latest fetch of the day's unfinished hours started. */
  lastFetchMs: number;
  /** Settles when the running fetch, if any, has ended. */
  fetchDone?: Promise<void>;
  /** Hours being fetched that readers may read before their file is written, once their size is known. */
  early: Map<number, Deferred<EarlyHour>>;
  /** Those hours once the running fetch has offered them; the writer tells them how far it is. */
  announced: Map<number, EarlyHour>;
}

/** A day nothing is known of yet, starting at `startMs`. */
export function emptyDayState(startMs: number): DayState {
  return {
    knownThroughMs: startMs,
    files: new Map(),
    pending: new Map(),
    fetching: false,
    lastFetchMs: -Infinity,
    early: new Map(),
    announced: new Map(),
  };
}

/**
 * Restores what earlier runs fetched for good, after checking the files still have their sizes;
 * their checksums are checked when they are first read (HourStore.openForReading).
 */
export async function restoreDayState(
  cache: DiskCache,
  zone: TimeZoneModel,
  ref: ContainerRef,
  day: DayName,
): Promise<DayState> {
  const empty = emptyDayState(zone.dayRange(day).startMs);
  const manifest = await cache.readManifest(ref, day);
  if (!manifest) return empty;
  const files = new Map<number, HourFile>();
  for (const [hourText, size] of Object.entries(manifest.hours)) {
    const hour = Number(hourText);
    // A manifest of an earlier version has no checksums: its hours are fetched again.
    const checksum = manifest.crc32?.[hourText];
    if (checksum === undefined) return empty;
    const found = await cache.statHour({ ref, day, hour });
    if (found?.size !== size) return empty;
    const blocks = manifest.blocks?.[hourText];
    const blocksFit = blocks?.length === Math.ceil(size / CHECKED_BLOCK_BYTES) * 8;
    const endMs = zone.hourRange(day, hour)?.endMs ?? 0;
    files.set(hour, {
      ref,
      day,
      hour,
      size,
      mtimeMs: endMs,
      final: true,
      fetchedAtMs: found.mtimeMs,
      checksum,
      ...(blocksFit && { blockChecksums: blocks }),
      verified: false,
    });
  }
  return { ...empty, knownThroughMs: manifest.knownThroughMs, files };
}

/** The manifest of what is final: the sizes of the final hours, and how far the day is known. */
export function manifestOf(state: DayState): DayManifest {
  const hours: Record<string, number> = {};
  const crc32: Record<string, string> = {};
  const blocks: Record<string, string> = {};
  for (const [hour, file] of state.files) {
    if (!file.final) continue;
    hours[String(hour)] = file.size;
    if (file.checksum !== undefined) crc32[String(hour)] = file.checksum;
    if (file.blockChecksums !== undefined) blocks[String(hour)] = file.blockChecksums;
  }
  return { knownThroughMs: state.knownThroughMs, hours, crc32, blocks };
}

/** What a reader of `hour` awaits to read it before its file is written; it may never come. */
function earlyHourOf(state: DayState, hour: number): Deferred<EarlyHour> {
  let found = state.early.get(hour);
  if (!found) state.early.set(hour, (found = deferred()));
  return found;
}

/** The hour's file, or its early hour if that comes first (offerEarlyHour). */
export async function fileOrEarlyHour(
  state: DayState,
  hour: number,
  file: Promise<HourFile | undefined>,
): Promise<HourFile | EarlyHour | undefined> {
  const early = earlyHourOf(state, hour);
  let found: HourFile | EarlyHour | undefined;
  try {
    return (found = await Promise.race([file, early.promise]));
  } finally {
    if (!(found instanceof EarlyHour) && state.early.get(hour) === early) state.early.delete(hour);
  }
}

/** Lets readers of a pending hour read it early, as `make` makes it, until its file is written. */
export function offerEarlyHour(
  state: DayState,
  hour: number,
  make: (parts: { file: Promise<HourFile | undefined>; progress: HourProgress }) => EarlyHour,
): void {
  const pending = state.pending.get(hour);
  if (!pending) return;
  if (state.announced.has(hour)) return;
  const early = make({ file: pending.promise, progress: new HourProgress() });
  state.announced.set(hour, early);
  const waiting = earlyHourOf(state, hour);
  waiting.resolve(early);
  const forget = () => {
    if (state.early.get(hour) === waiting) state.early.delete(hour);
    if (state.announced.get(hour) === early) state.announced.delete(hour);
  };
  pending.promise.then(forget, forget);
}

/**
 * The running fetch reads its rows again (a new sweep, or the day alone): the hours it announced are
 * read from their files only, and a new sweep announces them anew to new readers.
 */
export function withdrawEarlyHours(state: DayState): void {
  for (const [hour, early] of state.announced) {
    early.withdraw();
    state.early.delete(hour);
  }
  state.announced.clear();
}

/** Bytes of all the day's hour files. */
export function bytesOf(state: DayState): number {
  let bytes = 0;
  for (const file of state.files.values()) bytes += file.size;
  return bytes;
}

/** Keeps a newly written hour file and hands it to the hour's waiters. */
export function deliverHour(state: DayState, file: HourFile): void {
  state.files.set(file.hour, file);
  state.pending.get(file.hour)?.resolve(file);
  state.pending.delete(file.hour);
}

/** Marks each of `hours` as owed by a fetch about to run. */
export function awaitHours(state: DayState, hours: Iterable<number>): void {
  for (const hour of hours) state.pending.set(hour, deferred());
}

/**
 * Settles the hours a completed fetch found no entries for. Only a live file from an earlier fetch
 * can exist for one; it stays while the hour is live and goes once the hour is final.
 */
export function settleUndelivered(state: DayState, isFinal: (hour: number) => boolean): void {
  for (const [hour, waiting] of state.pending) {
    if (isFinal(hour)) state.files.delete(hour);
    waiting.resolve(state.files.get(hour));
  }
  state.pending.clear();
}

/** Fails every hour still owed. */
export function rejectPending(state: DayState, error: unknown): void {
  for (const waiting of state.pending.values()) waiting.reject(error);
  state.pending.clear();
}

/** Forgets a final hour whose file turned out damaged: the day's next fetch starts at that hour. */
export function forgetHour(state: DayState, file: HourFile, hourStartMs: number): void {
  if (state.files.get(file.hour) !== file) return;
  state.files.delete(file.hour);
  state.knownThroughMs = Math.min(state.knownThroughMs, hourStartMs);
  state.lastFetchMs = -Infinity;
}
