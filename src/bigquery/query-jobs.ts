// The warehouse backed by BigQuery itself, through the official client: query jobs whose result
// pages are handed on one at a time. Transient failures are retried here, and only here (see
// retry-policy.ts), within each query's deadline.
import type { BigQuery, Job, Query } from '@google-cloud/bigquery';
import type { Logger } from 'pino';
import { describeQuery, type QueryStats } from '../model/stats.js';
import { CallPolicy } from './call-policy.js';
import { describeFailure, failure as failureOf, JobFailed, timedOut } from './failures.js';
import { JobControl } from './job-control.js';
import type { SchemaChoice } from './log-schemas.js';
import type { LogQuery } from './log-queries.js';
import type { LogWarehouse, PageSink, QueryResult, RawRow, RunOptions, TextRow } from './log-warehouse.js';
import { readPagesAhead } from './pages-ahead.js';
import { ResultPages, type Page } from './result-pages.js';
import type { LogSource } from './query-builder.js';
import type { RetryBudget } from './retry-policy.js';
import { discoverSource } from './source-discovery.js';
import { linesOfRows, type LineSpec } from './line-spec.js';
import { ReadApiUnavailable, STORAGE_READ_HINT } from './storage-failures.js';
import type { ResultTable, StorageResults } from './storage-results.js';

export interface QueryJobOptions {
  /** Passed to BigQuery as maximumBytesBilled; undefined means no limit. */
  maxBytesBilled?: number;
  /** Rows per result page. */
  pageRows: number;
  /** Pages of a kept result asked for at once when it is read as REST pages. */
  pagesInFlight: number;
  /** Job labels, so that INFORMATION_SCHEMA.JOBS can attribute cost; `bqlogfs_purpose` is added per query. */
  labels: Record<string, string>;
  /** A query that has not delivered its last page by then, retries included, is abandoned. */
  timeoutMs: number;
  /** Kept results are read through the Storage Read API when given, else as REST pages. */
  storage?: StorageResults;
}

type Interceptor = BigQuery['interceptors'][number];

/**
 * The client's own retries (retry-request: up to 3 more attempts on 429/5xx, with waits that know
 * nothing of our deadline) are switched off for every request, so there is one policy, ours, and it
 * also covers what the client would not retry (a failed job, a page cut short). Only the client's
 * constructor can also switch off its retries of requests that got no response at all (autoRetry:
 * false); see client.ts. `CallPolicy.timed` keeps any client from waiting past the deadline.
 */
const noClientRetries: Interceptor = {
  request: (options) => ({ ...options, maxRetries: 0 }) as ReturnType<Interceptor['request']>,
};

export class BigQueryWarehouse implements LogWarehouse {
  private readonly policy: CallPolicy;
  private readonly jobs: JobControl;
  private readonly pages: ResultPages;
  /** The dataset's location, once a table's metadata told it. */
  private location: string | undefined;
  /** Set once the Storage Read API turned out unusable: kept results are read as REST pages from then on. */
  private storage: StorageResults | undefined;

  constructor(
    private readonly client: BigQuery,
    private readonly log: Logger,
    private readonly options: QueryJobOptions,
  ) {
    this.policy = new CallPolicy(options.timeoutMs, log);
    this.jobs = new JobControl(client, this.policy, log, () => this.location);
    this.pages = new ResultPages(this.policy, this.jobs, options.pageRows);
    this.storage = options.storage;
    if (!client.interceptors.includes(noClientRetries)) client.interceptors.push(noClientRetries);
  }

  async discoverSource(
    projectId: string,
    datasetId: string,
    choice: SchemaChoice = { kind: 'auto' },
  ): Promise<LogSource> {
    const found = await discoverSource(this.client, this.policy, this.log, projectId, datasetId, choice);
    this.location ??= found.location;
    return found.location === undefined ? found.source : { ...found.source, location: found.location };
  }

  /**
   * A failed page request asks for that same page again. A job that fails after it started is run
   * again from the start; if pages were handed over already, the sink's `restart` is called first.
   */
  async runQuery(query: LogQuery, sink: PageSink, options: RunOptions = {}): Promise<QueryStats> {
    const purpose = describeQuery(query.label);
    const requestedAtMs = options.requestedAtMs ?? Date.now();
    const budget = this.policy.budget(purpose, requestedAtMs);
    try {
      const { job, rows } = await this.runToCompletion(budget, this.request(query, options), sink);
      const stats: QueryStats = {
        jobId: job.id ?? '',
        ...(await this.jobs.billing(budget, job)),
        durationMs: Date.now() - requestedAtMs,
        rows,
      };
      this.log.debug({ purpose, ...stats, retries: budget.retryCount }, 'query done');
      return stats;
    } catch (error) {
      throw describeFailure(error);
    }
  }

  /**
   * Runs the query to completion without reading it, and hands back its result, which BigQuery keeps
   * (about a day): any range of its rows can then be read, by row index, at no further cost.
   */
  async openResult(query: LogQuery, options: RunOptions = {}): Promise<QueryResult> {
    const purpose = describeQuery(query.label);
    const requestedAtMs = options.requestedAtMs ?? Date.now();
    const budget = this.policy.budget(purpose, requestedAtMs);
    try {
      const { job, first } = await this.completedJob(budget, this.request(query, options));
      const stats: QueryStats = {
        jobId: job.id ?? '',
        ...(await this.jobs.billing(budget, job)),
        durationMs: Date.now() - requestedAtMs,
        rows: first.totalRows,
      };
      this.log.debug({ purpose, ...stats, retries: budget.retryCount }, 'query done, result kept');
      const table = this.storage && (await this.jobs.destinationOf(budget, job));
      return {
        stats,
        totalRows: first.totalRows,
        // Without a bytes column, every value read is a string.
        readRows: (start, count, deliver) =>
          this.readRange(purpose, job, table, start, count, deliver as (rows: TextRow[]) => Promise<void>),
        readTextRows: (start, count, bytesColumn, deliver) =>
          this.readRange(purpose, job, table, start, count, deliver, bytesColumn),
        readLines: (start, count, spec, deliver) => this.readLines(purpose, job, table, start, count, spec, deliver),
      };
    } catch (error) {
      throw describeFailure(error instanceof JobFailed ? error.failure : error);
    }
  }

