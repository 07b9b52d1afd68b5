// Which BigQuery failures are worth another attempt, and how long to wait before it: exponential
// backoff with full jitter, never past the caller's deadline.
import { setTimeout as sleep } from 'node:timers/promises';
import { readClientError } from './client-errors.js';

/** HTTP statuses BigQuery documents as transient. 408 is a request that took too long to arrive. */
const RETRYABLE_STATUS = new Set([408, 429, 500, 502, 503, 504]);

/**
 * Error reasons BigQuery documents as transient. rateLimitExceeded comes with 403, so the status
 * alone would call it final. The job* reasons are jobs that failed for BigQuery's own reasons.
 */
const RETRYABLE_REASONS = new Set([
  'backendError',
  'internalError',
  'rateLimitExceeded',
  'jobBackendError',
  'jobInternalError',
]);

/** Transport failures: the connection broke or the request got no answer in time. */
const RETRYABLE_CODES = new Set([
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EAI_AGAIN',
  'ECONNABORTED',
  'ERR_STREAM_PREMATURE_CLOSE',
  'UND_ERR_SOCKET',
]);

export function isRetryable(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const { status, reason, code, message } = readClientError(error);
  if (reason !== undefined) return RETRYABLE_REASONS.has(reason);
  if (status !== undefined) return RETRYABLE_STATUS.has(status);
  if (code !== undefined && RETRYABLE_CODES.has(code)) return true;
  // node-fetch reports a response cut short without an error code.
  return /socket hang up|premature close|aborted|network timeout/i.test(message);
}

export interface BackoffPolicy {
  /** The ceiling of the first wait; it doubles with each attempt. */
  initialDelayMs: number;
  maxDelayMs: number;
}

/**
 * 0.5 s doubling to 32 s: a reader is waiting, so the first retry comes soon, while a BigQuery that
 * keeps refusing is asked less and less often. Full jitter keeps concurrent queries that failed
 * together from retrying together.
 */
export const DEFAULT_BACKOFF: BackoffPolicy = { initialDelayMs: 500, maxDelayMs: 32_000 };

/** The wait before retry number `retry` (1 for the first): uniform in [0, min(max, initial · 2^(retry-1))). */
export function backoffDelayMs(retry: number, policy: BackoffPolicy, random: () => number = Math.random): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.initialDelayMs * 2 ** Math.max(0, retry - 1));
  return Math.floor(random() * ceiling);
}

/** Raised when the deadline leaves no room for another attempt; carries the last failure. */
export class RetriesExhausted extends Error {
  constructor(
    readonly lastError: unknown,
    readonly attempts: number,
  ) {
    super('retries exhausted');
  }
}

/** One query's allowance: a deadline shared by all of its requests, retries and waits. */
export class RetryBudget {
  private retries = 0;

  constructor(
    readonly deadlineMs: number,
    private readonly onRetry: (error: unknown, delayMs: number) => void = () => undefined,
    private readonly policy: BackoffPolicy = DEFAULT_BACKOFF,
  ) {}

  remainingMs(): number {
    return this.deadlineMs - Date.now();
  }

  /** How many retries this budget has paid for. */
  get retryCount(): number {
    return this.retries;
  }

  /**
   * Waits before retry number `retry` (1 for the first after a success) after `error`. Throws the
   * error itself when it is final, and RetriesExhausted when the wait would run into the deadline.
   */
  async backoff(error: unknown, retry: number): Promise<void> {
    if (!isRetryable(error)) throw error;
    const delay = backoffDelayMs(retry, this.policy);
    if (delay >= this.remainingMs()) throw new RetriesExhausted(error, this.retries + 1);
    this.retries++;
    this.onRetry(error, delay);
    await sleep(delay);
  }

  /** Runs `attempt` until it succeeds, retrying retryable failures while the deadline allows. */
  async run<T>(attempt: () => Promise<T>, beforeRetry?: (error: unknown) => Promise<void>): Promise<T> {
    for (let retry = 1; ; retry++) {
      try {
        return await attempt();
      } catch (error) {
        await this.backoff(error, retry);
        await beforeRetry?.(error);
      }
    }
  }
}
