// How long BigQuery calls may take: each query's deadline, shared by its requests, retries and
// waits, and the share of it one HTTP request may use.
import type { Logger } from 'pino';
import { withDeadline } from '../model/deadline.js';
import { describeFailure, timedOut } from './failures.js';
import { limitHttpRequests } from './request-timeouts.js';
import { RetryBudget } from './retry-policy.js';

/** One HTTP request may take at most this long, so a hung one leaves time to try again. */
const MAX_REQUEST_MS = 30_000;
const MIN_REQUEST_MS = 2_000;

export class CallPolicy {
  constructor(
    private readonly timeoutMs: number,
    private readonly log: Logger,
  ) {
    limitHttpRequests(this.requestShareMs());
  }

  /** A deadline `timeoutMs` after `startedAtMs`, logging each retry it pays for. */
  budget(what: string, startedAtMs = Date.now()): RetryBudget {
    return new RetryBudget(startedAtMs + this.timeoutMs, (error, delayMs) => {
      const failure = describeFailure(error);
      this.log.debug({ purpose: what, reason: failure.reason, err: failure.message, delayMs }, 'retrying');
    });
  }

  /** Waits for one client call, but never past the deadline, whatever the client does meanwhile. */
  timed<T>(budget: RetryBudget, call: Promise<T>): Promise<T> {
    return withDeadline(call, budget.remainingMs(), timedOut);
  }

  /** A quarter of the query's time, 2 s to 30 s, and never past the deadline. */
  requestLimitMs(budget: RetryBudget): number {
    return Math.max(0, Math.min(this.requestShareMs(), budget.remainingMs()));
  }

  private requestShareMs(): number {
    return Math.min(MAX_REQUEST_MS, Math.max(MIN_REQUEST_MS, this.timeoutMs / 4));
  }
}
