// A time limit on every HTTP request made on behalf of a query. The BigQuery client accepts a
// `timeout`, but its transport (teeny-request on node-fetch 3) drops it, so a server that stops
// answering would hold a read forever. Node announces each outgoing request on a diagnostics
// channel; requests started inside `withRequestTimeouts` are destroyed once their limit passes,
// which fails them in the client like a broken connection.
import { AsyncLocalStorage } from 'node:async_hooks';
import { subscribe } from 'node:diagnostics_channel';
import type { ClientRequest } from 'node:http';

export class RequestTimeout extends Error {
  readonly code = 'ETIMEDOUT';
}

const limits = new AsyncLocalStorage<() => number>();
let subscribed = false;

function limitRequest(message: unknown): void {
  const limitMs = limits.getStore()?.();
  if (limitMs === undefined) return;
  const { request } = message as { request: ClientRequest };
  const timer = setTimeout(
    () => request.destroy(new RequestTimeout(`no answer from BigQuery within ${limitMs} ms`)),
    Math.max(0, limitMs),
  );
  timer.unref();
  // 'close' comes after the response has been read to its end, or when the request failed.
  request.once('close', () => clearTimeout(timer));
}

/** Runs `work`; each HTTP request it starts gets `limitMs()` milliseconds, asked when it starts. */
export function withRequestTimeouts<T>(limitMs: () => number, work: () => Promise<T>): Promise<T> {
  if (!subscribed) {
    subscribe('http.client.request.start', limitRequest);
    subscribed = true;
  }
  return limits.run(limitMs, work);
}
