// Errors in the shape Google APIs return them.

const STATUS_BY_CODE: Record<number, string> = {
  400: 'INVALID_ARGUMENT',
  403: 'PERMISSION_DENIED',
  404: 'NOT_FOUND',
  409: 'ALREADY_EXISTS',
  429: 'RESOURCE_EXHAUSTED',
  500: 'INTERNAL',
  501: 'UNIMPLEMENTED',
  503: 'UNAVAILABLE',
};

export class BqError extends Error {
  constructor(
    readonly code: number,
    readonly reason: string,
    message: string,
    readonly location?: string,
  ) {
    super(message);
  }

  static notFound(message: string): BqError {
    return new BqError(404, 'notFound', `Not found: ${message}`);
  }

  static duplicate(message: string): BqError {
    return new BqError(409, 'duplicate', `Already Exists: ${message}`);
  }

  static invalid(message: string): BqError {
    return new BqError(400, 'invalid', message);
  }

  static invalidQuery(message: string): BqError {
    return new BqError(400, 'invalidQuery', message, 'query');
  }

  /** The `errors[]` entry / `errorResult` of a job. */
  toErrorProto(): { reason: string; message: string; location?: string; domain?: string } {
    return {
      message: this.message,
      domain: 'global',
      reason: this.reason,
      ...(this.location !== undefined ? { location: this.location, locationType: 'other' } : {}),
    };
  }

  toResponseBody(): object {
    return {
      error: {
        code: this.code,
        message: this.message,
        errors: [this.toErrorProto()],
        status: STATUS_BY_CODE[this.code] ?? 'UNKNOWN',
      },
    };
  }
}

export function asBqError(err: unknown): BqError {
  if (err instanceof BqError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new BqError(500, 'internalError', message);
}
