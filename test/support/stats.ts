// What a mount says it queried, billed and served (<mountpoint>/.bqlogfs/stats), and what the local
// BigQuery server counted on its side (/emulator/stats).
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { EmulatorStats } from '../../src/emulator/jobs.js';
import type { QueryKind, RecentQuery } from '../../src/model/stats.js';

export interface MountStatsFile {
  queries: number;
  queriesRunning: number;
  peakQueriesRunning: number;
  failedQueries: number;
  bytesProcessed: number;
  bytesBilled: number;
  cacheHits: number;
  cacheMisses: number;
  refreshes: number;
  refreshBytesBilled: number;
  refreshesSkipped: number;
  cacheBytes: number;
  /** Hour files an earlier daemon left in the cache, found to match their manifest's checksums. */
  cacheFilesChecked: number;
  reads: number;
  bytesServed: number;
  /** Reads of `reads` the FUSE binding's threads answered from a cached file (fuse-binding.ts). */
  directReads: number;
  earlyReads: number;
  attributeRequests: number;
  errors: Record<string, number>;
  failureReasons: Record<string, number>;
  recentQueries: RecentQuery[];
}

export async function readStats(mountpoint: string): Promise<MountStatsFile> {
  return JSON.parse(await readFile(join(mountpoint, '.bqlogfs/stats'), 'utf8')) as MountStatsFile;
}

/**
 * The statistics once every query the mount started has ended (a day's fetch outlives the read that
 * began it). Each look waits a second first, so that a fetch a read began has been sent.
 */
export async function settledStats(mountpoint: string): Promise<MountStatsFile> {
  for (;;) {
    await sleep(1_100);
    const stats = await readStats(mountpoint);
    if (stats.queriesRunning === 0) return stats;
  }
}

/** The recent queries of one kind, and of one subject (such as `ns/pod/container/day`) if given. */
export function recentQueries(stats: MountStatsFile, kind: QueryKind, subject?: string): RecentQuery[] {
  return stats.recentQueries.filter(
    (query) => query.kind === kind && (subject === undefined || query.subject === subject),
  );
}

/** The local server's counters: queries run, dry runs, bytes billed, … */
export async function serverStats(url: string): Promise<EmulatorStats> {
  return (await (await fetch(`${url}/emulator/stats`)).json()) as EmulatorStats;
}
