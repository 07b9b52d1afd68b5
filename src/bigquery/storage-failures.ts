// What the Storage Read API's gRPC failures mean for a read: retried, given up, or a reason to
// read over REST instead.
import { failure, QueryFailure } from './failures.js';

/** The Storage Read API cannot be used here (not enabled, no permission, not served): read over REST. */
export class ReadApiUnavailable extends Error {}

/** What to do when the Storage Read API cannot be used. */
export const STORAGE_READ_HINT =
  'enable the BigQuery Storage API (bigquerystorage.googleapis.com) in the project and grant the mounting ' +
  'identity roles/bigquery.readSessionUser; or pass --read-api rest to say so and silence this';

export const GRPC = {
  CANCELLED: 1,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  ABORTED: 10,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
} as const;

export function grpcCode(error: unknown): number | undefined {
  const code = (error as { code?: unknown } | undefined)?.code;
  return typeof code === 'number' ? code : undefined;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** A gRPC failure in the shape the retry policy reads: transient ones carry a retryable reason. */
export function failureOfGrpc(error: unknown): QueryFailure {
  if (error instanceof QueryFailure) return error;
  const message = `Storage Read API: ${messageOf(error)}`;
  switch (grpcCode(error)) {
    case GRPC.RESOURCE_EXHAUSTED:
      return failure(message, 'rateLimitExceeded');
    // An expired read session: readRange drops it, and the retry creates a new one.
    case GRPC.FAILED_PRECONDITION:
    case GRPC.CANCELLED:
    case GRPC.DEADLINE_EXCEEDED:
    case GRPC.ABORTED:
    case GRPC.INTERNAL:
    case GRPC.UNAVAILABLE:
      return failure(message, 'backendError');
    case GRPC.NOT_FOUND:
      return failure(message, 'resultExpired');
    default:
      return failure(message, 'storageReadFailed');
  }
}

/**
 * A failure to create a read session as ReadApiUnavailable when it means the API cannot be used at
 * all: no permission, not enabled or not served, or nothing listening; undefined for any other.
 */
export function readApiUnavailable(error: unknown): ReadApiUnavailable | undefined {
  const code = grpcCode(error);
  const unreachable = code === GRPC.UNAVAILABLE && /ECONNREFUSED|No connection established/.test(messageOf(error));
  if (code === GRPC.PERMISSION_DENIED || code === GRPC.UNIMPLEMENTED || unreachable) {
    return new ReadApiUnavailable(messageOf(error));
  }
  return undefined;
}
