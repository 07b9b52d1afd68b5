// The fault plan a test sets: rules that each name a BigQuery endpoint (REST or Storage Read API)
// and a fault, fired by count and/or probability; and how a plan is checked before it is used.
import { BqError } from './errors.js';

export type Endpoint =
  | 'jobs.insert'
  | 'jobs.get'
  | 'jobs.getQueryResults'
  | 'jobs.query'
  | 'jobs.list'
  | 'jobs.cancel'
  | 'datasets.list'
  | 'datasets.get'
  | 'tables.list'
  | 'tables.get'
  | 'tabledata.list'
  | 'tabledata.insertAll'
  | StorageEndpoint;

/** The Storage Read API's gRPC methods. */
export type StorageEndpoint = 'storage.createReadSession' | 'storage.readRows' | 'storage.splitReadStream';

export type Fault =
  /** Delays the answer; other faults of the same request still apply. */
  | { kind: 'latency'; ms: number }
  /** An HTTP error in Google's JSON shape: 500/503 backendError, 403 rateLimitExceeded, 429. */
  | { kind: 'error'; status: 500 | 503 | 403 | 429; reason?: string }
  /** getQueryResults answers `jobComplete: false` with no rows. */
  | { kind: 'jobIncomplete' }
  /** The answer is computed, part of its body written, then the connection is destroyed. */
  | { kind: 'reset'; fraction?: number }
  /** The job fails for good from now on: jobs.get reports status.errorResult, getQueryResults the error. */
  | { kind: 'jobFailure'; reason?: string }
  /** No answer at all, until the client gives up and closes the connection. */
  | { kind: 'hang' }
  /** storage.readRows: the stream fails with UNAVAILABLE after `afterBatches` record batches (default 1). */
  | { kind: 'streamReset'; afterBatches?: number }
  /** storage.readRows: the stream ends with status OK after `afterBatches` record batches (default 1). */
  | { kind: 'streamEnd'; afterBatches?: number };

export type FaultRule = Fault & {
  /** Which requests the rule looks at; '*' is every BigQuery endpoint the fault applies to. */
  endpoint: Endpoint | '*';
  /** Chance of firing for each request it looks at; default 1. */
  probability?: number;
  /** Fires at most this many times; default unlimited. */
  count?: number;
  /** Lets this many matching requests pass before it may fire; default 0. */
  after?: number;
};

export interface FaultPlan {
  seed?: number;
  /**
   * Delay before every page of rows (jobs.query, jobs.getQueryResults, tabledata.list) and every
   * Storage Read API call: a slower network for benchmarks. Not a fault, so not counted.
   */
  latencyMs?: number;
  rules: FaultRule[];
}

export interface FaultCounters {
  /** BigQuery requests seen since the plan was set. */
  requests: number;
  /** Faults injected, latency included. */
  injected: number;
  byKind: Record<string, number>;
  byEndpoint: Record<string, number>;
}

const ENDPOINTS: { method: string; path: RegExp; endpoint: Endpoint }[] = [
  { method: 'POST', path: /^\/projects\/[^/]+\/jobs$/, endpoint: 'jobs.insert' },
  { method: 'GET', path: /^\/projects\/[^/]+\/jobs$/, endpoint: 'jobs.list' },
  { method: 'GET', path: /^\/projects\/[^/]+\/jobs\/[^/]+$/, endpoint: 'jobs.get' },
  { method: 'POST', path: /^\/projects\/[^/]+\/jobs\/[^/]+\/cancel$/, endpoint: 'jobs.cancel' },
  { method: 'POST', path: /^\/projects\/[^/]+\/queries$/, endpoint: 'jobs.query' },
  { method: 'GET', path: /^\/projects\/[^/]+\/queries\/[^/]+$/, endpoint: 'jobs.getQueryResults' },
  { method: 'GET', path: /^\/projects\/[^/]+\/datasets$/, endpoint: 'datasets.list' },
  { method: 'GET', path: /^\/projects\/[^/]+\/datasets\/[^/]+$/, endpoint: 'datasets.get' },
  { method: 'GET', path: /^\/projects\/[^/]+\/datasets\/[^/]+\/tables$/, endpoint: 'tables.list' },
  { method: 'GET', path: /^\/projects\/[^/]+\/datasets\/[^/]+\/tables\/[^/]+$/, endpoint: 'tables.get' },
  { method: 'GET', path: /^\/projects\/[^/]+\/datasets\/[^/]+\/tables\/[^/]+\/data$/, endpoint: 'tabledata.list' },
  {
    method: 'POST',
    path: /^\/projects\/[^/]+\/datasets\/[^/]+\/tables\/[^/]+\/insertAll$/,
    endpoint: 'tabledata.insertAll',
  },
];

const STORAGE_ENDPOINTS = new Set<Endpoint>([
  'storage.createReadSession',
  'storage.readRows',
  'storage.splitReadStream',
]);
const KNOWN_ENDPOINTS = new Set<string>([...ENDPOINTS.map((entry) => entry.endpoint), ...STORAGE_ENDPOINTS]);
const JOB_ENDPOINTS = new Set<Endpoint>(['jobs.insert', 'jobs.get', 'jobs.getQueryResults']);
export const PAGE_ENDPOINTS = new Set<Endpoint>([
  'jobs.query',
  'jobs.getQueryResults',
  'tabledata.list',
  ...STORAGE_ENDPOINTS,
]);

