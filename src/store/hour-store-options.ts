// What an hour store is told at its start, and the limits it keeps to for sweeps.
import type { Logger } from 'pino';
import type { SweepScope } from '../bigquery/query-builder.js';
import type { ContainerRef } from '../model/log-path.js';
import type { TimeZoneModel } from '../model/time-model.js';
import { linePrefixBytes, linesAreTextAsIs, type OutputOptions } from './entry-format.js';
import type { RefreshBudget } from './refresh-budget.js';
import type { SweepOptions, Sweeps } from './sweeps.js';

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
  /**
   * Which containers one sweep reads along with `ref`: by default every container of its namespace
   * (the mount); `fetch` sweeps one container name instead.
   */
  sweepScope?: (ref: ContainerRef) => SweepScope;
  /** Told of a sweep whose result could not be read and is queried again. */
  log?: Logger;
  /** Workload directories (`@api`): read from the same sweeps, merged from their pods' rows. */
  workloads?: { over(sweeps: Sweeps): Pick<Sweeps, 'readContainerDay'> };
}

/** BigQuery keeps a query's result for about a day; a sweep older than this is queried again. */
export const SWEEP_RESULT_LIFETIME_MS = 12 * 3_600_000;
/** Failures that say a sweep is too big for BigQuery to sort or return; the day is then read alone. */
export const SWEEP_TOO_BIG = new Set(['responseTooLarge', 'resourcesExceeded']);

/** How the store's sweeps read rows for its output options; `stamp` writes `--timestamps`' times. */
export function sweepOptionsOf(options: HourStoreOptions, stamp: (micros: bigint) => string): SweepOptions {
  return {
    zone: options.zone,
    now: options.now,
    fullEntries: options.output.format === 'json',
    textAsBytes: linesAreTextAsIs(options.output),
    linePrefixBytes: linePrefixBytes(options.output, stamp),
    resultLifetimeMs: SWEEP_RESULT_LIFETIME_MS,
  };
}
