// `--max-bytes-billed-per-day`: what a mount may bill within any 24 hours. A query is sent only while
// something is left, and BigQuery is told to refuse it (maximumBytesBilled, at no charge) if it
// would bill more than what is left; so the cap holds even for a query bigger than expected.
import type { QueryStats, SpendingReport } from '../model/stats.js';
import { QueryFailure } from './failures.js';
import type { SchemaChoice } from './log-schemas.js';
import type { LogQuery } from './log-queries.js';
import type { LogWarehouse, PageSink, QueryResult, RunOptions } from './log-warehouse.js';
import type { LogSource } from './query-builder.js';

const WINDOW_MS = 24 * 3_600_000;
/** BigQuery bills at least this much per query, so less than it left means nothing can run. */
const MIN_QUERY_BYTES = 10 * 2 ** 20;

export class SpendingCap implements LogWarehouse {
  private readonly billed: { atMs: number; bytes: number }[] = [];

  constructor(
    private readonly inner: LogWarehouse,
    private readonly capBytes: number,
    /** `--max-bytes-billed`, which the backend applies to every query anyway. */
    private readonly perQueryLimit: number | undefined,
    private readonly now: () => number = Date.now,
  ) {}

  report(): SpendingReport {
    const billedLast24hBytes = this.billedLast24h();
    return { capBytes: this.capBytes, billedLast24hBytes, leftBytes: Math.max(0, this.capBytes - billedLast24hBytes) };
  }

  discoverSource(projectId: string, datasetId: string, choice?: SchemaChoice): Promise<LogSource> {
    return this.inner.discoverSource(projectId, datasetId, choice);
  }

  async runQuery(query: LogQuery, sink: PageSink, options: RunOptions = {}): Promise<QueryStats> {
    const stats = await this.capped(options, (limited) => this.inner.runQuery(query, sink, limited));
    this.record(stats.bytesBilled);
    return stats;
  }

  async openResult(query: LogQuery, options: RunOptions = {}): Promise<QueryResult> {
    const result = await this.capped(options, (limited) => this.inner.openResult(query, limited));
    this.record(result.stats.bytesBilled);
    return result;
  }

  /**
   * Runs with maximumBytesBilled lowered to what is left. BigQuery's refusal for that limit is the
   * cap's when the cap was the lower of the two.
   */
  private async capped<T>(options: RunOptions, run: (limited: RunOptions) => Promise<T>): Promise<T> {
    const left = this.report().leftBytes;
    if (left < MIN_QUERY_BYTES) throw this.reached();
    const capBinds = left < Math.min(options.maxBytesBilled ?? Infinity, this.perQueryLimit ?? Infinity);
    try {
      return await run(capBinds ? { ...options, maxBytesBilled: left } : options);
    } catch (error) {
      if (capBinds && error instanceof QueryFailure && error.reason === 'bytesBilledLimitExceeded') {
        throw new QueryFailure(
          `${error.message} (what is left of the daily cap)`,
          'spendingCapReached',
          this.reached().hint,
        );
      }
      throw error;
    }
  }

  private reached(): QueryFailure {
    const { billedLast24hBytes } = this.report();
    return new QueryFailure(
      `the mount billed ${billedLast24hBytes} of its ${this.capBytes} bytes in the last 24 hours`,
      'spendingCapReached',
      'raise --max-bytes-billed-per-day, or wait; finished hours already read are still served from the cache',
    );
  }

  private record(bytes: number): void {
    this.billed.push({ atMs: this.now(), bytes });
  }

  private billedLast24h(): number {
    const since = this.now() - WINDOW_MS;
    while (this.billed.length > 0 && (this.billed[0]?.atMs ?? 0) <= since) this.billed.shift();
    return this.billed.reduce((sum, entry) => sum + entry.bytes, 0);
  }
}
