// Fault injection for reliability tests: a plan of rules, each naming a BigQuery endpoint and a
// fault, fired by count and/or probability. Probabilities draw from a generator seeded by the plan,
// so the same seed and the same order of requests inject the same faults.
import type { ServerResponse } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { BqError } from './errors.js';
import type { RouteResponse, Router } from './router.js';

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
  | 'tabledata.insertAll';

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
  | { kind: 'hang' };

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

const KNOWN_ENDPOINTS = new Set<string>(ENDPOINTS.map((entry) => entry.endpoint));
const JOB_ENDPOINTS = new Set<Endpoint>(['jobs.insert', 'jobs.get', 'jobs.getQueryResults']);

/** Which BigQuery method a request calls; undefined for anything else (such as /emulator/...). */
export function endpointOf(method: string, pathname: string): Endpoint | undefined {
  const path = pathname.startsWith('/bigquery/v2/') ? pathname.slice('/bigquery/v2'.length) : pathname;
  return ENDPOINTS.find((entry) => entry.method === method && entry.path.test(path))?.endpoint;
}

function appliesTo(fault: Fault, endpoint: Endpoint): boolean {
  if (fault.kind === 'jobIncomplete') return endpoint === 'jobs.getQueryResults';
  if (fault.kind === 'jobFailure') return JOB_ENDPOINTS.has(endpoint);
  return true;
}

const ERROR_DEFAULTS: Record<number, { reason: string; message: string }> = {
  500: { reason: 'backendError', message: 'Backend error. Please retry the request.' },
  503: { reason: 'backendError', message: 'The service is currently unavailable. Please retry the request.' },
  403: { reason: 'rateLimitExceeded', message: 'Exceeded rate limits: too many API requests per user per method.' },
  429: { reason: 'rateLimitExceeded', message: 'Too many requests. Please retry with exponential backoff.' },
};

function failedJobError(reason: string): BqError {
  return new BqError(reason === 'backendError' || reason === 'internalError' ? 500 : 400, reason, 'Job failed.');
}

/** A small seeded generator (xorshift32): enough to spread faults reproducibly, not for anything else. */
function seededRandom(seed: number): () => number {
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
  return { ...(plan.seed !== undefined && { seed: plan.seed }), rules: plan.rules.map(validRule) };
}

interface RuleState {
  rule: FaultRule;
  seen: number;
  fired: number;
}

interface FaultRequest {
  method: string;
  pathname: string;
  params: Record<string, string>;
}

function emptyCounters(): FaultCounters {
  return { requests: 0, injected: 0, byKind: {}, byEndpoint: {} };
}

export class FaultInjector {
  private rules: RuleState[] = [];
  private random = seededRandom(1);
  private counters = emptyCounters();
  /** Jobs a jobFailure fault has failed, by `project:jobId`. */
  private readonly failedJobs = new Map<string, BqError>();

  /** Replaces the plan; counters start again from zero. */
  set(plan: FaultPlan): void {
    const valid = validPlan(plan);
    this.rules = valid.rules.map((rule) => ({ rule, seen: 0, fired: 0 }));
    this.random = seededRandom(valid.seed ?? 1);
    this.counters = emptyCounters();
  }

  /** No more faults; jobs failed so far work again. Counters stay readable until the next plan. */
  clear(): void {
    this.rules = [];
    this.failedJobs.clear();
  }

  stats(): FaultCounters {
    return structuredClone(this.counters);
  }

