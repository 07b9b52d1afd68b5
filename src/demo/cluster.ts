// The demo's cluster: deployments whose pods live from one rollout to the next. Which pods run at a
// moment depends only on that moment, so the history loaded at start and the entries added while the
// demo runs come from the same pods, and a pod is replaced only when its deployment rolls out.
import { HOUR_MS } from '../model/time-model.js';

export type LineStyle = 'json' | 'nginx' | 'java' | 'proxy';

export interface Workload {
  namespace: string;
  deployment: string;
  containers: { name: string; style: LineStyle; /** Lines per minute. */ rate: number }[];
  replicas: number;
  /** The deployment rolls out (all its pods are replaced) this often. */
  rolloutEveryHours: number;
}

export const WORKLOADS: readonly Workload[] = [
  {
    namespace: 'default',
    deployment: 'frontend',
    containers: [{ name: 'nginx', style: 'nginx', rate: 8 }],
    replicas: 2,
    rolloutEveryHours: 20,
  },
  {
    namespace: 'payments',
    deployment: 'api',
    containers: [
      { name: 'app', style: 'json', rate: 6 },
      { name: 'istio-proxy', style: 'proxy', rate: 6 },
    ],
    replicas: 2,
    rolloutEveryHours: 14,
  },
  {
    namespace: 'payments',
    deployment: 'ledger',
    containers: [{ name: 'app', style: 'java', rate: 2 }],
    replicas: 1,
    rolloutEveryHours: 30,
  },
  {
    namespace: 'monitoring',
    deployment: 'agent',
    containers: [{ name: 'agent', style: 'json', rate: 1 }],
    replicas: 3,
    rolloutEveryHours: 48,
  },
];

/** An old pod keeps logging this long after its replacement started, as in a rolling update. */
const ROLLOUT_OVERLAP_MS = 30_000;

/** One pod and when it ran: from its rollout until 30 s after the next one began. */
export interface PodSpan {
  workload: Workload;
  pod: string;
  fromMs: number;
  toMs: number;
  /** Seeds everything the pod logs, so its lines are the same whichever window generates them. */
  seed: number;
}

/** A 32-bit mix of numbers (a murmur3-style finalizer over each), for names and line choices. */
export function mix(...values: number[]): number {
  let hash = 0x9e3779b9;
  for (const value of values) {
    hash = Math.imul(hash ^ (value >>> 0), 0x85ebca6b);
    hash ^= hash >>> 13;
    hash = Math.imul(hash, 0xc2b2ae35);
    hash ^= hash >>> 16;
    // Numbers beyond 32 bits keep their high part too.
    if (Math.abs(value) > 0xffffffff) hash = mix(hash, Math.floor(value / 2 ** 32));
  }
  return hash >>> 0;
}

function textSeed(text: string): number {
  return mix(...Array.from(text, (char) => char.codePointAt(0) ?? 0));
}

const NAME_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

/** Kubernetes-style random suffix, derived from a seed. */
function nameSuffix(seed: number, length: number): string {
  let text = '';
  for (let i = 0; i < length; i++) text += NAME_ALPHABET[mix(seed, i) % NAME_ALPHABET.length];
  return text;
}

/** The pods that ran at some time within [startMs, endMs), with the span each ran. */
export function podsBetween(startMs: number, endMs: number): PodSpan[] {
  const spans: PodSpan[] = [];
  for (const workload of WORKLOADS) {
    const periodMs = workload.rolloutEveryHours * HOUR_MS;
    const workloadSeed = textSeed(`${workload.namespace}/${workload.deployment}`);
    // Deployments roll out at different times of day.
    const phaseMs = mix(workloadSeed) % periodMs;
    const first = Math.floor((startMs - phaseMs - ROLLOUT_OVERLAP_MS) / periodMs);
    for (let revision = first; revision * periodMs + phaseMs < endMs; revision++) {
      const fromMs = revision * periodMs + phaseMs;
      const toMs = fromMs + periodMs + ROLLOUT_OVERLAP_MS;
      if (toMs <= startMs) continue;
      const templateHash = nameSuffix(mix(workloadSeed, revision), 10);
      for (let replica = 0; replica < workload.replicas; replica++) {
        const seed = mix(workloadSeed, revision, replica);
        spans.push({
          workload,
          pod: `${workload.deployment}-${templateHash}-${nameSuffix(seed, 5)}`,
          fromMs,
          toMs,
          seed,
        });
      }
    }
  }
  return spans;
}
