// Hour files on demand. The first access to any hour of a container-day fetches the rest of that day
// in one query (BigQuery bills the whole day partition either way), requested hour first, and splits
// it into hour files in the disk cache. Finished hours are kept for good; the hour that is still
// filling is a snapshot, fetched again while a reader has it open, at most once per refresh interval
// and within the refresh budget.
import { open as openFile, stat, type FileHandle } from 'node:fs/promises';
import type { BigQueryAccess, RawRow } from './bigquery-access.js';
import { dayKey, type DayManifest, type DiskCache, type TempFile } from './disk-cache.js';
import { lineFormatter, type OutputOptions } from './entry-format.js';
import type { ContainerRef } from './log-path.js';
import { entriesQuery, type LogSource } from './query-builder.js';
import type { RefreshBudget } from './refresh-budget.js';
import type { MountStats } from './stats.js';
import type { DayName, TimeRange, TimeZoneModel } from './time-model.js';

export interface HourFile {
  path: string;
  size: number;
  mtimeMs: number;
  /** False for an hour that may still receive entries; its file only grows. */
  final: boolean;
  fetchedAtMs: number;
  /** The last entry in the file, for appending what a later fetch finds after it. */
  lastKey?: EntryKey;
}

export interface HourStoreOptions {
  /** Grace period after an hour's end before it counts as finished (sink latency). */
  sealAfterMs: number;
  /** How old a snapshot of an unfinished hour may be before a reader's access fetches it again. */
  refreshMs: number;
  /** Bounds what refreshes bill; unbounded when absent. */
  refreshBudget?: RefreshBudget;
  now: () => number;
  output: OutputOptions;
  /** Names days and hours; a local day may span two UTC days. */
  zone: TimeZoneModel;
}

interface Deferred<T> {
  promise: Promise<T>;
  resolve(value: T): void;
  reject(error: unknown): void;
}

function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  promise.catch(() => undefined);
  return { promise, resolve, reject };
}

interface DayState {
  /** Every hour that ends at or before this instant is final. */
  knownThroughMs: number;
  files: Map<number, HourFile>;
  /** Hours the running fetch has not delivered yet. */
  pending: Map<number, Deferred<HourFile | undefined>>;
  fetching: boolean;
  /** When the latest fetch of the day's unfinished hours started. */
  lastFetchMs: number;
}

/** The order of entries in a file: (timestamp, insertId, stream), as the query sorts them. */
interface EntryKey {
  micros: bigint;
  insertId: string | null;
  stream: string;
}

function compareStrings(a: string | null, b: string | null): number {
  if (a === b) return 0;
  if (a === null) return -1;
  if (b === null) return 1;
  return a < b ? -1 : 1;
}

export function compareEntryKeys(a: EntryKey, b: EntryKey): number {
  if (a.micros !== b.micros) return a.micros < b.micros ? -1 : 1;
  return compareStrings(a.insertId, b.insertId) || compareStrings(a.stream, b.stream);
}

/** A sink may deliver an entry twice: same insertId and timestamp. They sort next to each other. */
function isDuplicateDelivery(previous: EntryKey | undefined, key: EntryKey): boolean {
  return (
    previous !== undefined &&
    key.insertId !== null &&
    previous.insertId === key.insertId &&
    previous.micros === key.micros
  );
}

/** Lines are buffered up to this many characters before they are written. */
const WRITE_CHUNK_CHARS = 1 << 20;

/** Writes one hour's lines as pages arrive: to a new temporary file, or appended to the live file. */
interface HourWriter {
  hour: number;
  final: boolean;
  handle: FileHandle;
  /** Set when the hour is written anew; renamed into place when complete. */
  temp?: TempFile;
  /** Set when new entries are appended to the live hour's file. */
  live?: HourFile;
  size: number;
  lastKey: EntryKey | undefined;
  chunk: string;
}

export class HourStore {
  private readonly days = new Map<string, Promise<DayState>>();
  private readonly formatLine: (row: RawRow) => string;
  private readonly zone: TimeZoneModel;

  constructor(
    private readonly access: BigQueryAccess,
    private readonly source: LogSource,
    private readonly cache: DiskCache,
    private readonly options: HourStoreOptions,
    private readonly stats: MountStats,
  ) {
    this.formatLine = lineFormatter(options.output, source.schema?.sortJsonKeys ?? false);
    this.zone = options.zone;
    cache.onEvict = (key) => {
      const state = this.days.get(key);
      this.days.delete(key);
      void state?.then((evicted) => {
        for (const waiting of evicted.pending.values())
          waiting.reject(new Error(`cache evicted ${key} while fetching it`));
        evicted.pending.clear();
      });
    };
  }

