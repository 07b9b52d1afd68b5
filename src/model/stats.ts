// Counters behind <mountpoint>/.bqlogfs/stats and the metrics endpoint: what the mount cost and
// what it served. Other modules report events through the methods; only this class changes counts.

/** What a query is for; every statement the project sends is of one of these kinds. */
export type QueryKind = 'sweep' | 'entries' | 'listing' | 'hours' | 'pods' | 'search';

/** A query as statistics and logs name it: its kind, and what it is about (a path or a window). */
export interface QueryLabel {
  kind: QueryKind;
  /** `namespace/pod/container/day` for entries, empty for the window's listing, … */
  subject: string;
}

export interface QueryStats {
  jobId: string;
  bytesProcessed: number;
  bytesBilled: number;
  durationMs: number;
  rows: number;
}

/** `entries shop/web-1/app/2026-11-25`: how a query reads in logs and in `recentQueries`. */
export function describeQuery(label: QueryLabel): string {
  return label.subject === '' ? label.kind : `${label.kind} ${label.subject}`;
}

export interface RecentQuery extends QueryStats, QueryLabel {
  purpose: string;
  at: string;
}

/** Told about events whose individual values matter (durations), not only their totals. */
export interface StatsListener {
  queryDone?(label: QueryLabel, stats: QueryStats): void;
  readDone?(bytes: number, durationMs: number): void;
}

const RECENT_QUERIES = 50;

/** A daily spending cap's figures: the cap, what was billed within the last 24 hours, and what is left. */
export interface SpendingReport {
  capBytes: number;
  billedLast24hBytes: number;
  leftBytes: number;
}

export class MountStats {
  private counts = {
    /** Queries sent, counted when sent; bytes are added when each one ends. */
    queries: 0,
    queriesRunning: 0,
    /** The most queries that ever ran at once. */
    peakQueriesRunning: 0,
    failedQueries: 0,
    bytesProcessed: 0,
    bytesBilled: 0,
    cacheHits: 0,
    cacheMisses: 0,
    /** Fetches of live hours again, what they billed, and those the refresh budget refused. */
    refreshes: 0,
    refreshBytesBilled: 0,
    refreshesSkipped: 0,
    /** read() calls answered, and their bytes. */
    reads: 0,
    bytesServed: 0,
    /** Reads of a cold hour answered before all of it was written (EarlyHour). */
    earlyReads: 0,
    /** Hour files an earlier daemon left in the cache, found to match the checksums of their manifest. */
    cacheFilesChecked: 0,
    /** getattr calls and lookups the kernel sent (it keeps a finished hour's attributes for a second). */
    attributeRequests: 0,
  };
  /** Errors returned to the kernel, by errno name. */
  private readonly errorCounts: Record<string, number> = {};
  /** Failed queries by BigQuery's reason (`notFound`, `timeout`, …); they sum to failedQueries. */
  private readonly failureCounts: Record<string, number> = {};
  private cacheBytesOf: () => number = () => 0;
  private servedElsewhere: () => { reads: number; bytes: number } = () => ({ reads: 0, bytes: 0 });
  private spendingOf: (() => SpendingReport) | undefined;
  private readonly recent: RecentQuery[] = [];
  private readonly listeners: StatsListener[] = [];

  get queries(): number {
    return this.counts.queries;
  }
  get queriesRunning(): number {
    return this.counts.queriesRunning;
  }
  get failedQueries(): number {
    return this.counts.failedQueries;
  }
  get bytesProcessed(): number {
    return this.counts.bytesProcessed;
  }
  get bytesBilled(): number {
    return this.counts.bytesBilled;
  }
  get cacheHits(): number {
    return this.counts.cacheHits;
  }
  get cacheMisses(): number {
    return this.counts.cacheMisses;
  }
  get refreshes(): number {
    return this.counts.refreshes;
  }
  get refreshBytesBilled(): number {
    return this.counts.refreshBytesBilled;
  }
  get refreshesSkipped(): number {
    return this.counts.refreshesSkipped;
  }
  get reads(): number {
    return this.counts.reads + this.servedElsewhere().reads;
  }
  get bytesServed(): number {
    return this.counts.bytesServed + this.servedElsewhere().bytes;
  }
  /** Reads of `reads` the FUSE binding's threads answered themselves. */
  get directReads(): number {
    return this.servedElsewhere().reads;
  }
  get earlyReads(): number {
    return this.counts.earlyReads;
  }
  get cacheFilesChecked(): number {
    return this.counts.cacheFilesChecked;
  }
  get attributeRequests(): number {
    return this.counts.attributeRequests;
  }
  get errors(): Readonly<Record<string, number>> {
    return this.errorCounts;
  }
  get failureReasons(): Readonly<Record<string, number>> {
    return this.failureCounts;
  }
  get peakQueriesRunning(): number {
    return this.counts.peakQueriesRunning;
  }
  /** Bytes the disk cache holds now. */
  get cacheBytes(): number {
    return this.cacheBytesOf();
  }

