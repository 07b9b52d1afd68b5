// Puts a warehouse together: the backend (BigQuery through its client, or a fake), the daily
// spending cap, statistics, and the concurrency limit in front of them all.
import { userInfo } from 'node:os';
import type { BigQuery } from '@google-cloud/bigquery';
import type { Logger } from 'pino';
import { RESULT_PAGE_ROWS } from '../model/defaults.js';
import { ConcurrencyLimit } from './concurrency-limit.js';
import type { LogWarehouse } from './log-warehouse.js';
import { ObservedWarehouse, type QueryObserver } from './observed-warehouse.js';
import { BigQueryWarehouse } from './query-jobs.js';
import { SpendingCap } from './spending-cap.js';

export interface BackendOptions {
  /** Passed to BigQuery as maximumBytesBilled; undefined means no limit. */
  maxBytesBilled?: number;
  /** A query that has not delivered its last page by then, retries included, is abandoned. */
  timeoutMs: number;
  /** Names the mount in every job's labels. */
  mountName: string;
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

/** BigQuery itself, through its client. */
export function bigQueryBackend(client: BigQuery, log: Logger, options: BackendOptions): LogWarehouse {
  return new BigQueryWarehouse(client, log, {
    pageRows: RESULT_PAGE_ROWS,
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