/** Which BigQuery method a request calls; undefined for anything else (such as /emulator/...). */
export function endpointOf(method: string, pathname: string): Endpoint | undefined {
  const path = pathname.startsWith('/bigquery/v2/') ? pathname.slice('/bigquery/v2'.length) : pathname;
  return ENDPOINTS.find((entry) => entry.method === method && entry.path.test(path))?.endpoint;
}

export function appliesTo(fault: Fault, endpoint: Endpoint): boolean {
  if (fault.kind === 'jobIncomplete') return endpoint === 'jobs.getQueryResults';
  if (fault.kind === 'jobFailure') return JOB_ENDPOINTS.has(endpoint);
  if (fault.kind === 'streamReset' || fault.kind === 'streamEnd') return endpoint === 'storage.readRows';
  if (fault.kind === 'reset') return !STORAGE_ENDPOINTS.has(endpoint);
  return true;
}

const ERROR_DEFAULTS: Record<number, { reason: string; message: string }> = {
  500: { reason: 'backendError', message: 'Backend error. Please retry the request.' },
  503: { reason: 'backendError', message: 'The service is currently unavailable. Please retry the request.' },
  403: { reason: 'rateLimitExceeded', message: 'Exceeded rate limits: too many API requests per user per method.' },
  429: { reason: 'rateLimitExceeded', message: 'Too many requests. Please retry with exponential backoff.' },
};

/** Messages of reasons that are not their status's default, as BigQuery words them. */
const REASON_MESSAGES: Record<string, string> = {
  accessDenied: 'Access Denied: the caller does not have the permission this request needs (injected fault).',
};

/**
 * The error an `error` fault answers with; the Storage Read API reports it as the matching gRPC
 * status (403 `accessDenied` as PERMISSION_DENIED, 403 `rateLimitExceeded` as RESOURCE_EXHAUSTED).
 */
export function injectedError(fault: { status: 500 | 503 | 403 | 429; reason?: string }): BqError {
  const defaults = ERROR_DEFAULTS[fault.status]!;
  const reason = fault.reason ?? defaults.reason;
  return new BqError(fault.status, reason, REASON_MESSAGES[reason] ?? defaults.message);
}

export function failedJobError(reason: string): BqError {
  return new BqError(reason === 'backendError' || reason === 'internalError' ? 500 : 400, reason, 'Job failed.');
}

/** A small seeded generator (xorshift32): enough to spread faults reproducibly, not for anything else. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0 || 0x9e3779b9;
  return () => {
    state ^= state << 13;
    state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    return state / 0x1_0000_0000;
  };
}

function validRule(raw: unknown): FaultRule {
  const rule = raw as Partial<FaultRule> & Record<string, unknown>;
  const fail = (why: string): never => {
    throw BqError.invalid(`Invalid fault rule ${JSON.stringify(raw)}: ${why}`);
  };
  if (typeof rule !== 'object' || rule === null) fail('not an object');
  if (rule.endpoint !== '*' && !KNOWN_ENDPOINTS.has(String(rule.endpoint))) fail('unknown endpoint');
  const fraction = (value: unknown) => typeof value === 'number' && value >= 0 && value <= 1;
  const count = (value: unknown) => typeof value === 'number' && Number.isInteger(value) && value >= 0;
  if (rule.probability !== undefined && !fraction(rule.probability)) fail('probability must be in [0, 1]');
  if (rule.count !== undefined && !count(rule.count)) fail('count must be a whole number');
  if (rule.after !== undefined && !count(rule.after)) fail('after must be a whole number');
  switch (rule.kind) {
    case 'latency':
      if (!count(rule.ms)) fail('ms must be a whole number');
      break;
    case 'error':
      if (!ERROR_DEFAULTS[rule.status as number]) fail('status must be 500, 503, 403 or 429');
      break;
    case 'reset':
      if (rule.fraction !== undefined && !fraction(rule.fraction)) fail('fraction must be in [0, 1]');
      break;
    case 'streamReset':
    case 'streamEnd':
      if (rule.afterBatches !== undefined && !count(rule.afterBatches)) fail('afterBatches must be a whole number');
      break;
    case 'jobIncomplete':
    case 'jobFailure':
    case 'hang':
      break;
    default:
      fail('unknown kind');
  }
  return rule as FaultRule;
}

export function validPlan(raw: unknown): FaultPlan {
  const plan = raw as Partial<FaultPlan>;
  if (typeof plan !== 'object' || plan === null || !Array.isArray(plan.rules))
    throw BqError.invalid('A fault plan needs a rules array');
  if (plan.seed !== undefined && !Number.isInteger(plan.seed)) throw BqError.invalid('seed must be an integer');
  if (plan.latencyMs !== undefined && !(Number.isInteger(plan.latencyMs) && plan.latencyMs >= 0))
    throw BqError.invalid('latencyMs must be a whole number');
  return {
    ...(plan.seed !== undefined && { seed: plan.seed }),
    ...(plan.latencyMs !== undefined && { latencyMs: plan.latencyMs }),
    rules: plan.rules.map(validRule),
  };
}
