// A realistic, reproducible GKE workload's logs for the demo and benchmarks: several namespaces,
// deployments whose pods are replaced over time, sidecars, stdout and stderr, text and JSON payloads.
import type { TableField } from '@google-cloud/bigquery';
import type { LogEntry } from './sink-tables.js';
import { HOUR_MS } from '../model/time-model.js';

/** jsonPayload fields as a sink infers them from the payloads below (numbers become FLOAT). */
export const SYNTHETIC_JSON_FIELDS: TableField[] = [
  { name: 'level', type: 'STRING', mode: 'NULLABLE' },
  { name: 'message', type: 'STRING', mode: 'NULLABLE' },
  { name: 'path', type: 'STRING', mode: 'NULLABLE' },
  { name: 'status', type: 'FLOAT', mode: 'NULLABLE' },
  { name: 'latency_ms', type: 'FLOAT', mode: 'NULLABLE' },
  { name: 'user', type: 'STRING', mode: 'NULLABLE' },
];

interface Workload {
  namespace: string;
  deployment: string;
  containers: { name: string; style: 'json' | 'nginx' | 'java' | 'proxy' }[];
  replicas: number;
  /** Lines per minute per container. */
  rate: number;
  /** Pods are replaced (a rollout) this often. */
  podLifetimeHours: number;
}

const WORKLOADS: Workload[] = [
  {
    namespace: 'default',
    deployment: 'frontend',
    containers: [{ name: 'nginx', style: 'nginx' }],
    replicas: 2,
    rate: 3,
    podLifetimeHours: 20,
  },
  {
    namespace: 'payments',
    deployment: 'api',
    containers: [
      { name: 'app', style: 'json' },
      { name: 'istio-proxy', style: 'proxy' },
    ],
    replicas: 2,
    rate: 2,
    podLifetimeHours: 14,
  },
  {
    namespace: 'payments',
    deployment: 'ledger',
    containers: [{ name: 'app', style: 'java' }],
    replicas: 1,
    rate: 1,
    podLifetimeHours: 30,
  },
  {
    namespace: 'monitoring',
    deployment: 'agent',
    containers: [{ name: 'agent', style: 'json' }],
    replicas: 3,
    rate: 1,
    podLifetimeHours: 48,
  },
];

const PATHS = ['/', '/api/v1/orders', '/api/v1/payments', '/healthz', '/api/v1/users/42', '/static/app.js'];
const USERS = ['alice', 'bob', 'carol', 'dave', 'émilie', '山田'];

/** A small deterministic PRNG, so the demo data is the same for the same start time. */
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

function suffix(random: () => number, length: number): string {
  const alphabet = 'bcdfghjklmnpqrstvwxz2456789';
  let text = '';
  for (let i = 0; i < length; i++) text += alphabet[Math.floor(random() * alphabet.length)];
  return text;
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

/** Entries from `startMs` to `endMs`, ordered by time per container. */
export function* syntheticEntries(startMs: number, endMs: number, seed = 1): Generator<LogEntry> {
  const random = prng(seed);
  let sequence = 0;
  for (const workload of WORKLOADS) {
    const hash = suffix(random, 9);
    for (let replica = 0; replica < workload.replicas; replica++) {
      const lifetimeMs = workload.podLifetimeHours * HOUR_MS;
      // Stagger replicas so pods come and go at different times.
      const offset = Math.floor(random() * lifetimeMs);
      for (let podStart = startMs - offset; podStart < endMs; podStart += lifetimeMs) {
        const pod = `${workload.deployment}-${hash}-${suffix(random, 5)}`;
        for (const container of workload.containers) {
          const from = Math.max(startMs, podStart);
          const to = Math.min(endMs, podStart + lifetimeMs);
          const meanGapMs = 60_000 / workload.rate;
          for (let at = from + random() * meanGapMs; at < to; at += random() * 2 * meanGapMs) {
            const ms = Math.floor(at);
            yield {
              namespace: workload.namespace,
              pod,
              container: container.name,
              timestamp: isoMicros(ms, (ms % 1000) * 1000 + Math.floor(random() * 1000)),
              insertId: `${(sequence++).toString(36)}-${suffix(random, 8)}`,
              ...line(container.style, random, ms),
            };
          }
        }
      }
    }
  }
}
