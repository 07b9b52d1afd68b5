// Hour files on demand. The first access to any hour of a container-day reads that day, requested
// hour first, from a sweep (sweeps.ts: one query per UTC day for a namespace's containers, kept and
// read by row index) into hour files in the disk cache. Finished hours are kept for good; the live
// hour is a snapshot, fetched again while a reader has it open, at most once per refresh and within
// the refresh budget. One fetch per container-day runs at a time; other accesses await its hours.
import { logQuery } from '../bigquery/log-queries.js';
import { describeFailure, QueryFailure } from '../bigquery/failures.js';
import type { LogSource, SweepScope } from '../bigquery/query-builder.js';
import type { LogWarehouse, TextRow } from '../bigquery/log-warehouse.js';
import type { ContainerRef } from '../model/log-path.js';
import type { MountStats } from '../model/stats.js';
import type { DayName, TimeZoneModel } from '../model/time-model.js';
import { planDayFetch, sealsHour, sweepNeeds, type DayFetchPlan } from './day-fetch-plan.js';
import {
  awaitHours,
  bytesOf,
  fileOrEarlyHour,
  offerEarlyHour,
  forgetHour,
  rejectPending,
  restoreDayState,
  settleUndelivered,
  type DayState,
  type HourFile,
} from './day-state.js';
import { recordManifest } from './day-manifests.js';
import { dayKey, type DiskCache, type HourReader } from './disk-cache.js';
import { lineBodyFormatter, type LineBody } from './entry-format.js';
import { HourVerification } from './hour-verification.js';
import { HourWriter, type DayFetchTarget } from './hour-writer.js';
import { RefreshPolicy } from './refresh-policy.js';
import { EarlyHour } from './early-hour.js';
import { earlyHourReader } from './early-hour-reader.js';
import { FollowedContainers } from './followed-containers.js';
import { sweepOptionsOf, SWEEP_TOO_BIG, type HourStoreOptions } from './hour-store-options.js';
import { Sweeps, SweepUnreadable, type SizedHour } from './sweeps.js';

export { SWEEP_TOO_BIG, type HourStoreOptions } from './hour-store-options.js';

export class HourStore {
  /** Each container-day's state, loaded once; a day's key as the cache names it. */
  private readonly days = new Map<string, Promise<DayState>>();
  private readonly lineOf: (row: TextRow) => LineBody;
  private readonly zone: TimeZoneModel;
  private readonly refreshPolicy: RefreshPolicy;
  private runningFetches = 0;
  private readonly sweeps: Sweeps;
  private readonly verification: HourVerification;
  private readonly followed = new FollowedContainers();

  constructor(
    private readonly warehouse: LogWarehouse,
    private readonly source: LogSource,
    private readonly cache: DiskCache,
    private readonly options: HourStoreOptions,
    private readonly stats: MountStats,
  ) {
    this.zone = options.zone;
    const stamp = (micros: bigint) => this.zone.rfc3339(micros);
    this.lineOf = lineBodyFormatter(options.output, source.schema?.sortJsonKeys ?? false, stamp);
    this.refreshPolicy = new RefreshPolicy(options.refreshMs, options.refreshBudget);
    this.sweeps = new Sweeps(warehouse, source, sweepOptionsOf(options, stamp));
    this.verification = new HourVerification(cache, (damaged) => this.fetchAgain(damaged), stats, options.log);
  }

  /** A reader opened an hour of the container; while any is open, refreshes sweep its namespace too. */
  follow(ref: ContainerRef): void {
    this.followed.follow(ref);
  }

