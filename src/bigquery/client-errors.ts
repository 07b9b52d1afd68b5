// The shapes errors of the BigQuery client take, read in one place: an ApiError (HTTP status and
// `errors[].reason`), a job's `errorResult`, or a transport error with a socket code.

export interface ClientError {
  /** HTTP status, when the server answered. */
  status?: number;
  /** BigQuery's error reason (`rateLimitExceeded`, `notFound`, …). */
  reason?: string;
  /** A socket or transport code (`ECONNRESET`, …). */
  code?: string;
  message: string;
}

interface ErrorShape {
  code?: number | string;
  message?: string;
  reason?: string;
  errors?: { reason?: string; message?: string }[];
  cause?: { code?: string };
}

export function readClientError(error: unknown): ClientError {
  if (typeof error !== 'object' || error === null) return { message: String(error) };
  const found = error as ErrorShape;
  const reason = found.errors?.[0]?.reason ?? found.reason;
  const code = typeof found.code === 'string' ? found.code : found.cause?.code;
  return {
    ...(typeof found.code === 'number' && { status: found.code }),
    ...(reason !== undefined && { reason }),
    ...(code !== undefined && { code }),
    message: found.errors?.[0]?.message ?? found.message ?? String(error),
  };
}