  /**
   * The hour's file, fetching it if needed; undefined when the hour has no entries. A snapshot of an
   * unfinished hour is fetched again only when `mayRefresh` (a reader opens or has it open).
   */
  async hour(ref: ContainerRef, day: DayName, hour: number, mayRefresh = true): Promise<HourFile | undefined> {
    const state = await this.dayState(ref, day);
    const pending = state.pending.get(hour);
    if (pending) return pending.promise;
    const file = state.files.get(hour);
    const range = this.zone.hourRange(day, hour);
    const now = this.options.now();
    // An hour skipped by a clock change, or one that has not begun, has no entries.
    if (!range || range.startMs > now) return undefined;
    const fresh =
      range.endMs <= state.knownThroughMs || state.fetching || now - state.lastFetchMs < this.options.refreshMs;
    // A refresh fetches again what an earlier fetch of this day already delivered a snapshot of.
    const refresh = state.lastFetchMs > -Infinity;
    const budget = this.options.refreshBudget;
    // Without a reader a snapshot stays as it is; an hour without one is fetched, so that it can appear.
    const wanted = mayRefresh || !file;
    if (!fresh && refresh && (!wanted || (budget && !budget.allows(now)))) {
      if (wanted) this.stats.refreshesSkipped++;
      this.cache.touchDay(ref, day);
      return file;
    }
    if (fresh) {
      this.stats.cacheHits++;
      this.cache.touchDay(ref, day);
      return file;
    }
    this.stats.cacheMisses++;
    if (refresh) this.stats.refreshes++;
    this.fetchDay(ref, day, state, hour, refresh);
    return state.pending.get(hour)?.promise;
  }

  /** The hours with entries, when all of the day is final and in the cache; otherwise undefined. */
  async finalHours(ref: ContainerRef, day: DayName): Promise<number[] | undefined> {
    const state = await this.dayState(ref, day);
    if (state.knownThroughMs < this.zone.dayRange(day).endMs) return undefined;
    return [...state.files.keys()].sort((a, b) => a - b);
  }

  private dayState(ref: ContainerRef, day: DayName): Promise<DayState> {
    const key = dayKey(ref, day);
    let state = this.days.get(key);
    if (!state) {
      state = this.loadDayState(ref, day);
      this.days.set(key, state);
    }
    return state;
  }

  /** Restores what earlier runs fetched for good, after checking the files are still whole. */
  private async loadDayState(ref: ContainerRef, day: DayName): Promise<DayState> {
    const { startMs } = this.zone.dayRange(day);
    const empty: DayState = {
      knownThroughMs: startMs,
      files: new Map(),
      pending: new Map(),
      fetching: false,
      lastFetchMs: -Infinity,
    };
    const manifest = await this.cache.readManifest(ref, day);
    if (!manifest) return empty;
    const files = new Map<number, HourFile>();
    for (const [hourText, size] of Object.entries(manifest.hours)) {
      const hour = Number(hourText);
      const path = this.cache.hourPath(ref, day, hour);
      const found = await stat(path).catch(() => undefined);
      if (found?.size !== size) return empty;
      const endMs = this.zone.hourRange(day, hour)?.endMs ?? 0;
      files.set(hour, { path, size, mtimeMs: endMs, final: true, fetchedAtMs: found.mtimeMs });
    }
    return { ...empty, knownThroughMs: manifest.knownThroughMs, files };
  }

  private fetchDay(ref: ContainerRef, day: DayName, state: DayState, firstHour: number, refresh: boolean): void {
    const fetchStartMs = this.options.now();
    const whole = this.zone.dayRange(day);
    const range = { startMs: Math.max(whole.startMs, state.knownThroughMs), endMs: whole.endMs };
    const segments = this.zone.hourSegments(day).filter((segment) => segment.startMs >= range.startMs);
    // Final: every hour that ended more than the grace period before this fetch began.
    const finalThroughMs = Math.max(
      range.startMs,
      ...segments.filter((segment) => segment.endMs + this.options.sealAfterMs <= fetchStartMs).map((s) => s.endMs),
    );
    for (const segment of segments) state.pending.set(segment.hour, deferred());
    state.fetching = true;
    state.lastFetchMs = fetchStartMs;
    const first = this.zone.hourRange(day, firstHour) ?? range;
    void this.runDayFetch(ref, day, state, { range, finalThroughMs, fetchStartMs, first, refresh }).finally(() => {
      state.fetching = false;
    });
  }

