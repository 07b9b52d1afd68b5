// The LogTree as a mount wires it (store, listings, tree) over the fake warehouse, with a clock the
// tests move: what the tree and the FUSE adapter tests stand on.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { pino } from 'pino';
import type { Test } from 'tap';
import type { LogWarehouse } from '../../src/bigquery/log-warehouse.js';
import type { NamespaceRestriction } from '../../src/bigquery/query-builder.js';
import { LogTree } from '../../src/fs/log-tree.js';
import { namespacePolicy } from '../../src/model/namespace-policy.js';
import { MountStats } from '../../src/model/stats.js';
import { Listings } from '../../src/store/listings.js';
import { openLogStore, type LogStore, type LogStoreOptions } from '../../src/store/log-store.js';
import { FakeWarehouse, type FakeEntry } from './fake-warehouse.js';

export const SEAL_AFTER_MS = 5 * 60_000;
export const REFRESH_MS = 10_000;
export const LOOKBACK_MS = 7 * 86_400_000;
export const LISTING_TTL_MS = 30_000;
/** The clock starts on 2026-03-10 at 12:30 UTC: hour 12 is filling. */
export const TODAY = '2026-03-10';
export const YESTERDAY = '2026-03-09';
export const START_MS = Date.parse(`${TODAY}T12:30:00Z`);

export interface Stack {
  fake: FakeWarehouse;
  store: LogStore;
  listings: Listings;
  /** Resolves once no fetch is writing files any more, so the next access sees what it left. */
  settled(): Promise<void>;
  /** Day fetches still reading or writing. */
  fetchesRunning(): number;
  tree: LogTree;
  stats: MountStats;
  advance(ms: number): void;
  /** Sets the clock to an RFC 3339 time. */
  setClock(time: string): void;
}

export interface StackOptions {
  /** What the fake warehouse holds. */
  entries: FakeEntry[];
  /** Where the clock starts; START_MS, when the mount started, if absent. */
  startMs?: number;
  timeZone?: string;
  namespaces?: NamespaceRestriction;
  refreshBudgetBytes?: number;
  pageRows?: number;
  wrap?: (fake: FakeWarehouse) => LogWarehouse;
}

/** The tree as a mount wires it, over a fake holding `entries`. */
/** The store's options as the tests' mounts have them, with `overrides` on top. */
export function testStoreOptions(cacheDir: string, overrides: Partial<LogStoreOptions> = {}): LogStoreOptions {
  return {
    projectId: 'test-project',
    datasetId: 'logs',
    cacheDir,
    cacheMaxBytes: 1 << 30,
    sealAfterMs: SEAL_AFTER_MS,
    refreshMs: REFRESH_MS,
    queryTimeoutMs: 10_000,
    maxConcurrentQueries: 4,
    ...overrides,
  };
}

export async function openTreeStack(t: Test, options: StackOptions): Promise<Stack> {
  let nowMs = options.startMs ?? START_MS;
  const now = () => nowMs;
  const fake = new FakeWarehouse(options.pageRows !== undefined ? { pageRows: options.pageRows } : {});
  fake.insert(options.entries);
  const cacheDir = await mkdtemp(join(tmpdir(), 'bqlogfs-tree-'));
  let running = () => 0;
  t.teardown(async () => {
    // The rest of a day may still be written after a test has what it needs.
    for (let waited = 0; running() > 0 && waited < 5_000; waited += 10) await sleep(10);
    await rm(cacheDir, { recursive: true, force: true });
  });
  const stats = new MountStats();
  const store = await openLogStore(
    testStoreOptions(cacheDir, {
      ...(options.timeZone !== undefined && { timeZone: options.timeZone }),
      ...(options.refreshBudgetBytes !== undefined && { refreshBudgetBytes: options.refreshBudgetBytes }),
      ...(options.namespaces && { namespaces: options.namespaces }),
    }),
    pino({ level: 'silent' }),
    stats,
    now,
    options.wrap?.(fake) ?? fake,
  );
  running = () => store.hours.fetchesRunning;
  const listings = new Listings(store.warehouse, store.source, store.hours, {
    lookbackMs: LOOKBACK_MS,
    listingTtlMs: LISTING_TTL_MS,
    sealAfterMs: SEAL_AFTER_MS,
    now,
    zone: store.zone,
  });
  const tree = new LogTree(listings, store.hours, stats, {
    mountedAtMs: START_MS,
    now,
    zone: store.zone,
    allowsNamespace: namespacePolicy(options.namespaces),
    refreshMs: REFRESH_MS,
  });
  t.teardown(() => tree.closeAll());
  const settled = async () => {
    for (let tries = 0; store.hours.fetchesRunning > 0; tries++) {
      if (tries > 400) throw new Error('a fetch did not end');
      await sleep(5);
    }
  };
  return {
    fake,
    store,
    listings,
    settled,
    fetchesRunning: () => store.hours.fetchesRunning,
    tree,
    stats,
    advance: (ms) => (nowMs += ms),
    setClock: (time) => (nowMs = Date.parse(time)),
  };
}
