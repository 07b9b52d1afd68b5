// Which BigQuery failures the retry policy calls transient, and how long it waits before the next
// attempt. No server, no mount.
import t from 'tap';
import { backoffDelayMs, isRetryable } from '../src/bigquery/retry-policy.js';

t.test('what the retry policy calls transient', async (t) => {
  const api = (code: number | undefined, reason?: string) => ({ code, errors: reason ? [{ reason }] : undefined });
  for (const error of [
    api(500, 'backendError'),
    api(503, 'backendError'),
    api(500, 'internalError'),
    api(403, 'rateLimitExceeded'),
    api(429),
    api(502),
    api(504),
    { code: 'ECONNRESET', message: 'aborted' },
    { code: 'ETIMEDOUT', message: 'no answer' },
    { message: 'socket hang up' },
    { message: 'Premature close' },
  ]) {
    t.ok(isRetryable(error), `retryable: ${JSON.stringify(error)}`);
  }
  for (const error of [
    api(404, 'notFound'),
    api(403, 'accessDenied'),
    api(400, 'invalidQuery'),
    api(400, 'bytesBilledLimitExceeded'),
    { code: 'ECONNREFUSED', message: 'connect ECONNREFUSED' },
    new Error('something else'),
  ]) {
    t.notOk(isRetryable(error), `final: ${JSON.stringify(error)}`);
  }
  const policy = { initialDelayMs: 500, maxDelayMs: 32_000 };
  const waits: [retry: number, random: number, delayMs: number, what: string][] = [
    [1, 0.999, 499, 'the first wait is below the initial delay'],
    [3, 0.5, 1_000, 'the ceiling doubles'],
    [20, 0.999, 31_968, 'up to the maximum'],
    [4, 0, 0, 'full jitter: from zero'],
  ];
  for (const [retry, random, delayMs, what] of waits) {
    const delay = backoffDelayMs(retry, policy, () => random);
    t.equal(delay, delayMs, what);
  }
});