  /**
   * Serves one request through the plan. Resolves to the response to send, or undefined when a
   * fault has taken the response over (a reset connection, or one that never gets an answer).
   */
  async serve(
    request: FaultRequest,
    res: ServerResponse,
    handle: () => Promise<RouteResponse>,
  ): Promise<RouteResponse | undefined> {
    const endpoint = endpointOf(request.method, request.pathname);
    if (endpoint === undefined) return handle();
    if (this.rules.length > 0) this.counters.requests++;
    const { delayMs, fault } = this.decide(endpoint);
    if (delayMs > 0) await sleep(delayMs);
    const jobKey = request.params.j !== undefined ? `${request.params.p}:${request.params.j}` : undefined;
    switch (fault?.kind) {
      case 'error': {
        const defaults = ERROR_DEFAULTS[fault.status]!;
        throw new BqError(fault.status, fault.reason ?? defaults.reason, defaults.message);
      }
      case 'hang':
        await new Promise((resolve) => res.once('close', resolve));
        return undefined;
      case 'jobIncomplete':
        return {
          body: {
            kind: 'bigquery#getQueryResultsResponse',
            jobReference: { projectId: request.params.p, jobId: request.params.j },
            jobComplete: false,
          },
        };
      case 'jobFailure':
        if (jobKey !== undefined) this.failedJobs.set(jobKey, failedJobError(fault.reason ?? 'backendError'));
        break;
      default:
    }
    const failed = jobKey !== undefined ? this.failedJobs.get(jobKey) : undefined;
    if (failed && endpoint === 'jobs.getQueryResults') throw failed;
    const out = await handle();
    if (fault?.kind === 'jobFailure' && endpoint === 'jobs.insert') {
      const jobId = (out.body as { jobReference?: { jobId?: string } } | undefined)?.jobReference?.jobId;
      const created = failedJobError(fault.reason ?? 'backendError');
      if (jobId !== undefined) this.failedJobs.set(`${request.params.p}:${jobId}`, created);
      return { ...out, body: withJobError(out.body, created) };
    }
    if (failed) return { ...out, body: withJobError(out.body, failed) };
    if (fault?.kind === 'reset') {
      resetMidBody(res, out, fault.fraction ?? 0.5);
      return undefined;
    }
    return out;
  }

  /** Which faults fire for this request: the sum of latencies, and the first other fault that fires. */
  private decide(endpoint: Endpoint): { delayMs: number; fault: Fault | undefined } {
    let delayMs = 0;
    let fault: Fault | undefined;
    for (const state of this.rules) {
      const { rule } = state;
      if ((rule.endpoint !== '*' && rule.endpoint !== endpoint) || !appliesTo(rule, endpoint)) continue;
      if (fault && rule.kind !== 'latency') continue;
      state.seen++;
      if (state.seen <= (rule.after ?? 0)) continue;
      if (rule.count !== undefined && state.fired >= rule.count) continue;
      if (rule.probability !== undefined && this.random() >= rule.probability) continue;
      state.fired++;
      this.counters.injected++;
      this.counters.byKind[rule.kind] = (this.counters.byKind[rule.kind] ?? 0) + 1;
      this.counters.byEndpoint[endpoint] = (this.counters.byEndpoint[endpoint] ?? 0) + 1;
      if (rule.kind === 'latency') delayMs += rule.ms;
      else fault = rule;
    }
    return { delayMs, fault };
  }
}

function withJobError(body: unknown, error: BqError): unknown {
  const proto = error.toErrorProto();
  return { ...(body as object), status: { state: 'DONE', errorResult: proto, errors: [proto] } };
}

/** Announces the whole body, writes part of it, and drops the connection. */
function resetMidBody(res: ServerResponse, out: RouteResponse, fraction: number): void {
  const body = Buffer.from(JSON.stringify(out.body ?? {}));
  res.writeHead(out.status ?? 200, {
    'content-type': 'application/json; charset=UTF-8',
    'content-length': body.length,
  });
  res.write(body.subarray(0, Math.floor(body.length * fraction)), () => res.socket?.destroy());
}

/** POST /emulator/faults sets a plan, DELETE clears it, GET reads the counters and the plan. */
export function addFaultRoutes(router: Router, faults: FaultInjector): void {
  router.add('POST', '/emulator/faults', ({ body }) => {
    faults.set(validPlan(body));
    return { body: faults.stats() };
  });
  router.add('DELETE', '/emulator/faults', () => {
    faults.clear();
    return { status: 204 };
  });
  router.add('GET', '/emulator/faults', () => ({ body: faults.stats() }));
}
