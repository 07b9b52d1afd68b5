// All traffic to BigQuery goes through here: discovering the sink's tables, and running a query
// whose result pages are handed on one at a time, so no result is ever held whole in memory.
// Transient failures are retried here, and only here (see retry-policy.ts), within each query's
// deadline.
import { randomUUID } from 'node:crypto';
import type { BigQuery, Job, Query, QueryResultsOptions } from '@google-cloud/bigquery';
import type { Logger } from 'pino';
import { customLogSchema, logAnalyticsSchema, type SchemaChoice, type SchemaField } from './log-schemas.js';
import type { BuiltQuery, LogSource, Stream, StreamTable, TableLayout } from './query-builder.js';
import { isDatasetId, isProjectId, LOG_ANALYTICS_VIEW, SINK_SCHEMA } from './query-builder.js';
import { limitHttpRequests } from './request-timeouts.js';
import { RetriesExhausted, RetryBudget } from './retry-policy.js';

/** One result row in the REST API's own form, values in the order of the SELECT list. */
export type RawRow = (string | null)[];

export interface QueryStats {
  jobId: string;
  bytesProcessed: number;
  bytesBilled: number;
  durationMs: number;
  rows: number;
}

export interface QueryOptions {
  /** Passed to BigQuery as maximumBytesBilled; undefined means no limit. */
  maxBytesBilled?: number;
  /** Rows per result page. */
  pageRows: number;
  /** A query that has not delivered its last page by then, retries included, is abandoned. */
  timeoutMs: number;
  maxConcurrentQueries: number;
}

/** A failed BigQuery call, with what the user should do about it. */
export class QueryFailure extends Error {
  constructor(
    message: string,
    readonly reason: string,
    readonly hint: string,
  ) {
    super(message);
  }
}

const SHARD_TABLE = /^(stdout|stderr)_(\d{8})$/;
const STREAMS: readonly Stream[] = ['stdout', 'stderr'];

interface ApiErrorShape {
  code?: number | string;
  message?: string;
  errors?: { reason?: string; message?: string }[];
}

const HINTS: Record<string, string> = {
  notFound:
    'check --project and --dataset, and that the sink has written its stdout/stderr tables (or --schema for other layouts)',
  invalidSchema: 'check the [mounts.<name>.schema] table of the config file against the table (bq show --schema)',
  accessDenied: 'grant the mounting identity roles/bigquery.dataViewer and roles/bigquery.jobUser',
  bytesBilledLimitExceeded: 'raise --max-bytes-billed if this read is worth it',
  timeout: 'BigQuery did not answer in time; retry, or raise --query-timeout',
  ECONNREFUSED: 'BigQuery endpoint is not reachable; check --api-endpoint and the network',
  backendError: 'BigQuery kept failing with a transient error; retry later, or raise --query-timeout',
  internalError: 'BigQuery kept failing with a transient error; retry later, or raise --query-timeout',
  rateLimitExceeded: 'BigQuery kept refusing for rate limits; retry later, or lower --max-concurrent-queries',
  ECONNRESET: 'the connection to BigQuery kept breaking; check the network, or raise --query-timeout',
};

/** Socket errors that mean "no answer in time". */
const TIMEOUT_CODES = new Set(['ETIMEDOUT', 'ESOCKETTIMEDOUT']);

export function describeFailure(error: unknown): QueryFailure {
  if (error instanceof QueryFailure) return error;
  if (error instanceof RetriesExhausted) {
    const last = describeFailure(error.lastError);
    return new QueryFailure(`gave up after ${error.attempts} attempts: ${last.message}`, last.reason, last.hint);
  }
  const api = error as ApiErrorShape & { cause?: { code?: string } };
  const code =
    api.errors?.[0]?.reason ?? (typeof api.code === 'string' ? api.code : undefined) ?? api.cause?.code ?? 'unknown';
  const reason = TIMEOUT_CODES.has(code) ? 'timeout' : code;
  const message = api.errors?.[0]?.message ?? api.message ?? String(error);
  return new QueryFailure(message, reason, HINTS[reason] ?? 'retry; if it persists see docs/troubleshooting.md');
}

