// Errors of the Storage Read API as gRPC statuses.
import { status, type ServiceError } from '@grpc/grpc-js';
import { BqError } from '../errors.js';

const STATUS_BY_HTTP: Record<number, status> = {
  400: status.INVALID_ARGUMENT,
  403: status.PERMISSION_DENIED,
  404: status.NOT_FOUND,
  409: status.ALREADY_EXISTS,
  429: status.RESOURCE_EXHAUSTED,
  500: status.INTERNAL,
  501: status.UNIMPLEMENTED,
  503: status.UNAVAILABLE,
};

export class StorageError extends Error {
  constructor(
    readonly code: status,
    message: string,
  ) {
    super(message);
  }

  static invalid(message: string): StorageError {
    return new StorageError(status.INVALID_ARGUMENT, message);
  }

  static notFound(message: string): StorageError {
    return new StorageError(status.NOT_FOUND, message);
  }

  /** The same failure as the REST API reports it with an HTTP status. */
  static fromHttp(httpStatus: number, message: string): StorageError {
    return new StorageError(STATUS_BY_HTTP[httpStatus] ?? status.UNKNOWN, message);
  }
}

/** Any error as what a gRPC handler reports. */
export function grpcError(err: unknown): Partial<ServiceError> & { code: status; details: string } {
  if (err instanceof StorageError) return { code: err.code, details: err.message };
  if (err instanceof BqError) {
    // A quota refusal is 403 in REST but RESOURCE_EXHAUSTED in gRPC; other 403s are PERMISSION_DENIED.
    if (err.reason === 'rateLimitExceeded') return { code: status.RESOURCE_EXHAUSTED, details: err.message };
    return { code: STATUS_BY_HTTP[err.code] ?? status.UNKNOWN, details: err.message };
  }
  const message = err instanceof Error ? err.message : String(err);
  // A result table dropped while a stream was reading it.
  if (/does not exist/i.test(message)) return { code: status.NOT_FOUND, details: `Not found: ${message}` };
  return { code: status.INTERNAL, details: message };
}
