// Reports every query that runs, its outcome and what it billed, to one observer (a mount's
// statistics). Placed inside the concurrency limit, so a query counts as running once it has a slot.
import type { QueryLabel, QueryStats } from '../model/stats.js';
import { describeFailure, type QueryFailure } from './failures.js';
import type { SchemaChoice } from './log-schemas.js';
import type { LogQuery } from './log-queries.js';
import type { LogWarehouse, PageSink, QueryResult, RunOptions } from './log-warehouse.js';
import type { LogSource } from './query-builder.js';

export interface QueryObserver {
  queryStarted(label: QueryLabel): void;
  queryDone(label: QueryLabel, stats: QueryStats): void;
  queryFailed(label: QueryLabel, failure: QueryFailure): void;
}

export class ObservedWarehouse implements LogWarehouse {
  constructor(
    private readonly inner: LogWarehouse,
    private readonly observer: QueryObserver,
  ) {}

  discoverSource(projectId: string, datasetId: string, choice?: SchemaChoice): Promise<LogSource> {
    return this.inner.discoverSource(projectId, datasetId, choice);
  }

  async runQuery(query: LogQuery, sink: PageSink, options?: RunOptions): Promise<QueryStats> {
    const stats = await this.observe(query, () => this.inner.runQuery(query, sink, options));
    this.observer.queryDone(query.label, stats);
    return stats;
  }

  async openResult(query: LogQuery, options?: RunOptions): Promise<QueryResult> {
    const result = await this.observe(query, () => this.inner.openResult(query, options));
    this.observer.queryDone(query.label, result.stats);
    return result;
  }

  private async observe<T>(query: LogQuery, run: () => Promise<T>): Promise<T> {
    this.observer.queryStarted(query.label);
    try {
      return await run();
    } catch (error) {
      const failure = describeFailure(error);
      this.observer.queryFailed(query.label, failure);
      throw failure;
    }
  }
}
