// What can go wrong talking to BigQuery, in one shape: a message, a reason, and what the user
// should do about it. Every client error is read here and nowhere else.
import { readClientError } from './client-errors.js';
import { RetriesExhausted } from './retry-policy.js';

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

export const HINTS: Record<string, string> = {
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
  resultExpired: 'the kept query result is gone (BigQuery keeps one about a day); reading again runs a new query',
  resultChanged:
    'the kept query result did not have the rows its query reported; read again to run a new query, and if it ' +
    'persists pass --read-api rest',
  storageReadFailed: 'the BigQuery Storage Read API refused the read; pass --read-api rest to read results over REST',
};

const FALLBACK_HINT = 'retry; if it persists see docs/troubleshooting.md';

/** A failure of `reason`, with that reason's hint. */
export function failure(message: string, reason: string): QueryFailure {
  return new QueryFailure(message, reason, HINTS[reason] ?? FALLBACK_HINT);
}

/** Socket errors that mean "no answer in time". */
const TIMEOUT_CODES = new Set(['ETIMEDOUT', 'ESOCKETTIMEDOUT']);

export function describeFailure(error: unknown): QueryFailure {
  if (error instanceof QueryFailure) return error;
  if (error instanceof RetriesExhausted) {
    const last = describeFailure(error.lastError);
    return new QueryFailure(`gave up after ${error.attempts} attempts: ${last.message}`, last.reason, last.hint);
  }
  const found = readClientError(error);
  const code = found.reason ?? found.code ?? 'unknown';
  return failure(found.message, TIMEOUT_CODES.has(code) ? 'timeout' : code);
}

export function timedOut(): QueryFailure {
  return failure('query timed out', 'timeout');
}

/** A job that failed after it was created: no page of it will ever come, only a new job can help. */
export class JobFailed extends Error {
  constructor(readonly failure: QueryFailure) {
    super(failure.message);
  }
}

export interface JobMetadata {
  status?: { errorResult?: { reason?: string; message?: string } };
  statistics?: { query?: Record<string, string> };
  configuration?: { query?: { destinationTable?: unknown } };
}

/** The job resource when the client's error is "this job was created and failed", else undefined. */
export function failedJobOf(error: unknown): JobMetadata | undefined {
  const response = (error as { response?: JobMetadata } | undefined)?.response;
  return response?.status?.errorResult ? response : undefined;
}

/** The HTTP status of a client error, if it has one. */
export function statusOf(error: unknown): number | undefined {
  return readClientError(error).status;
}