  private async runDayFetch(
    ref: ContainerRef,
    day: DayName,
    state: DayState,
    plan: {
      range: { startMs: number; endMs: number };
      finalThroughMs: number;
      fetchStartMs: number;
      /** The requested hour, streamed first. */
      first: TimeRange;
      refresh: boolean;
    },
  ): Promise<void> {
    let writer: HourWriter | undefined;
    let previous: EntryKey | undefined;

    const startHour = async (hour: number): Promise<HourWriter> => {
      const final = (this.zone.hourRange(day, hour)?.endMs ?? Infinity) <= plan.finalThroughMs;
      const live = state.files.get(hour);
      if (!final && live && !live.final) {
        // A live hour only ever grows, so readers never see bytes change under them. Entries that
        // arrive late for an earlier position show up once the hour is final.
        return {
          hour,
          final,
          live,
          handle: await openFile(live.path, 'a'),
          size: live.size,
          lastKey: live.lastKey,
          chunk: '',
        };
      }
      const temp = await this.cache.createHourTemp(ref, day, hour);
      return { hour, final, temp, handle: temp.handle, size: 0, lastKey: undefined, chunk: '' };
    };

    const flush = async (current: HourWriter): Promise<void> => {
      if (current.chunk.length === 0) return;
      const bytes = Buffer.from(current.chunk);
      current.chunk = '';
      // write(2) may write less than asked, e.g. when the disk fills up; the next call then fails.
      for (let offset = 0; offset < bytes.length;) {
        offset += (await current.handle.write(bytes, offset)).bytesWritten;
      }
      current.size += bytes.length;
    };

    const finishHour = async (current: HourWriter): Promise<void> => {
      await flush(current);
      let path: string;
      let mtimeMs: number;
      if (current.temp) {
        path = await this.cache.commitHour(current.temp, ref, day, current.hour);
        mtimeMs = current.final ? (this.zone.hourRange(day, current.hour)?.endMs ?? 0) : plan.fetchStartMs;
      } else {
        await current.handle.datasync();
        await current.handle.close();
        path = current.live?.path ?? '';
        mtimeMs = current.size === current.live?.size ? current.live.mtimeMs : plan.fetchStartMs;
      }
      const file: HourFile = {
        path,
        size: current.size,
        mtimeMs,
        final: current.final,
        fetchedAtMs: plan.fetchStartMs,
        ...(current.lastKey && { lastKey: current.lastKey }),
      };
      state.files.set(current.hour, file);
      state.pending.get(current.hour)?.resolve(file);
      state.pending.delete(current.hour);
    };

    // Drops the hour being written: a new file is deleted, a live file cut back to what it had.
    // Hours finished before are whole and stay.
    const abandonHour = async (): Promise<void> => {
      const current = writer;
      writer = undefined;
      previous = undefined;
      if (current?.temp) await this.cache.discard(current.temp);
      else if (current?.live) {
        await current.handle.truncate(current.live.size).catch(() => undefined);
        await current.handle.close().catch(() => undefined);
      }
    };

    const writePage = async (rows: RawRow[]): Promise<void> => {
      for (const row of rows) {
        const [timestamp, insertId, stream] = row;
        if (timestamp === null || timestamp === undefined) continue;
        const key: EntryKey = { micros: BigInt(timestamp), insertId: insertId ?? null, stream: stream ?? '' };
        if (isDuplicateDelivery(previous, key)) continue;
        previous = key;
        const hour = this.zone.hourOfMicros(day, key.micros);
        if (hour === undefined) continue;
        if (writer?.hour !== hour) {
          if (writer) await finishHour(writer);
          writer = await startHour(hour);
        }
        if (writer.lastKey && compareEntryKeys(key, writer.lastKey) <= 0) continue;
        writer.lastKey = key;
        writer.chunk += this.formatLine(row);
        if (writer.chunk.length >= WRITE_CHUNK_CHARS) await flush(writer);
      }
      if (writer) await flush(writer);
    };

    try {
      const query = entriesQuery(this.source, ref, plan.range, plan.first, this.options.output.format === 'json');
      // A restarted query delivers everything again: finished hours are rewritten with the same bytes.
      const billed = await this.access.runQuery(
        `entries ${ref.namespace}/${ref.pod}/${ref.container}/${day}`,
        query,
        writePage,
        abandonHour,
      );
      if (plan.refresh) {
        this.stats.refreshBytesBilled += billed.bytesBilled;
        this.options.refreshBudget?.record(plan.fetchStartMs, billed.bytesBilled);
      }
      if (writer) await finishHour(writer);
      writer = undefined;
      for (const [hour, waiting] of state.pending) {
        // No entries this time. Only a live file from an earlier fetch can exist; it goes once final.
        if ((this.zone.hourRange(day, hour)?.endMs ?? Infinity) <= plan.finalThroughMs) state.files.delete(hour);
        waiting.resolve(state.files.get(hour));
      }
      state.pending.clear();
      let bytes = 0;
      for (const file of state.files.values()) bytes += file.size;
      this.cache.recordDay(ref, day, bytes);
      if (plan.finalThroughMs > state.knownThroughMs) {
        state.knownThroughMs = plan.finalThroughMs;
        await this.saveManifest(ref, day, state);
      }
    } catch (error) {
      await abandonHour();
      state.lastFetchMs = -Infinity;
      for (const waiting of state.pending.values()) waiting.reject(error);
      state.pending.clear();
    }
  }

  private async saveManifest(ref: ContainerRef, day: DayName, state: DayState): Promise<void> {
    const hours: Record<string, number> = {};
    for (const [hour, file] of state.files) if (file.final) hours[String(hour)] = file.size;
    const manifest: DayManifest = { knownThroughMs: state.knownThroughMs, hours };
    await this.cache.writeManifest(ref, day, manifest);
  }
}
