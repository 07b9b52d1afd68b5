// Opens the parts that read hour files, wired the same way for the mount and for `fetch`, so both
// share one cache: the warehouse with its statistics, the log tables, the disk cache and the hour
// store.
import type { Logger } from 'pino';
import type { AuthMode } from '../bigquery/client.js';
import { createBigQueryClient } from '../bigquery/client.js';
import type { SchemaChoice } from '../bigquery/log-schemas.js';
import type { ReadApi } from '../bigquery/read-api.js';
import type { LogWarehouse } from '../bigquery/log-warehouse.js';
import type { LogSource, NamespaceRestriction, SweepScope } from '../bigquery/query-builder.js';
import { SpendingCap } from '../bigquery/spending-cap.js';
import type { ContainerRef } from '../model/log-path.js';
import { bigQueryBackend, instrumented } from '../bigquery/warehouse.js';
import { DEFAULT_MOUNT_NAME, DEFAULT_TIME_ZONE } from '../model/defaults.js';
import type { MountStats } from '../model/stats.js';
import { TimeZoneModel } from '../model/time-model.js';
import { cacheKey, DiskCache } from './disk-cache.js';
import type { OutputOptions } from './entry-format.js';
import { HourStore } from './hour-store.js';
import { RefreshBudget } from './refresh-budget.js';
import { WorkloadDays } from './workload-days.js';

/** What `openLogStore` needs: where the logs are, the cache, and how queries run. */
export interface LogStoreOptions {
  /** The mount's name in the config file, or what the command is (`fetch`); labels every query job. */
  name?: string;
  projectId: string;
  datasetId: string;
  apiEndpoint?: string;
  /** Which credentials requests carry; `auto` when absent. */
  auth?: AuthMode;
  /** How kept query results are read; the Storage Read API when absent. */
  readApi?: ReadApi;
  /** `host:port` of the Storage Read API of a BigQuery-compatible server. */
  readApiEndpoint?: string;
  cacheDir: string;
  /** Bound on the disk cache; least recently used container-days are evicted beyond it. */
  cacheMaxBytes: number;
  sealAfterMs: number;
  refreshMs: number;
  /** Bytes that refreshes of live hours may bill within any hour; unbounded when absent. */
  refreshBudgetBytes?: number;
  queryTimeoutMs: number;
  maxBytesBilled?: number;
  maxConcurrentQueries: number;
  /** IANA zone of day directories and hour files; UTC when absent. */
  timeZone?: string;
  /** Each line starts with the entry's timestamp. */
  timestamps?: boolean;
  format?: 'text' | 'json';
  /** Only these namespaces are visible and readable. */
  namespaces?: NamespaceRestriction;
  /** Which layout of log tables to read; `auto` (a sink's tables, else a Log Analytics view) when absent. */
  schema?: SchemaChoice;
  /** Only entries of this cluster (`--cluster`), for datasets that hold several. */
  cluster?: string;
  /** What one sweep reads along with a container; every container of its namespace when absent. */
  sweepScope?: (ref: ContainerRef) => SweepScope;
  /** What all queries may bill within any 24 hours (`--max-bytes-billed-per-day`); unbounded when absent. */
  maxBytesBilledPerDay?: number;
}

/** Bumped whenever the bytes of an hour file would change for the same rows. */
const FILE_FORMAT_VERSION = 1;

export interface LogStore {
  warehouse: LogWarehouse;
  source: LogSource;
  cache: DiskCache;
  hours: HourStore;
  zone: TimeZoneModel;
  /** Reads workload directories' days; the listings tell it which pods a workload has. */
  workloads: WorkloadDays;
}

function tableIdsOf(source: LogSource): string[] {
  return source.tables.map((table) => table.tableId);
}

/**
 * Opens the store. The warehouse is BigQuery through its client unless one is given (tests give a
 * fake); either way its queries are counted in `stats` and limited to `maxConcurrentQueries` at once.
 */
export async function openLogStore(
  options: LogStoreOptions,
  log: Logger,
  stats: MountStats,
  now: () => number,
  warehouse?: LogWarehouse,
): Promise<LogStore> {
  const backend =
    warehouse ??
    bigQueryBackend(createBigQueryClient(options), log, {
      timeoutMs: options.queryTimeoutMs,
      mountName: options.name ?? DEFAULT_MOUNT_NAME,
      ...(options.readApi !== undefined && { readApi: options.readApi }),
      readTarget: options,
      ...(options.maxBytesBilled !== undefined && { maxBytesBilled: options.maxBytesBilled }),
    });
  const spendingCap =
    options.maxBytesBilledPerDay === undefined
      ? undefined
      : new SpendingCap(backend, options.maxBytesBilledPerDay, options.maxBytesBilled, now);
  if (spendingCap) stats.measureSpendingWith(() => spendingCap.report());
  const access = instrumented(backend, {
    maxConcurrentQueries: options.maxConcurrentQueries,
    observer: stats,
    ...(spendingCap && { spendingCap }),
  });
  const discovered = await access.discoverSource(options.projectId, options.datasetId, options.schema);
  const source: LogSource = {
    ...discovered,
    ...(options.namespaces && { namespaces: options.namespaces }),
    ...(options.cluster !== undefined && { cluster: options.cluster }),
  };
  if (source.cluster !== undefined && !source.schema?.cluster) {
    throw new Error('--cluster needs a cluster column: add cluster = "<column>" to the custom schema');
  }
  const zone = new TimeZoneModel(options.timeZone ?? DEFAULT_TIME_ZONE);
  const output: OutputOptions = { timestamps: options.timestamps ?? false, format: options.format ?? 'text' };
  log.info(
    { schema: source.schema?.kind, layout: source.layout, tables: source.tables.map((table) => table.tableId) },
    'found log tables',
  );
  const cache = await DiskCache.open(
    options.cacheDir,
    cacheKey({
      project: options.projectId,
      dataset: options.datasetId,
      layout: source.layout,
      FILE_FORMAT_VERSION,
      zone: zone.zone,
      ...output,
      // A sink's key stays what it always was, so existing caches stay valid.
      ...(source.schema && source.schema.kind !== 'sink' && { schema: source.schema, tables: tableIdsOf(source) }),
      ...(source.cluster !== undefined && { cluster: source.cluster }),
      // Timestamps carried `Z` in every zone before; files written so are not reused.
      ...(output.timestamps && !zone.isUtc && { timestampOffsets: true }),
    }),
    options.cacheMaxBytes,
  );
  stats.measureCacheWith(() => cache.bytesUsed);
  const workloads = new WorkloadDays((name) => cache.createScratch(name));
  const hours = new HourStore(
    access,
    source,
    cache,
    {
      sealAfterMs: options.sealAfterMs,
      refreshMs: options.refreshMs,
      ...(options.refreshBudgetBytes !== undefined && {
        refreshBudget: new RefreshBudget(options.refreshBudgetBytes, log),
      }),
      now,
      output,
      zone,
      ...(options.sweepScope && { sweepScope: options.sweepScope }),
      log,
      workloads,
    },
    stats,
  );
  cache.onEviction((key) => hours.forgetDay(key));
  return { warehouse: access, source, cache, hours, zone, workloads };
}
