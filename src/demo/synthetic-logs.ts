// What the demo's cluster logs: nginx access lines, JSON request logs, Java stack traces and proxy
// lines, on stdout and stderr, reproducible for any window of time.
import type { TableField } from '@google-cloud/bigquery';
import type { LogEntry } from './sink-tables.js';
import { mix, podsBetween } from './cluster.js';

/** jsonPayload fields as a sink infers them from the payloads below (numbers become FLOAT). */
export const SYNTHETIC_JSON_FIELDS: TableField[] = [
  { name: 'level', type: 'STRING', mode: 'NULLABLE' },
  { name: 'message', type: 'STRING', mode: 'NULLABLE' },
  { name: 'path', type: 'STRING', mode: 'NULLABLE' },
  { name: 'status', type: 'FLOAT', mode: 'NULLABLE' },
  { name: 'latency_ms', type: 'FLOAT', mode: 'NULLABLE' },
  { name: 'user', type: 'STRING', mode: 'NULLABLE' },
];

const PATHS = ['/', '/api/v1/orders', '/api/v1/payments', '/healthz', '/api/v1/users/42', '/static/app.js'];
const USERS = ['alice', 'bob', 'carol', 'dave', 'émilie', '山田'];

/** A small deterministic PRNG, so a line is the same whichever window generates it. */
function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function pick<T>(random: () => number, items: readonly T[]): T {
  return items[Math.floor(random() * items.length)] as T;
}

function isoMicros(ms: number, micros: number): string {
  return `${new Date(ms).toISOString().slice(0, 19)}.${String(micros).padStart(6, '0')}Z`;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** nginx's `$time_local` in UTC: `26/Nov/2026:15:37:40 +0000`. */
function nginxTime(ms: number): string {
  const date = new Date(ms);
  const day = String(date.getUTCDate()).padStart(2, '0');
  return `${day}/${MONTHS[date.getUTCMonth()]}/${date.getUTCFullYear()}:${date.toISOString().slice(11, 19)} +0000`;
}

function line(
  style: string,
  random: () => number,
  ms: number,
): Pick<LogEntry, 'stream' | 'textPayload' | 'jsonPayload'> {
  const path = pick(random, PATHS);
  const status = random() < 0.93 ? 200 : pick(random, [404, 500, 503]);
  switch (style) {
    case 'nginx':
      return {
        stream: 'stdout',
        textPayload: `10.4.${Math.floor(random() * 255)}.${Math.floor(random() * 255)} - - [${nginxTime(ms)}] "GET ${path} HTTP/1.1" ${status} ${Math.floor(random() * 9000)} "-" "curl/8.5.0"\n`,
      };
    case 'java':
      return random() < 0.1
        ? {
            stream: 'stderr',
            textPayload: `java.lang.IllegalStateException: ledger entry ${Math.floor(random() * 1e6)} out of balance\n\tat com.example.ledger.Book.post(Book.java:${Math.floor(random() * 400)})`,
          }
        : { stream: 'stdout', textPayload: `INFO  [ledger] posted batch of ${Math.floor(random() * 50)} entries` };
    case 'proxy':
      return {
        stream: 'stdout',
        textPayload: `[${status}] ${path} upstream_time=${Math.floor(random() * 120)}ms`,
      };
    default: {
      const failed = status >= 500;
      return {
        stream: failed ? 'stderr' : 'stdout',
        jsonPayload: {
          level: failed ? 'error' : 'info',
          message: failed ? `request failed: upstream ${status}` : 'request served',
          path,
          status,
          latency_ms: Math.round(random() * 25000) / 100,
          ...(random() < 0.5 && { user: pick(random, USERS) }),
        },
      };
    }
  }
}

/**
 * The entries the cluster logged within [startMs, endMs), ordered by time per container. Each second
 * of each container decides on its own whether it holds a line, so windows that follow each other
 * add up to the entries of the whole span, and a container's rate is the same in any window.
 */
export function* syntheticEntries(startMs: number, endMs: number): Generator<LogEntry> {
  for (const span of podsBetween(startMs, endMs)) {
    const from = Math.max(startMs, span.fromMs);
    const to = Math.min(endMs, span.toMs);
    for (const [index, container] of span.workload.containers.entries()) {
      const chance = container.rate / 60;
      for (let second = Math.floor(from / 1000); second * 1000 < to; second++) {
        const random = prng(mix(span.seed, index, second));
        if (random() >= chance) continue;
        const ms = second * 1000 + Math.floor(random() * 1000);
        if (ms < from || ms >= to) continue;
        yield {
          namespace: span.workload.namespace,
          pod: span.pod,
          container: container.name,
          timestamp: isoMicros(ms, (ms % 1000) * 1000 + Math.floor(random() * 1000)),
          insertId: `${span.pod}-${index}-${second.toString(36)}`,
          controller: { name: span.workload.deployment, kind: 'Deployment' },
          ...line(container.style, random, ms),
        };
      }
    }
  }
}
