// The errors the mount answers the kernel with. Every failure on the way down becomes one errno
// here, with the log line that says why when the user needs one; the FUSE adapter only turns the
// errno name into fuse-native's number.
import type { Logger } from 'pino';
import { QueryFailure } from '../bigquery/failures.js';

export type Errno = 'ENOENT' | 'ENOTDIR' | 'EIO' | 'EROFS' | 'EBADF' | 'EISDIR' | 'EINVAL' | 'ETIMEDOUT';

/** What to log for an error, once, where it is answered. */
interface ErrorReport {
  message: string;
  details: Record<string, unknown>;
}

export class FsError extends Error {
  constructor(
    readonly errno: Errno,
    /** Logged at error level when answered; an expected answer (ENOENT for a typo) logs nothing. */
    readonly report?: ErrorReport,
  ) {
    super(errno);
  }
}

/**
 * The errno for any failure: a tree error is its own; a failed query is EIO, logged with BigQuery's
 * reason and what to do; anything else is EIO, logged as unexpected.
 */
export function fsErrorOf(error: unknown): FsError {
  if (error instanceof FsError) return error;
  if (error instanceof QueryFailure) {
    return new FsError('EIO', {
      message: `read failed: ${error.message}`,
      details: { reason: error.reason, hint: error.hint },
    });
  }
  return new FsError('EIO', { message: 'unexpected failure', details: { err: error } });
}

/** Logs what the error says should be logged, with the operation and path it failed. */
export function reportFsError(log: Logger, error: FsError, op: string, path: string): void {
  if (error.report) log.error({ op, path, ...error.report.details }, error.report.message);
}