  /** Runs the job to completion; a job that fails after it started is run again, as runQuery does. */
  private async completedJob(budget: RetryBudget, request: Query): Promise<{ job: Job; first: Page }> {
    for (let rerun = 1; ; rerun++) {
      const job = await this.jobs.start(budget, request);
      try {
        let first: Page | undefined;
        while (first === undefined) first = await this.pages.page(budget, job, { startIndex: 0 }, 1);
        return { job, first };
      } catch (error) {
        if (!(error instanceof JobFailed)) throw error;
        await budget.backoff(error.failure, rerun);
        this.log.warn(
          { jobId: job.id, reason: error.failure.reason, err: error.failure.message, discarded: 0 },
          'the query job failed after it started; running it again',
        );
      }
    }
  }

  private async readRange(
    purpose: string,
    job: Job,
    table: ResultTable | undefined,
    start: number,
    count: number,
    deliver: (rows: TextRow[]) => Promise<void>,
    bytesColumn?: number,
  ): Promise<void> {
    const budget = this.policy.budget(purpose);
    if (this.storage && table) {
      let delivered = 0;
      const counted = async (rows: TextRow[]) => {
        delivered += rows.length;
        await deliver(rows);
      };
      try {
        await this.storage.readRange(budget, table, start, count, counted, bytesColumn);
        return;
      } catch (error) {
        // Its own failures are QueryFailures already; anything else is the consumer's, passed on as it is.
        if (!(error instanceof ReadApiUnavailable)) throw error;
        this.fallBackToRest(error.message);
        [start, count] = [start + delivered, count - delivered];
      }
    }
    await this.readPages(budget, job, start, count, deliver);
  }

  /** As readRange, as lines: from the record batches, or from REST pages when the Storage Read API cannot be used. */
  private async readLines(
    purpose: string,
    job: Job,
    table: ResultTable | undefined,
    start: number,
    count: number,
    spec: LineSpec,
    deliver: (lines: Buffer, rows: number) => Promise<void>,
  ): Promise<void> {
    const budget = this.policy.budget(purpose);
    let next = start;
    const counted = async (lines: Buffer, rows: number) => {
      next += rows;
      await deliver(lines, rows);
    };
    if (this.storage && table) {
      try {
        await this.storage.readLines(budget, table, start, count, spec, counted);
        return;
      } catch (error) {
        if (!(error instanceof ReadApiUnavailable)) throw error;
        this.fallBackToRest(error.message);
      }
    }
    await this.readPages(budget, job, next, start + count - next, (rows) =>
      counted(linesOfRows(rows, next, spec), rows.length),
    );
  }

  private fallBackToRest(reason: string): void {
    if (!this.storage) return;
    this.storage = undefined;
    this.log.warn(
      { reason, hint: STORAGE_READ_HINT },
      'the BigQuery Storage Read API cannot be used; query results are read as REST pages from now on (slower, same bytes billed)',
    );
  }

  private async readPages(
    budget: RetryBudget,
    job: Job,
    start: number,
    count: number,
    deliver: (rows: RawRow[]) => Promise<void>,
  ): Promise<void> {
    // Only a page's own failure is described here; what `deliver` throws is the consumer's.
    const pageAt = async (from: number, to: number): Promise<RawRow[] | undefined> => {
      try {
        const page = await this.pages.page(budget, job, { startIndex: from }, to - from);
        if (page?.rows.length === 0)
          throw failureOf(`the result ended at row ${from} of ${start + count}`, 'resultChanged');
        return page?.rows;
      } catch (error) {
        throw describeFailure(error instanceof JobFailed ? error.failure : error);
      }
    };
    await readPagesAhead(start, start + count, this.options.pageRows, this.options.pagesInFlight, pageAt, deliver);
  }

  private request(query: LogQuery, options: RunOptions): Query {
    const limit = Math.min(this.options.maxBytesBilled ?? Infinity, options.maxBytesBilled ?? Infinity);
    return {
      query: query.statement.sql,
      params: query.statement.params,
      types: query.statement.types,
      useLegacySql: false,
      labels: { ...this.options.labels, bqlogfs_purpose: query.label.kind },
      ...(limit !== Infinity && { maximumBytesBilled: String(limit) }),
    };
  }

  private async runToCompletion(
    budget: RetryBudget,
    request: Query,
    sink: PageSink,
  ): Promise<{ job: Job; rows: number }> {
    let handedOver = false;
    let rows = 0;
    for (let rerun = 1; ; rerun++) {
      const job = await this.jobs.start(budget, request);
      const failure = await this.pages.readAll(budget, job, async (page) => {
        if (budget.remainingMs() <= 0) throw timedOut();
        handedOver = true;
        rows += page.length;
        await sink.page(page);
      });
      if (failure === undefined) return { job, rows };
      if (handedOver && !sink.restart) throw failure;
      await budget.backoff(failure, rerun);
      this.log.warn(
        { jobId: job.id, reason: failure.reason, err: failure.message, discarded: rows },
        'the query job failed after it started; running it again',
      );
      if (handedOver) {
        await sink.restart?.();
        handedOver = false;
        rows = 0;
      }
    }
  }
}
