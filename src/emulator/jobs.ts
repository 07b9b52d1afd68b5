// Query jobs: jobs.insert / jobs.get / jobs.query / jobs.getQueryResults /
// jobs.cancel. Every query is planned (translated + billed) first; a dry run
// stops after DuckDB has bound the statement, a real run materialises the
// result into a DuckDB table that pages are then served from.
import { randomUUID } from 'node:crypto';
import type { Catalog } from './catalog.js';
import { anonymousDestination } from './destination-tables.js';
import { BqError } from './errors.js';
import { planQuery, type QueryRequest } from './planner.js';
import type { QueryParameter } from './query-params.js';
import type { ResultSet, ResultStore } from './results.js';
import { timestampFormat } from './row-format.js';
import {
  decodePageToken,
  encodePageToken,
  jobResource,
  MAX_JOBS,
  newJob,
  parseMaxResults,
  type EmulatorStats,
  type JobRecord,
  type QueryConfig,
} from './job-records.js';

export type { EmulatorStats, QueryConfig };

export class JobService {
  private jobs = new Map<string, JobRecord>();
  readonly stats: EmulatorStats = {
    queries: 0,
    dryRuns: 0,
    failedQueries: 0,
    bytesProcessed: 0,
    bytesBilled: 0,
    storageReadSessions: 0,
    storageRowsRead: 0,
    storageBytesRead: 0,
  };

  constructor(
    private readonly catalog: Catalog,
    private readonly results: ResultStore,
  ) {}

  /** POST /projects/{p}/jobs */
  async insert(projectId: string, body: Record<string, unknown>, locationParam?: string): Promise<object> {
    const configuration = (body.configuration ?? {}) as Record<string, unknown>;
    const query = configuration.query as QueryConfig | undefined;
    if (!query) throw BqError.invalid('The emulator only supports query jobs (configuration.query).');
    const ref = (body.jobReference ?? {}) as { jobId?: string; location?: string; projectId?: string };
    const jobId = ref.jobId ?? `job_${randomUUID().replace(/-/g, '')}`;
    const dryRun = configuration.dryRun === true || query.dryRun === true;
    if (!dryRun && this.jobs.has(this.key(projectId, jobId))) throw BqError.duplicate(`Job ${projectId}:${jobId}`);
    const job = newJob(projectId, jobId, ref.location ?? locationParam, { ...configuration, jobType: 'QUERY' }, dryRun);
    try {
      await this.run(job, query, ref.location ?? locationParam);
    } catch (err) {
      // Dry runs report errors directly; real jobs are created and fail.
      if (dryRun || !(err instanceof BqError)) throw err;
      job.error = err;
      this.stats.failedQueries++;
    }
    if (!dryRun) this.remember(job);
    return jobResource(job);
  }

  /** GET /projects/{p}/jobs/{jobId} */
  get(projectId: string, jobId: string, location?: string): object {
    return jobResource(this.find(projectId, jobId, location));
  }

  /** The finished query whose destination table this is, while its result has not expired. */
  resultTable(
    projectId: string,
    datasetId: string,
    tableId: string,
  ): { result: ResultSet; location: string; query: string } | undefined {
    for (const job of this.jobs.values()) {
      const table = job.destinationTable;
      if (!table || table.projectId !== projectId || table.datasetId !== datasetId || table.tableId !== tableId)
        continue;
      if (!job.result || job.error || !this.results.has(this.key(job.projectId, job.jobId))) return undefined;
      const query = (job.configuration.query as QueryConfig | undefined)?.query ?? '';
      return { result: job.result, location: job.location, query };
    }
    return undefined;
  }

  /** POST /projects/{p}/jobs/{jobId}/cancel — every job is already done. */
  cancel(projectId: string, jobId: string, location?: string): object {
    return { kind: 'bigquery#jobCancelResponse', job: jobResource(this.find(projectId, jobId, location)) };
  }

