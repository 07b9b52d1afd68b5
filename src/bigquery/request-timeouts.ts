// A time limit on every HTTP request the process makes (they all go to BigQuery). The BigQuery
// client accepts a `timeout`, but its transport (teeny-request on node-fetch 3) drops it, so a
// server that stops answering would hold a read forever. Node announces each outgoing request on a
// diagnostics channel; a request still open when its limit passes is destroyed, which fails it in
// the client like a broken connection, and the retry policy takes over. (One limit for the whole
// process, rather than one per query through AsyncLocalStorage: that would put async hooks on every
// promise of the read path. Each query's own deadline is enforced where it waits.)
import { subscribe } from 'node:diagnostics_channel';
import type { ClientRequest } from 'node:http';

export class RequestTimeout extends Error {
  readonly code = 'ETIMEDOUT';
}

let limitMs: number | undefined;

function limitRequest(message: unknown): void {
  if (limitMs === undefined) return;
  const limit = limitMs;
  const { request } = message as { request: ClientRequest };
  const timer = setTimeout(
    () => request.destroy(new RequestTimeout(`no answer from BigQuery within ${limit} ms`)),
    limit,
  );
  timer.unref();
  // 'close' comes after the response has been read to its end, or when the request failed.
  request.once('close', () => clearTimeout(timer));
}

/** Gives every HTTP request from now on at most `ms` milliseconds (the smallest limit asked for wins). */
export function limitHttpRequests(ms: number): void {
  if (limitMs === undefined) subscribe('http.client.request.start', limitRequest);
  limitMs = Math.min(limitMs ?? Infinity, ms);
}
