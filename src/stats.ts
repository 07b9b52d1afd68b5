// Counters behind <mountpoint>/.bqlogfs/stats: what the mount cost and what it served.
import type { QueryStats } from './bigquery-access.js';

export interface RecentQuery extends QueryStats {
  purpose: string;
  at: string;
}

const RECENT_QUERIES = 50;

export class MountStats {
  queries = 0;
  failedQueries = 0;
  bytesProcessed = 0;
  bytesBilled = 0;
  cacheHits = 0;
  cacheMisses = 0;
  bytesServed = 0;
  private readonly recent: RecentQuery[] = [];

  recordQuery(purpose: string, stats: QueryStats): void {
    this.queries++;
    this.bytesProcessed += stats.bytesProcessed;
    this.bytesBilled += stats.bytesBilled;
    this.recent.push({ purpose, at: new Date().toISOString(), ...stats });
    if (this.recent.length > RECENT_QUERIES) this.recent.shift();
  }

  toJSON(): Record<string, unknown> {
    return {
      queries: this.queries,
      failedQueries: this.failedQueries,
      bytesProcessed: this.bytesProcessed,
      bytesBilled: this.bytesBilled,
      cacheHits: this.cacheHits,
      cacheMisses: this.cacheMisses,
      bytesServed: this.bytesServed,
      recentQueries: this.recent,
    };
  }
}
