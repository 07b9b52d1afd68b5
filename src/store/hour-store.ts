// Hour files on demand. The first access to any hour of a container-day fetches the rest of that day
// in one query (BigQuery bills the whole day partition either way), requested hour first, and splits
// it into hour files in the disk cache. Finished hours are kept for good; the hour that is still
// filling is a snapshot, fetched again while a reader has it open, at most once per refresh interval
// and within the refresh budget. One fetch per container-day runs at a time; every access to the
// day meanwhile awaits its hour from that fetch.
import { logQuery } from '../bigquery/log-queries.js';
import type { LogSource } from '../bigquery/query-builder.js';
import type { LogWarehouse, RawRow } from '../bigquery/log-warehouse.js';
import type { ContainerRef } from '../model/log-path.js';
import type { MountStats } from '../model/stats.js';
import type { DayName, TimeZoneModel } from '../model/time-model.js';
import { planDayFetch, sealsHour, type DayFetchPlan } from './day-fetch-plan.js';
import {
  awaitHours,
  bytesOf,
  manifestOf,
  rejectPending,
  restoreDayState,
  settleUndelivered,
  type DayState,
  type HourFile,
} from './day-state.js';
import { dayKey, type DiskCache, type HourReader } from './disk-cache.js';
import { lineFormatter, type OutputOptions } from './entry-format.js';
import { HourWriter } from './hour-writer.js';
import type { RefreshBudget } from './refresh-budget.js';
import { RefreshPolicy } from './refresh-policy.js';

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

export class HourStore {
  /** Each container-day's state, loaded once; a day's key as the cache names it. */
  private readonly days = new Map<string, Promise<DayState>>();
  private readonly formatLine: (row: RawRow) => string;
  private readonly zone: TimeZoneModel;
  private readonly refreshPolicy: RefreshPolicy;
  private runningFetches = 0;

  constructor(
    private readonly warehouse: LogWarehouse,
    private readonly source: LogSource,
    private readonly cache: DiskCache,
    private readonly options: HourStoreOptions,
    private readonly stats: MountStats,
  ) {
    this.formatLine = lineFormatter(options.output, source.schema?.sortJsonKeys ?? false);
    this.zone = options.zone;
    this.refreshPolicy = new RefreshPolicy(options.refreshMs, options.refreshBudget);
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
    const nowMs = this.options.now();
    // An hour skipped by a clock change, or one that has not begun, has no entries.
    if (!range || range.startMs > nowMs) return undefined;
    const decision = this.refreshPolicy.decide(state, { hourEndMs: range.endMs, hasFile: !!file, mayRefresh, nowMs });
    switch (decision.action) {
      case 'skip':
        if (decision.refusedByBudget) this.stats.refreshSkipped();
        this.cache.touchDay(ref, day);
        return file;
      case 'hit':
        this.stats.cacheHit();
        this.cache.touchDay(ref, day);
        return file;
      case 'fetch':
        this.stats.cacheMiss();
        if (decision.refresh) this.stats.refreshStarted();
        this.fetchDay(ref, day, state, hour, decision.refresh);
        return state.pending.get(hour)?.promise;
    }
  }

  /** The hours with entries, when all of the day is final and in the cache; otherwise undefined. */
  async finalHours(ref: ContainerRef, day: DayName): Promise<number[] | undefined> {
    const state = await this.dayState(ref, day);
    if (state.knownThroughMs < this.zone.dayRange(day).endMs) return undefined;
    return [...state.files.keys()].sort((a, b) => a - b);
  }

  /** Day fetches under way: pages still arriving, or files and manifest still being written. */
  get fetchesRunning(): number {
    return this.runningFetches;
  }

  /** Opens a file `hour` handed out, for reading. */
  openForReading(file: HourFile): Promise<HourReader> {
    return this.cache.openForReading(file);
  }

  /** Forgets a container-day the cache evicted (key as `dayKey` names it); its waiters fail. */
  forgetDay(key: string): void {
    const state = this.days.get(key);
    this.days.delete(key);
    void state?.then((evicted) => rejectPending(evicted, new Error(`cache evicted ${key} while fetching it`)));
  }

  private dayState(ref: ContainerRef, day: DayName): Promise<DayState> {
    const key = dayKey(ref, day);
    let state = this.days.get(key);
    if (!state) {
      state = restoreDayState(this.cache, this.zone, ref, day);
      this.days.set(key, state);
    }
    return state;
  }

  private fetchDay(ref: ContainerRef, day: DayName, state: DayState, firstHour: number, refresh: boolean): void {
    const plan = planDayFetch(this.zone, day, {
      knownThroughMs: state.knownThroughMs,
      firstHour,
      sealAfterMs: this.options.sealAfterMs,
      nowMs: this.options.now(),
      refresh,
    });
    awaitHours(state, plan.hours);
    state.fetching = true;
    state.lastFetchMs = plan.fetchStartMs;
    this.runningFetches++;
    void this.runDayFetch(ref, day, state, plan).finally(() => {
      state.fetching = false;
      this.runningFetches--;
    });
  }

  private async runDayFetch(ref: ContainerRef, day: DayName, state: DayState, plan: DayFetchPlan): Promise<void> {
    const writer = new HourWriter(this.cache, this.zone, this.formatLine, { ref, day, state, plan });
    try {
      const query = logQuery(this.source, {
        kind: 'entries',
        ref,
        day,
        range: plan.range,
        first: plan.first,
        fullEntries: this.options.output.format === 'json',
      });
      // A restarted query delivers everything again: finished hours are rewritten with the same bytes.
      const billed = await this.warehouse.runQuery(query, {
        page: (rows) => writer.writePage(rows),
        restart: () => writer.abandon(),
      });
      if (plan.refresh) {
        this.stats.refreshBilled(billed.bytesBilled);
        this.refreshPolicy.billed(plan.fetchStartMs, billed.bytesBilled);
      }
      await writer.finish();
      settleUndelivered(state, (hour) => sealsHour(plan, this.zone, day, hour));
      this.cache.recordDay(ref, day, bytesOf(state));
      if (plan.finalThroughMs > state.knownThroughMs) {
        state.knownThroughMs = plan.finalThroughMs;
        await this.cache.writeManifest(ref, day, manifestOf(state));
      }
    } catch (error) {
      await writer.abandon();
      state.lastFetchMs = -Infinity;
      rejectPending(state, error);
    }
  }
}