  unfollow(ref: ContainerRef): void {
    this.followed.unfollow(ref);
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
    const decision = this.refreshPolicy.decide(state, { hourEndMs: range.endMs, file, mayRefresh, nowMs });
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

  /**
   * As `hour`, but a final hour being fetched is handed out as soon as its size is known
   * (EarlyHour): its file, or an early hour, whichever comes first.
   */
  async hourForReading(
    ref: ContainerRef,
    day: DayName,
    hour: number,
    mayRefresh = true,
  ): Promise<HourFile | EarlyHour | undefined> {
    const state = await this.dayState(ref, day);
    return fileOrEarlyHour(state, hour, this.hour(ref, day, hour, mayRefresh));
  }

  /** The hours with entries, when all of the day is final and in the cache; otherwise undefined. */
  async finalHours(ref: ContainerRef, day: DayName): Promise<number[] | undefined> {
    const state = await this.dayState(ref, day);
    if (state.knownThroughMs < this.zone.dayRange(day).endMs) return undefined;
    return [...state.files.keys()].sort((a, b) => a - b);
  }

  /** A final hour the cache holds, found without any query; undefined when it holds none. */
  async finalHour(ref: ContainerRef, day: DayName, hour: number): Promise<HourFile | undefined> {
    const file = (await this.dayState(ref, day)).files.get(hour);
    return file?.final ? file : undefined;
  }

  /** Whether the cache holds any container-day under these leading names. */
  holdsUnder(names: readonly string[]): boolean {
    return this.cache.holdsUnder(names);
  }

  /** Day fetches under way: pages still arriving, or files and manifest still being written. */
  get fetchesRunning(): number {
    return this.runningFetches;
  }

  /** Opens a file `hour` handed out, for reading: one this process did not write is checked first. */
  async openForReading(file: HourFile | EarlyHour): Promise<HourReader> {
    if (file instanceof EarlyHour) {
      return earlyHourReader(
        file,
        (written) => this.verification.open(written),
        () => this.stats.earlyRead(),
      );
    }
    return this.verification.open(file);
  }

  /** Closes the cached files kept open for the next reader (the mount is stopping). */
  closeIdleReaders(): Promise<void> {
    return this.verification.closeIdle();
  }

  /** A file `hour` handed out, checked as `openForReading` does, to be read whole from the cache. */
  checked(file: HourFile): Promise<HourFile> {
    return this.verification.check(file);
  }

  /** Forgets a final hour whose file was damaged, and fetches the day again from that hour on. */
  private async fetchAgain(damaged: HourFile): Promise<HourFile | undefined> {
    const state = await this.dayState(damaged.ref, damaged.day);
    while (state.fetching) await state.fetchDone;
    forgetHour(state, damaged, this.zone.hourRange(damaged.day, damaged.hour)?.startMs ?? state.knownThroughMs);
    return this.hour(damaged.ref, damaged.day, damaged.hour);
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
    state.fetchDone = this.runDayFetch(ref, day, state, plan).finally(() => {
      state.fetching = false;
      this.runningFetches--;
    });
  }

  private async runDayFetch(ref: ContainerRef, day: DayName, state: DayState, plan: DayFetchPlan): Promise<void> {
    const writer = new HourWriter(this.cache, this.zone, this.lineOf, { ref, day, state, plan });
    try {
      const bytesBilled = await this.readDay(writer).catch(async (error: unknown) => {
        if (error instanceof QueryFailure && SWEEP_TOO_BIG.has(error.reason)) {
          await writer.abandon();
          return this.readDayAlone(ref, day, plan, writer);
        }
        if (!(error instanceof SweepUnreadable)) throw error;
        // Its result could not be read: sweep once more, as a job that failed after it started is run again.
        const failure = describeFailure(error.failure);
        this.options.log?.warn(
          { reason: failure.reason, err: failure.message, discarded: writer.rowsWritten },
          'the query job failed after it started; running it again',
        );
        await writer.abandon();
        return this.readDay(writer);
      });
      if (plan.refresh) {
        this.stats.refreshBilled(bytesBilled);
        this.refreshPolicy.billed(plan.fetchStartMs, bytesBilled);
      }
      await writer.finish();
      settleUndelivered(state, (hour) => sealsHour(plan, this.zone, day, hour));
      this.cache.recordDay(ref, day, bytesOf(state));
      if (plan.finalThroughMs > state.knownThroughMs) {
        state.knownThroughMs = plan.finalThroughMs;
        await recordManifest(this.cache, ref, day, state);
      }
    } catch (error) {
      await writer.abandon();
      state.lastFetchMs = -Infinity;
      rejectPending(state, error);
    }
  }

  /**
   * Reads the plan's hours of the day from sweeps of the UTC days they overlap, whole days each, so
   * that every container of the scope, neighbouring local days and later refreshes share them.
   * Resolves to what the sweeps it started billed.
   */
  private async readDay(writer: HourWriter): Promise<number> {
    const { ref, day, plan } = writer.target;
    const needs = sweepNeeds(plan, plan.refresh ? this.refreshScope(ref) : this.dayScope(ref), this.options);
    const first = this.zone.hourOfMicros(day, BigInt(plan.first.startMs) * 1000n) ?? -1;
    const planned = new Set(plan.hours);
    const reader = this.options.workloads?.over(this.sweeps) ?? this.sweeps;
    const sized = (found: SizedHour) => this.announce(writer.target, found);
    const wanted = (hour: number) => planned.has(hour);
    const lines = (hour: number) => writer.linesOf(hour);
    const target = { ref, day, first, wanted, lines, ...(!plan.refresh && { sized }) };
    return (await reader.readContainerDay(target, needs, (rows) => writer.writePage(rows))).bytesBilled;
  }

  /** Hands out an hour of the plan that becomes final, as an EarlyHour, until its file is written. */
  private announce({ ref, day, state, plan }: DayFetchTarget, sized: SizedHour): void {
    if (!sealsHour(plan, this.zone, day, sized.hour)) return;
    const mtimeMs = this.zone.hourRange(day, sized.hour)?.endMs ?? 0;
    const parts = { ref, day, mtimeMs, sized, lineOf: this.lineOf, log: this.options.log };
    offerEarlyHour(state, sized.hour, (more) => new EarlyHour({ ...parts, ...more }));
  }

  /** The container-day alone, for a namespace too big to sweep. */
  private async readDayAlone(ref: ContainerRef, day: DayName, plan: DayFetchPlan, writer: HourWriter): Promise<number> {
    const query = logQuery(this.source, {
      kind: 'entries',
      ref,
      day,
      range: plan.range,
      first: plan.first,
      fullEntries: this.options.output.format === 'json',
    });
    // A restarted query delivers everything again: finished hours are rewritten with the same bytes.
    const stats = await this.warehouse.runQuery(query, {
      page: (rows) => writer.writePage(rows),
      restart: () => writer.abandon(),
    });
    return stats.bytesBilled;
  }

  private dayScope(ref: ContainerRef): SweepScope {
    return this.options.sweepScope?.(ref) ?? { namespaces: [ref.namespace] };
  }

  /** A refresh sweeps every followed container's scope at once, so one query serves the round. */
  private refreshScope(ref: ContainerRef): SweepScope {
    return this.followed.refreshScope(this.dayScope(ref), (other) => this.dayScope(other));
  }
}
