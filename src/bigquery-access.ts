// All traffic to BigQuery goes through here: discovering the sink's tables, and running a query
// whose result pages are handed on one at a time, so no result is ever held whole in memory.
import type { BigQuery, Job, Query, QueryResultsOptions } from '@google-cloud/bigquery';
import type { Logger } from 'pino';
import type { BuiltQuery, LogSource, Stream, StreamTable, TableLayout } from './query-builder.js';
import { isDatasetId, isProjectId } from './query-builder.js';

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
  /** A query that has not delivered its last page by then is abandoned. */
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
  notFound: 'check --project and --dataset, and that the sink has written its stdout/stderr tables',
  accessDenied: 'grant the mounting identity roles/bigquery.dataViewer and roles/bigquery.jobUser',
  bytesBilledLimitExceeded: 'raise --max-bytes-billed if this read is worth it',
  timeout: 'BigQuery did not answer in time; retry, or raise --query-timeout',
  ECONNREFUSED: 'BigQuery endpoint is not reachable; check --api-endpoint and the network',
};

export function describeFailure(error: unknown): QueryFailure {
  if (error instanceof QueryFailure) return error;
  const api = error as ApiErrorShape & { cause?: { code?: string } };
  const reason =
    api.errors?.[0]?.reason ?? (typeof api.code === 'string' ? api.code : undefined) ?? api.cause?.code ?? 'unknown';
  const message = api.errors?.[0]?.message ?? api.message ?? String(error);
  return new QueryFailure(message, reason, HINTS[reason] ?? 'retry; if it persists see docs/troubleshooting.md');
}

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
  queryDone(purpose: string, stats: QueryStats): void;
  queryFailed(purpose: string, failure: QueryFailure): void;
}

export class BigQueryAccess {
  private readonly gate: Gate;

  constructor(
    private readonly client: BigQuery,
    private readonly log: Logger,
    private readonly options: QueryOptions,
    private readonly observer?: QueryObserver,
  ) {
    this.gate = new Gate(options.maxConcurrentQueries);
  }

  /** Finds the sink's tables and which layout they use. Metadata calls only: nothing is billed. */
  async discoverSource(projectId: string, datasetId: string): Promise<LogSource> {
    if (!isProjectId(projectId)) throw new Error(`invalid BigQuery project id: "${projectId}"`);
    if (!isDatasetId(datasetId)) throw new Error(`invalid BigQuery dataset id: "${datasetId}"`);
    const dataset = this.client.dataset(datasetId, { projectId });
    const [tables] = await dataset.getTables({ autoPaginate: true });
    const ids = new Set(tables.map((table) => table.id ?? ''));
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
      const [metadata] = await dataset.table(tableName).getMetadata();
      const fields = (metadata as { schema?: { fields?: { name: string }[] } }).schema?.fields ?? [];
      if (layout === 'partitioned' && !(metadata as { timePartitioning?: unknown }).timePartitioning) {
        this.log.warn({ table: tableName }, 'table is not partitioned: every query scans all of it');
      }
      found.push({
        stream,
        tableId: layout === 'partitioned' ? stream : `${stream}_*`,
        columns: new Set(fields.map((field) => field.name)),
      });
    }
    if (found.length === 0) {
      throw new QueryFailure(
        `dataset ${projectId}:${datasetId} has no stdout/stderr tables`,
        'notFound',
        HINTS.notFound ?? '',
      );
    }
    return { projectId, datasetId, layout, tables: found };
  }

  /**
   * Runs a query and hands each result page to `onPage` before asking for the next one, so memory
   * holds at most one page.
   */
  async runQuery(purpose: string, query: BuiltQuery, onPage: (rows: RawRow[]) => Promise<void>): Promise<QueryStats> {
    return this.gate.run(async () => {
      const startedAt = Date.now();
      const deadline = startedAt + this.options.timeoutMs;
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
        const [job] = await this.client.createQueryJob(request);
        let rows = 0;
        let pageToken: string | undefined;
        for (;;) {
          if (Date.now() > deadline) throw new QueryFailure('query timed out', 'timeout', HINTS.timeout ?? '');
          const page = await this.fetchPage(job, pageToken);
          if (page === undefined) continue;
          rows += page.rows.length;
          await onPage(page.rows);
          pageToken = page.pageToken;
          if (pageToken === undefined) break;
        }
        const statistics = (job.metadata as { statistics?: { query?: Record<string, string> } }).statistics;
        const [metadata] = statistics?.query?.totalBytesBilled ? [job.metadata] : await job.getMetadata();
        const queryStats = (metadata as { statistics?: { query?: Record<string, string> } }).statistics?.query;
        const stats: QueryStats = {
          jobId: job.id ?? '',
          bytesProcessed: Number(queryStats?.totalBytesProcessed ?? 0),
          bytesBilled: Number(queryStats?.totalBytesBilled ?? 0),
          durationMs: Date.now() - startedAt,
          rows,
        };
        this.log.debug({ purpose, ...stats }, 'query done');
        this.observer?.queryDone(purpose, stats);
        return stats;
      } catch (error) {
        const failure = describeFailure(error);
        this.observer?.queryFailed(purpose, failure);
        throw failure;
      }
    });
  }

  /** One page of results, or undefined while the job is still running. */
  private async fetchPage(
    job: Job,
    pageToken: string | undefined,
  ): Promise<{ rows: RawRow[]; pageToken: string | undefined } | undefined> {
    const options: QueryResultsOptions & { skipParsing: boolean } = {
      autoPaginate: false,
      maxResults: this.options.pageRows,
      // Raw values keep TIMESTAMP microseconds and INT64 digits exactly.
      skipParsing: true,
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
}