function timedOut(): QueryFailure {
  return new QueryFailure('query timed out', 'timeout', HINTS.timeout ?? '');
}

/** A job that failed after it was created: no page of it will ever come, only a new job can help. */
class JobFailed extends Error {
  constructor(readonly failure: QueryFailure) {
    super(failure.message);
  }
}

interface JobMetadata {
  status?: { errorResult?: { reason?: string; message?: string } };
  statistics?: { query?: Record<string, string> };
}

/** The job resource when the client's error is "this job was created and failed", else undefined. */
function failedJobOf(error: unknown): JobMetadata | undefined {
  const response = (error as { response?: JobMetadata } | undefined)?.response;
  return response?.status?.errorResult ? response : undefined;
}

/** The HTTP status of a client error, if it has one. */
function statusOf(error: unknown): number | undefined {
  const code = (error as { code?: unknown } | undefined)?.code;
  return typeof code === 'number' ? code : undefined;
}

/** One HTTP request may take at most this long, so a hung one leaves time to try again. */
const MAX_REQUEST_MS = 30_000;
const MIN_REQUEST_MS = 2_000;

type Interceptor = BigQuery['interceptors'][number];

/**
 * The client's own retries (retry-request: up to 3 more attempts on 429/5xx, with waits that know
 * nothing of our deadline) are switched off for every request, so there is one policy, ours, and it
 * also covers what the client would not retry (a failed job, a page cut short). Only the client's
 * constructor can also switch off its retries of requests that got no response at all (autoRetry:
 * false); the emulator's client does, and `timed` below keeps any client from waiting past the deadline.
 */
const noClientRetries: Interceptor = {
  request: (options) => ({ ...options, maxRetries: 0 }) as ReturnType<Interceptor['request']>,
};

/** Limits how many queries run at once; the rest wait their turn in order. */
class Gate {
  private running = 0;
  private readonly waiting: (() => void)[] = [];
  constructor(private readonly limit: number) {}