  async delete(projectId: string, jobId: string): Promise<void> {
    const job = this.find(projectId, jobId);
    this.jobs.delete(this.key(projectId, jobId));
    await this.results.drop(this.key(job.projectId, job.jobId));
  }

  list(projectId: string): object {
    const jobs = [...this.jobs.values()].filter((j) => j.projectId === projectId).reverse();
    return { kind: 'bigquery#jobList', jobs: jobs.map((j) => ({ ...jobResource(j), state: 'DONE' })) };
  }

  /** POST /projects/{p}/queries */
  async query(projectId: string, body: Record<string, unknown>): Promise<object> {
    const config: QueryConfig = {
      query: body.query as string,
      useLegacySql: body.useLegacySql === undefined ? false : (body.useLegacySql as boolean),
      ...(body.parameterMode !== undefined ? { parameterMode: body.parameterMode as string } : {}),
      ...(body.queryParameters !== undefined ? { queryParameters: body.queryParameters as QueryParameter[] } : {}),
      ...(body.defaultDataset !== undefined
        ? { defaultDataset: body.defaultDataset as QueryConfig['defaultDataset'] }
        : {}),
      ...(body.maximumBytesBilled !== undefined ? { maximumBytesBilled: body.maximumBytesBilled as string } : {}),
      dryRun: body.dryRun === true,
    };
    const jobId = `job_${randomUUID().replace(/-/g, '')}`;
    const job = newJob(
      projectId,
      jobId,
      body.location as string | undefined,
      { query: config, jobType: 'QUERY' },
      config.dryRun === true,
    );
    await this.run(job, config);
    const formatOptions = (body.formatOptions ?? {}) as Record<string, unknown>;
    const base = {
      kind: 'bigquery#queryResponse',
      jobComplete: true,
      cacheHit: false,
      totalBytesProcessed: job.plan!.bytesProcessed.toString(),
      totalBytesBilled: job.dryRun ? '0' : job.plan!.bytesBilled.toString(),
      creationTime: String(job.creationTime),
      startTime: String(job.startTime),
      endTime: String(job.endTime),
    };
    if (job.dryRun)
      return { ...base, schema: { fields: job.schema ?? [] }, jobReference: { projectId, location: job.location } };
    const page = await this.results.readPage(
      job.result!,
      0n,
      parseMaxResults(body.maxResults),
      timestampFormat(formatOptions.useInt64Timestamp, formatOptions.timestampOutputFormat),
    );
    const response: Record<string, unknown> = {
      ...base,
      schema: { fields: job.result!.schema },
      totalRows: job.result!.totalRows.toString(),
      rows: page.rows,
    };
    if (page.nextIndex !== undefined) response.pageToken = encodePageToken(page.nextIndex);
    if (body.jobCreationMode === 'JOB_CREATION_OPTIONAL' && page.nextIndex === undefined) {
      // Everything fit in the first page: behave like a stateless query.
      response.queryId = jobId;
      await this.results.drop(this.key(projectId, jobId));
    } else {
      response.jobReference = { projectId, jobId, location: job.location };
      this.remember(job);
    }
    return response;
  }

  /** GET /projects/{p}/queries/{jobId} */
  async getQueryResults(projectId: string, jobId: string, qs: URLSearchParams): Promise<object> {
    const job = this.find(projectId, jobId, qs.get('location') ?? undefined);
    if (job.error) throw job.error;
    const base = {
      kind: 'bigquery#getQueryResultsResponse',
      jobReference: { projectId, jobId, location: job.location },
      jobComplete: true,
      cacheHit: false,
      totalBytesProcessed: job.plan?.bytesProcessed.toString() ?? '0',
    };
    if (job.dryRun || !job.result) return { ...base, schema: { fields: job.schema ?? [] }, totalRows: '0' };
    if (!this.results.has(this.key(projectId, jobId)))
      throw BqError.notFound(`Results of job ${projectId}:${jobId} have expired`);
    const token = qs.get('pageToken');
    const start = token ? decodePageToken(token) : BigInt(qs.get('startIndex') ?? '0');
    const ts = timestampFormat(
      qs.get('formatOptions.useInt64Timestamp') ?? undefined,
      qs.get('formatOptions.timestampOutputFormat') ?? undefined,
    );
    const page = await this.results.readPage(job.result, start, parseMaxResults(qs.get('maxResults') ?? undefined), ts);
    return {
      ...base,
      schema: { fields: job.result.schema },
      totalRows: job.result.totalRows.toString(),
      rows: page.rows,
      ...(page.nextIndex !== undefined ? { pageToken: encodePageToken(page.nextIndex) } : {}),
    };
  }

