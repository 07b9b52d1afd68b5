// Puts a warehouse together: the backend (BigQuery through its client, or a fake), the daily
// spending cap, statistics, and the concurrency limit in front of them all.
import { userInfo } from 'node:os';
import type { BigQuery } from '@google-cloud/bigquery';
import type { Logger } from 'pino';
import { REST_PAGES_IN_FLIGHT, RESULT_PAGE_ROWS } from '../model/defaults.js';
import { ConcurrencyLimit } from './concurrency-limit.js';
import type { LogWarehouse } from './log-warehouse.js';
import { ObservedWarehouse, type QueryObserver } from './observed-warehouse.js';
import { BigQueryWarehouse } from './query-jobs.js';
import { CallPolicy } from './call-policy.js';
import type { ReadApi } from './read-api.js';
import { createReadClient, restOnlyReason, type ReadClientTarget } from './read-client.js';
import { StorageResults } from './storage-results.js';
import { SpendingCap } from './spending-cap.js';

export interface BackendOptions {
  /** Passed to BigQuery as maximumBytesBilled; undefined means no limit. */
  maxBytesBilled?: number;
  /** A query that has not delivered its last page by then, retries included, is abandoned. */
  timeoutMs: number;
  /** Names the mount in every job's labels. */
  mountName: string;
  /** How kept results are read; the Storage Read API (where `readTarget` says) when absent. */
  readApi?: ReadApi;
  /** Where the Storage Read API is, and which credentials it gets. */
  readTarget: ReadClientTarget;
}

export interface Instruments {
  maxConcurrentQueries: number;
  observer?: QueryObserver;
  spendingCap?: SpendingCap;
}

/** A label value as BigQuery accepts one: lower case letters, digits, `_` and `-`, at most 63 characters. */
export function labelValue(text: string): string {
  return (
    text
      .toLowerCase()
      .replace(/[^a-z0-9_-]/g, '_')
      .slice(0, 63) || 'unknown'
  );
}

function currentUser(): string {
  try {
    return userInfo().username;
  } catch {
    return String(process.getuid?.() ?? 'unknown');
  }
}

/** The Storage Read API reader of kept results, or undefined when they are read as REST pages. */
function storageResults(client: BigQuery, log: Logger, options: BackendOptions): StorageResults | undefined {
  if (options.readApi === 'rest') return undefined;
  const target = options.readTarget;
  const restOnly = restOnlyReason(target);
  if (restOnly !== undefined) {
    log.info({ reason: restOnly }, 'query results are read as REST pages');
    return undefined;
  }
  // Loading the client (gRPC, protobufs) takes about a second: it starts now, not at the first read.
  const readClient = createReadClient(target);
  readClient.catch((error: unknown) => log.warn({ err: String(error) }, 'the Storage Read API client failed to load'));
  return new StorageResults(() => readClient, client.projectId, new CallPolicy(options.timeoutMs, log));
}

/** BigQuery itself, through its client. */
export function bigQueryBackend(client: BigQuery, log: Logger, options: BackendOptions): LogWarehouse {
  const storage = storageResults(client, log, options);
  return new BigQueryWarehouse(client, log, {
    ...(storage && { storage }),
    pageRows: RESULT_PAGE_ROWS,
    pagesInFlight: REST_PAGES_IN_FLIGHT,
    timeoutMs: options.timeoutMs,
    labels: { bqlogfs_user: labelValue(currentUser()), bqlogfs_mount: labelValue(options.mountName) },
    ...(options.maxBytesBilled !== undefined && { maxBytesBilled: options.maxBytesBilled }),
  });
}

/** The cap (if any), then statistics, then the concurrency limit, around any backend. */
export function instrumented(backend: LogWarehouse, instruments: Instruments): LogWarehouse {
  const capped = instruments.spendingCap ?? backend;
  const observed = instruments.observer ? new ObservedWarehouse(capped, instruments.observer) : capped;
  return new ConcurrencyLimit(observed, instruments.maxConcurrentQueries);
}