  async run<T>(work: () => Promise<T>): Promise<T> {
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

/** Told about every query's outcome, for statistics. */
export interface QueryObserver {
  queryStarted(purpose: string): void;
  queryDone(purpose: string, stats: QueryStats): void;
  queryFailed(purpose: string, failure: QueryFailure): void;
}

export class BigQueryAccess {
  private readonly gate: Gate;
  /** The dataset's location, once a table's metadata told it. */
  private location: string | undefined;

  constructor(
    private readonly client: BigQuery,
    private readonly log: Logger,
    private readonly options: QueryOptions,
    private readonly observer?: QueryObserver,
  ) {
    this.gate = new Gate(options.maxConcurrentQueries);
    limitHttpRequests(Math.min(MAX_REQUEST_MS, Math.max(MIN_REQUEST_MS, options.timeoutMs / 4)));
    if (!client.interceptors.includes(noClientRetries)) client.interceptors.push(noClientRetries);
  }

  /**
   * Finds the log tables and which layout they use, for the schema chosen (`auto`: a sink's
   * stdout/stderr tables, else a Log Analytics `_AllLogs` view). Metadata calls only: nothing is billed.
   */
  async discoverSource(
    projectId: string,
    datasetId: string,
    choice: SchemaChoice = { kind: 'auto' },
  ): Promise<LogSource> {
    if (!isProjectId(projectId)) throw new Error(`invalid BigQuery project id: "${projectId}"`);
    if (!isDatasetId(datasetId)) throw new Error(`invalid BigQuery dataset id: "${datasetId}"`);
    const dataset = this.client.dataset(datasetId, { projectId });
    const budget = this.newBudget('discover tables');
    const call = <T>(request: () => Promise<T>): Promise<T> =>
      budget
        .run(() => this.timed(budget, request()))
        .catch((error: unknown) => {
          throw error instanceof RetriesExhausted ? describeFailure(error) : error;
        });
    const metadataOf = async (tableId: string) => {
      const [metadata] = await call(() => dataset.table(tableId).getMetadata());
      const found = metadata as {
        schema?: { fields?: SchemaField[] };
        timePartitioning?: { field?: string };
        location?: string;
      };
      // Jobs run where the data is; a job looked up again must name that location too.
      this.location ??= found.location;
      return found;
    };
    const invalid = (message: string) => new QueryFailure(message, 'invalidSchema', HINTS.invalidSchema ?? '');

    if (choice.kind === 'custom') {
      const metadata = await metadataOf(choice.table);
      let schema;
      try {
        schema = customLogSchema(choice, metadata.schema?.fields ?? []);
      } catch (error) {
        throw invalid((error as Error).message);
      }
      if (metadata.timePartitioning?.field?.toLowerCase() !== schema.timestamp.toLowerCase()) {
        this.log.warn(
          { table: choice.table, column: schema.timestamp },
          'table is not partitioned on its timestamp column: every query scans all of it',
        );
      }
      const columns = new Set((metadata.schema?.fields ?? []).map((field) => field.name ?? ''));
      return { projectId, datasetId, layout: 'partitioned', tables: [{ tableId: choice.table, columns }], schema };
    }

    const [tables] = await call(() => dataset.getTables({ autoPaginate: true }));
    const ids = new Set(tables.map((table) => table.id ?? ''));
    const hasSinkTables = [...ids].some((id) => STREAMS.includes(id as Stream) || SHARD_TABLE.test(id));
    if (choice.kind === 'log-analytics' || (choice.kind === 'auto' && !hasSinkTables && ids.has(LOG_ANALYTICS_VIEW))) {
      if (!ids.has(LOG_ANALYTICS_VIEW)) {
        throw new QueryFailure(
          `dataset ${projectId}:${datasetId} has no ${LOG_ANALYTICS_VIEW} view`,
          'notFound',
          'point --dataset at the BigQuery dataset linked to a Log Analytics bucket',
        );
      }
      const metadata = await metadataOf(LOG_ANALYTICS_VIEW);
      let schema;
      try {
        schema = logAnalyticsSchema(metadata.schema?.fields ?? []);
      } catch (error) {
        throw invalid((error as Error).message);
      }
      const columns = new Set((metadata.schema?.fields ?? []).map((field) => field.name ?? ''));
      return {
        projectId,
        datasetId,
        layout: 'partitioned',
        tables: [{ tableId: LOG_ANALYTICS_VIEW, columns }],
        schema,
      };
    }

    const layout: TableLayout = STREAMS.some((stream) => ids.has(stream)) ? 'partitioned' : 'sharded';
    const found: StreamTable[] = [];
    for (const stream of STREAMS) {
      const tableName =
        layout === 'partitioned'
          ? ids.has(stream)
            ? stream
            : undefined
          : [...ids]
              .filter((id) => SHARD_TABLE.exec(id)?.[1] === stream)
              .sort()
              .pop();
      if (tableName === undefined) continue;
      const metadata = await metadataOf(tableName);
      const fields = metadata.schema?.fields ?? [];
      if (layout === 'partitioned' && !metadata.timePartitioning) {
        this.log.warn({ table: tableName }, 'table is not partitioned: every query scans all of it');
      }
      found.push({
        stream,
        tableId: layout === 'partitioned' ? stream : `${stream}_*`,
        columns: new Set(fields.map((field) => field.name ?? '')),
      });
    }
    if (found.length === 0) {
      const alternative = choice.kind === 'auto' ? `, and no ${LOG_ANALYTICS_VIEW} view` : '';
      throw new QueryFailure(
        `dataset ${projectId}:${datasetId} has no stdout/stderr tables${alternative}`,
        'notFound',
        HINTS.notFound ?? '',
      );
    }
    return { projectId, datasetId, layout, tables: found, schema: SINK_SCHEMA };
  }

  /**
   * Runs a query and hands each result page to `onPage` before asking for the next one, so memory
   * holds at most one page. A failed page request asks for that same page again. A job that fails
   * after it started is run again from the start; if pages were handed over already, `onRestart` is
   * called first so the consumer drops them. Without `onRestart` that case fails the query instead.
   */
  async runQuery(
    purpose: string,
    query: BuiltQuery,
    onPage: (rows: RawRow[]) => Promise<void>,
    onRestart?: () => Promise<void>,
  ): Promise<QueryStats> {
    // The deadline counts the wait for a free slot too: FUSE's own timeout does.
    const startedAt = Date.now();
    const budget = this.newBudget(purpose);
    return this.gate.run(async () => {
      this.observer?.queryStarted(purpose);
      try {
        const request: Query = {
          query: query.sql,
          params: query.params,
          types: query.types,
          useLegacySql: false,
          ...(this.options.maxBytesBilled !== undefined && {
            maximumBytesBilled: String(this.options.maxBytesBilled),
          }),
        };
        const { job, rows } = await this.runToCompletion(budget, request, onPage, onRestart);
        const stats: QueryStats = {
          jobId: job.id ?? '',
          ...(await this.billing(budget, job)),
          durationMs: Date.now() - startedAt,
          rows,
        };
        this.log.debug({ purpose, ...stats, retries: budget.retryCount }, 'query done');
        this.observer?.queryDone(purpose, stats);
        return stats;
      } catch (error) {
        const failure = describeFailure(error);
        this.observer?.queryFailed(purpose, failure);
        throw failure;
      }
    });
  }

  private async runToCompletion(
    budget: RetryBudget,
    request: Query,
    onPage: (rows: RawRow[]) => Promise<void>,
    onRestart: (() => Promise<void>) | undefined,
  ): Promise<{ job: Job; rows: number }> {
    let handedOver = false;
    let rows = 0;
    for (let rerun = 1; ; rerun++) {
      const job = await this.startJob(budget, request);
      const failure = await this.readPages(budget, job, async (page) => {
        if (budget.remainingMs() <= 0) throw timedOut();
        handedOver = true;
        rows += page.length;
        await onPage(page);
      });
      if (failure === undefined) return { job, rows };
      if (handedOver && !onRestart) throw failure;
      await budget.backoff(failure, rerun);
      this.log.warn(
        { jobId: job.id, reason: failure.reason, err: failure.message, discarded: rows },
        'the query job failed after it started; running it again',
      );
      if (handedOver) {
        await onRestart?.();
        handedOver = false;
        rows = 0;
      }
    }
  }

  /**
   * Creates the query job. A retried insert keeps its job id, so an insert that ran but whose answer
   * was lost is found again (409) instead of being run, and billed, twice.
   */
  private async startJob(budget: RetryBudget, request: Query): Promise<Job> {
    let jobId = newJobId();
    return budget.run(async () => {
      try {
        const location = this.location ?? this.client.location;
        const [job] = await this.timed(
          budget,
          this.client.createQueryJob({ ...request, jobId, ...(location !== undefined && { location }) }),
        );
        return job;
      } catch (error) {
        if (statusOf(error) === 409) {
          const location = this.location ?? this.client.location;
          return this.client.job(jobId, location !== undefined ? { location } : {});
        }
        if (failedJobOf(error)) jobId = newJobId();
        throw error;
      }
    });
  }

  /** Reads every page of a job, in order. Resolves to the job's own failure if it failed after it started. */
  private async readPages(
    budget: RetryBudget,
    job: Job,
    deliver: (rows: RawRow[]) => Promise<void>,
  ): Promise<QueryFailure | undefined> {
    let pageToken: string | undefined;
    for (;;) {
      if (budget.remainingMs() <= 0) throw timedOut();
      let page: Awaited<ReturnType<BigQueryAccess['fetchPage']>>;
      try {
        page = await budget.run(
          () => this.timed(budget, this.fetchPage(budget, job, pageToken)),
          // A transient error and a job that has failed look alike on getQueryResults; the job says which.
          async () => {
            const failure = await this.jobFailure(budget, job);
            if (failure) throw new JobFailed(failure);
          },
        );
      } catch (error) {
        if (error instanceof JobFailed) return error.failure;
        throw error;
      }
      if (page === undefined) continue;
      await deliver(page.rows);
      pageToken = page.pageToken;
      if (pageToken === undefined) return undefined;
    }
  }

  /** The job's error if BigQuery reports it failed; undefined when it has not, or when asking failed too. */
  private async jobFailure(budget: RetryBudget, job: Job): Promise<QueryFailure | undefined> {
    try {
      const [metadata] = await this.timed(budget, job.getMetadata());
      const errorResult = (metadata as JobMetadata).status?.errorResult;
      return errorResult ? describeFailure({ errors: [errorResult] }) : undefined;
    } catch {
      return undefined;
    }
  }

  /** Bytes processed and billed. Best effort: every row has been delivered, so a failure here only logs. */
  private async billing(budget: RetryBudget, job: Job): Promise<{ bytesProcessed: number; bytesBilled: number }> {
    let statistics = (job.metadata as JobMetadata).statistics?.query;
    if (!statistics?.totalBytesBilled) {
      try {
        const [metadata] = await budget.run(() => this.timed(budget, job.getMetadata()));
        statistics = (metadata as JobMetadata).statistics?.query;
      } catch (error) {
        this.log.warn({ jobId: job.id, err: describeFailure(error).message }, 'could not read what the query billed');
      }
    }
    return {
      bytesProcessed: Number(statistics?.totalBytesProcessed ?? 0),
      bytesBilled: Number(statistics?.totalBytesBilled ?? 0),
    };
  }

  /** One page of results, or undefined while the job is still running. */
  private async fetchPage(
    budget: RetryBudget,
    job: Job,
    pageToken: string | undefined,
  ): Promise<{ rows: RawRow[]; pageToken: string | undefined } | undefined> {
    const options: QueryResultsOptions & { skipParsing: boolean } = {
      autoPaginate: false,
      maxResults: this.options.pageRows,
      // Raw values keep TIMESTAMP microseconds and INT64 digits exactly.
      skipParsing: true,
      // How long BigQuery may hold this request waiting for the job to finish: well inside the
      // request's own limit. Passed as a string, because given a number the client turns an
      // unfinished job into an error instead of handing back `jobComplete: false`.
      timeoutMs: String(Math.floor(this.requestLimitMs(budget) / 2)) as unknown as number,
      ...(pageToken !== undefined && { pageToken }),
    };
    const [rows, , response] = await job.getQueryResults(options);
    const meta = response as { jobComplete?: boolean; pageToken?: string } | undefined;
    if (meta?.jobComplete === false) return undefined;
    const raw = rows as unknown as { f: { v: string | null }[] }[];
    return {
      rows: raw.map((row) => row.f.map((cell) => cell.v)),
      pageToken: meta?.pageToken || undefined,
    };
  }

  private newBudget(purpose: string): RetryBudget {
    return new RetryBudget(Date.now() + this.options.timeoutMs, (error, delayMs) => {
      const failure = describeFailure(error);
      this.log.debug({ purpose, reason: failure.reason, err: failure.message, delayMs }, 'retrying');
    });
  }

  /** A quarter of the query's time, 2 s to 30 s, and never past the deadline. */
  private requestLimitMs(budget: RetryBudget): number {
    const share = Math.min(MAX_REQUEST_MS, Math.max(MIN_REQUEST_MS, this.options.timeoutMs / 4));
    return Math.max(0, Math.min(share, budget.remainingMs()));
  }

  /** Waits for one client call, but never past the deadline, whatever the client does meanwhile. */
  private async timed<T>(budget: RetryBudget, call: Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => reject(timedOut()), Math.max(0, budget.remainingMs()));
    });
    try {
      return await Promise.race([call, expired]);
    } finally {
      clearTimeout(timer);
    }
  }
}

function newJobId(): string {
  return `bqlogfs_${randomUUID().replaceAll('-', '')}`;
}