  private async run(job: JobRecord, config: QueryConfig, givenLocation?: string): Promise<void> {
    if (typeof config.query !== 'string' || config.query.trim() === '')
      throw BqError.invalid('Query text is required (configuration.query.query).');
    const request: QueryRequest = { projectId: job.projectId, query: config.query };
    if (config.useLegacySql !== undefined) request.useLegacySql = config.useLegacySql;
    if (config.defaultDataset) request.defaultDataset = config.defaultDataset;
    if (config.queryParameters) request.queryParameters = config.queryParameters;
    if (config.parameterMode) request.parameterMode = config.parameterMode;
    job.startTime = Date.now();
    try {
      const plan = planQuery(this.catalog, request);
      job.plan = plan;
      // A job runs where its data is: in the location it names, else its datasets' location.
      for (const table of plan.referencedTables) {
        const { location } = this.catalog.getDataset(table.projectId, table.datasetId);
        if (givenLocation === undefined) job.location = location;
        else if (givenLocation.toUpperCase() !== location.toUpperCase()) {
          throw BqError.notFound(
            `Dataset ${table.projectId}:${table.datasetId} was not found in location ${givenLocation}`,
          );
        }
      }
      if (job.dryRun) {
        job.schema = await this.duck(() => this.results.describe(plan));
        this.stats.dryRuns++;
        return;
      }
      const limit = config.maximumBytesBilled;
      if (limit !== undefined && limit !== null && String(limit) !== '' && plan.bytesBilled > BigInt(String(limit))) {
        throw new BqError(
          400,
          'bytesBilledLimitExceeded',
          `Query exceeded limit for bytes billed: ${String(limit)}. ${plan.bytesBilled} or higher required.`,
        );
      }
      job.result = await this.duck(() => this.results.materialize(this.key(job.projectId, job.jobId), plan));
      job.schema = job.result.schema;
      job.destinationTable = anonymousDestination(job.projectId, job.location, job.jobId);
      this.stats.queries++;
      this.stats.bytesProcessed += Number(plan.bytesProcessed);
      this.stats.bytesBilled += Number(plan.bytesBilled);
    } finally {
      job.endTime = Date.now();
    }
  }

  /** DuckDB errors during binding/execution are the query's fault: report them as invalidQuery. */
  private async duck<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      if (err instanceof BqError) throw err;
      throw BqError.invalidQuery((err as Error).message);
    }
  }

  private key(projectId: string, jobId: string): string {
    return `${projectId}:${jobId}`;
  }

  /**
   * A job as BigQuery finds it: only in its own location. Without a location only jobs in the US and
   * EU multi-regions are found.
   */
  private find(projectId: string, jobId: string, location?: string): JobRecord {
    const job = this.jobs.get(this.key(projectId, jobId));
    const where = (location ?? '').toUpperCase();
    const found = job && (location === undefined ? ['US', 'EU'] : [where]).includes(job.location.toUpperCase());
    if (!job || !found) throw BqError.notFound(`Job ${projectId}:${location ?? 'US'}.${jobId}`);
    return job;
  }

  private remember(job: JobRecord): void {
    this.jobs.set(this.key(job.projectId, job.jobId), job);
    while (this.jobs.size > MAX_JOBS) {
      const oldest = this.jobs.keys().next().value as string;
      this.jobs.delete(oldest);
      void this.results.drop(oldest);
    }
  }
}
