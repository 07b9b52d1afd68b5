// Limits how many queries run at once (`--max-concurrent-queries`); the rest wait their turn in
// order. The wait counts toward each query's deadline, as FUSE's own timeout does.
import type { QueryStats } from '../model/stats.js';
import type { SchemaChoice } from './log-schemas.js';
import type { LogQuery } from './log-queries.js';
import type { LogWarehouse, PageSink, QueryResult, RunOptions } from './log-warehouse.js';
import type { LogSource } from './query-builder.js';

export class ConcurrencyLimit implements LogWarehouse {
  private running = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(
    private readonly inner: LogWarehouse,
    private readonly limit: number,
  ) {}

  discoverSource(projectId: string, datasetId: string, choice?: SchemaChoice): Promise<LogSource> {
    return this.inner.discoverSource(projectId, datasetId, choice);
  }

  runQuery(query: LogQuery, sink: PageSink, options: RunOptions = {}): Promise<QueryStats> {
    const requested = { ...options, requestedAtMs: options.requestedAtMs ?? Date.now() };
    return this.inTurn(() => this.inner.runQuery(query, sink, requested));
  }

  openResult(query: LogQuery, options: RunOptions = {}): Promise<QueryResult> {
    const requested = { ...options, requestedAtMs: options.requestedAtMs ?? Date.now() };
    return this.inTurn(() => this.inner.openResult(query, requested));
  }

  private async inTurn<T>(work: () => Promise<T>): Promise<T> {
    if (this.running >= this.limit) await new Promise<void>((resolve) => this.waiting.push(resolve));
    this.running++;
    try {
      return await work();
    } finally {
      this.running--;
      this.waiting.shift()?.();
    }
  }
}
