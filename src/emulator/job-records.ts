// A query job as the emulator keeps it, and as the REST API shows it (the job resource); page
// tokens and the maxResults parameter of result pages.
import { BqError } from './errors.js';
import type { TableReference } from './destination-tables.js';
import type { Plan } from './planner.js';
import type { QueryParameter } from './query-params.js';
import type { ResultSet } from './results.js';
import type { ApiField } from './row-format.js';

export interface QueryConfig {
  query?: string;
  useLegacySql?: boolean;
  parameterMode?: string;
  queryParameters?: QueryParameter[];
  defaultDataset?: { projectId?: string; datasetId?: string };
  dryRun?: boolean;
  maximumBytesBilled?: string | number;
  useQueryCache?: boolean;
}

export interface JobRecord {
  projectId: string;
  jobId: string;
  location: string;
  configuration: Record<string, unknown>;
  creationTime: number;
  startTime: number;
  endTime: number;
  dryRun: boolean;
  error?: BqError;
  plan?: Pick<Plan, 'bytesProcessed' | 'bytesBilled' | 'referencedTables'>;
  schema?: ApiField[];
  result?: ResultSet;
  /** Where the result is, as a table: set once the query has run. */
  destinationTable?: TableReference;
}

export interface EmulatorStats {
  queries: number;
  dryRuns: number;
  failedQueries: number;
  bytesProcessed: number;
  bytesBilled: number;
  /** Storage Read API: sessions created, and the rows and Arrow bytes streamed (never billed as queries). */
  storageReadSessions: number;
  storageRowsRead: number;
  storageBytesRead: number;
}

export const MAX_JOBS = 5_000;

export function encodePageToken(index: bigint): string {
  return Buffer.from(`row:${index}`).toString('base64url');
}

export function decodePageToken(token: string): bigint {
  const m = /^row:(\d+)$/.exec(Buffer.from(token, 'base64url').toString());
  if (!m) throw BqError.invalid(`Invalid page token: ${token}`);
  return BigInt(m[1]!);
}

export function parseMaxResults(value: unknown): number | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw BqError.invalid(`Invalid value for maxResults: ${String(value)}`);
  return n;
}

export function newJob(
  projectId: string,
  jobId: string,
  location: string | undefined,
  configuration: Record<string, unknown>,
  dryRun: boolean,
): JobRecord {
  const now = Date.now();
  return {
    projectId,
    jobId,
    location: location ?? 'US',
    configuration,
    creationTime: now,
    startTime: now,
    endTime: now,
    dryRun,
  };
}

export function jobResource(job: JobRecord): object {
  const processed = job.plan?.bytesProcessed.toString() ?? '0';
  const billed = job.dryRun || !job.plan || job.error ? '0' : job.plan.bytesBilled.toString();
  const status = job.error
    ? { state: 'DONE', errorResult: job.error.toErrorProto(), errors: [job.error.toErrorProto()] }
    : { state: 'DONE' };
  return {
    kind: 'bigquery#job',
    etag: Buffer.from(job.jobId).toString('base64'),
    id: `${job.projectId}:${job.location}.${job.jobId}`,
    selfLink: `/projects/${job.projectId}/jobs/${job.jobId}?location=${job.location}`,
    user_email: 'emulator@localhost',
    jobReference: { projectId: job.projectId, jobId: job.jobId, location: job.location },
    configuration: {
      ...job.configuration,
      ...(job.dryRun ? { dryRun: true } : {}),
      ...(job.destinationTable
        ? { query: { ...(job.configuration.query as object), destinationTable: job.destinationTable } }
        : {}),
    },
    status,
    statistics: {
      creationTime: String(job.creationTime),
      startTime: String(job.startTime),
      endTime: String(job.endTime),
      totalBytesProcessed: processed,
      query: {
        totalBytesProcessed: processed,
        totalBytesBilled: billed,
        cacheHit: false,
        statementType: 'SELECT',
        billingTier: 1,
        ...(job.dryRun ? { schema: { fields: job.schema ?? [] }, totalBytesProcessedAccuracy: 'PRECISE' } : {}),
        ...(job.result ? { totalRows: job.result.totalRows.toString() } : {}),
        referencedTables: job.plan?.referencedTables ?? [],
      },
    },
  };
}
