// Counters behind <mountpoint>/.bqlogfs/stats and the metrics endpoint: what the mount cost and
// what it served.
import type { QueryStats } from './bigquery-access.js';

export interface RecentQuery extends QueryStats {
  purpose: string;
  at: string;
}

/** Told about events whose individual values matter (durations), not only their totals. */
export interface StatsListener {
  queryDone?(purpose: string, stats: QueryStats): void;
  readDone?(bytes: number, durationMs: number): void;
}

const RECENT_QUERIES = 50;

export class MountStats {
  /** Queries sent, counted when sent; bytes are added when each one ends. */
  queries = 0;
  queriesRunning = 0;
  /** The most queries that ever ran at once. */
  peakQueriesRunning = 0;
  failedQueries = 0;
  bytesProcessed = 0;
  bytesBilled = 0;
  cacheHits = 0;
  cacheMisses = 0;
  /** Fetches of live hours again, what they billed, and those the refresh budget refused. */
  refreshes = 0;
  refreshBytesBilled = 0;
  refreshesSkipped = 0;
  /** read() calls answered, and their bytes. */
  reads = 0;
  bytesServed = 0;
  /** Errors returned to the kernel, by errno name. */
  readonly errors: Record<string, number> = {};
  /** Bytes the disk cache holds now; set by whoever owns the cache. */
  cacheBytes: () => number = () => 0;
  private readonly recent: RecentQuery[] = [];
  private readonly listeners: StatsListener[] = [];

  listen(listener: StatsListener): void {
    this.listeners.push(listener);
  }

  queryStarted(): void {
    this.queries++;
    this.queriesRunning++;
    this.peakQueriesRunning = Math.max(this.peakQueriesRunning, this.queriesRunning);
  }

  queryFailed(): void {
    this.queriesRunning--;
    this.failedQueries++;
  }

  recordQuery(purpose: string, stats: QueryStats): void {
    this.queriesRunning--;
    this.bytesProcessed += stats.bytesProcessed;
    this.bytesBilled += stats.bytesBilled;
    this.recent.push({ purpose, at: new Date().toISOString(), ...stats });
    if (this.recent.length > RECENT_QUERIES) this.recent.shift();
    for (const listener of this.listeners) listener.queryDone?.(purpose, stats);
  }

  recordRead(bytes: number, durationMs: number): void {
    this.reads++;
    this.bytesServed += bytes;
    for (const listener of this.listeners) listener.readDone?.(bytes, durationMs);
  }

  recordError(errno: string): void {
    this.errors[errno] = (this.errors[errno] ?? 0) + 1;
  }

  toJSON(): Record<string, unknown> {
    return {
      queries: this.queries,
      queriesRunning: this.queriesRunning,
      peakQueriesRunning: this.peakQueriesRunning,
      failedQueries: this.failedQueries,
      bytesProcessed: this.bytesProcessed,
      bytesBilled: this.bytesBilled,
      cacheHits: this.cacheHits,
      cacheMisses: this.cacheMisses,
      refreshes: this.refreshes,
      refreshBytesBilled: this.refreshBytesBilled,
      refreshesSkipped: this.refreshesSkipped,
      cacheBytes: this.cacheBytes(),
      reads: this.reads,
      bytesServed: this.bytesServed,
      errors: this.errors,
      recentQueries: this.recent,
    };
  }
}