  /** Where the cache's size is read from; set by whoever owns the cache. */
  measureCacheWith(bytesUsed: () => number): void {
    this.cacheBytesOf = bytesUsed;
  }

  /** Reads answered without `readDone` (by the FUSE binding's threads), counted in `reads` and `bytesServed`. */
  countReadsServedElsewhere(counts: () => { reads: number; bytes: number }): void {
    this.servedElsewhere = counts;
  }

  /** Where the daily spending cap's figures are read from, when the mount has one. */
  measureSpendingWith(report: () => SpendingReport): void {
    this.spendingOf = report;
  }

  listen(listener: StatsListener): void {
    this.listeners.push(listener);
  }

  queryStarted(): void {
    this.counts.queries++;
    this.counts.queriesRunning++;
    this.counts.peakQueriesRunning = Math.max(this.counts.peakQueriesRunning, this.counts.queriesRunning);
  }

  queryFailed(_label: QueryLabel, failure: { reason: string }): void {
    this.counts.queriesRunning--;
    this.counts.failedQueries++;
    this.failureCounts[failure.reason] = (this.failureCounts[failure.reason] ?? 0) + 1;
  }

  queryDone(label: QueryLabel, stats: QueryStats): void {
    this.counts.queriesRunning--;
    this.counts.bytesProcessed += stats.bytesProcessed;
    this.counts.bytesBilled += stats.bytesBilled;
    const { kind, subject } = label;
    this.recent.push({ purpose: describeQuery(label), kind, subject, at: new Date().toISOString(), ...stats });
    if (this.recent.length > RECENT_QUERIES) this.recent.shift();
    for (const listener of this.listeners) listener.queryDone?.(label, stats);
  }

  cacheHit(): void {
    this.counts.cacheHits++;
  }

  cacheMiss(): void {
    this.counts.cacheMisses++;
  }

  refreshStarted(): void {
    this.counts.refreshes++;
  }

  refreshBilled(bytes: number): void {
    this.counts.refreshBytesBilled += bytes;
  }

  refreshSkipped(): void {
    this.counts.refreshesSkipped++;
  }

  readDone(bytes: number, durationMs: number): void {
    this.counts.reads++;
    this.counts.bytesServed += bytes;
    for (const listener of this.listeners) listener.readDone?.(bytes, durationMs);
  }

  attributesRequested(): void {
    this.counts.attributeRequests++;
  }

  earlyRead(): void {
    this.counts.earlyReads++;
  }

  cacheFileChecked(): void {
    this.counts.cacheFilesChecked++;
  }

  errorReturned(errno: string): void {
    this.errorCounts[errno] = (this.errorCounts[errno] ?? 0) + 1;
  }

  toJSON(): Record<string, unknown> {
    const { reads, bytesServed, earlyReads, attributeRequests, cacheFilesChecked, ...beforeCache } = this.counts;
    const direct = this.servedElsewhere();
    return {
      ...beforeCache,
      cacheBytes: this.cacheBytes,
      cacheFilesChecked,
      reads: reads + direct.reads,
      bytesServed: bytesServed + direct.bytes,
      directReads: direct.reads,
      earlyReads,
      attributeRequests,
      errors: this.errorCounts,
      failureReasons: this.failureCounts,
      ...(this.spendingOf && { spendingCap: this.spendingOf() }),
      recentQueries: this.recent,
    };
  }
}
