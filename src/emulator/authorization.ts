// Records the Authorization headers of the BigQuery requests the server receives, so a test can
// tell that a client really sent credentials. It only records: the server accepts every request
// whatever its header says, and keeps no token, only a SHA-256 of each.
import { createHash } from 'node:crypto';

export interface AuthorizationCounters {
  /** BigQuery requests seen (not those under /emulator/). */
  requests: number;
  /** Requests with `Authorization: Bearer <token>`. */
  bearer: number;
  /** Requests with an Authorization header of another scheme. */
  otherScheme: number;
  /** Requests per bearer token, keyed by the hex SHA-256 of the token. */
  bearerBySha256: Record<string, number>;
}

export function sha256Hex(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

export class AuthorizationRecord {
  private readonly counters: AuthorizationCounters = { requests: 0, bearer: 0, otherScheme: 0, bearerBySha256: {} };

  record(header: string | undefined): void {
    this.counters.requests++;
    if (header === undefined || header === '') return;
    const bearer = /^Bearer\s+(\S+)$/i.exec(header.trim());
    if (!bearer) {
      this.counters.otherScheme++;
      return;
    }
    this.counters.bearer++;
    const key = sha256Hex(bearer[1]!);
    this.counters.bearerBySha256[key] = (this.counters.bearerBySha256[key] ?? 0) + 1;
  }

  stats(): AuthorizationCounters {
    return { ...this.counters, bearerBySha256: { ...this.counters.bearerBySha256 } };
  }
}
