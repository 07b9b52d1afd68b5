// Fault injection for reliability tests: applies the plan a test set (fault-plan.ts) to each request.
// Probabilities draw from a generator seeded by the plan, so the same seed and the same order of
// requests inject the same faults.
import type { ServerResponse } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import type { BqError } from './errors.js';
import {
  appliesTo,
  endpointOf,
  failedJobError,
  injectedError,
  PAGE_ENDPOINTS,
  seededRandom,
  validPlan,
  type Endpoint,
  type Fault,
  type FaultCounters,
  type FaultPlan,
  type FaultRule,
  type StorageEndpoint,
} from './fault-plan.js';
import type { RouteResponse, Router } from './router.js';

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
  private latencyMs = 0;
  private random = seededRandom(1);
  private counters = emptyCounters();
  /** Jobs a jobFailure fault has failed, by `project:jobId`. */
  private readonly failedJobs = new Map<string, BqError>();

  /** Replaces the plan; counters start again from zero. */
  set(plan: FaultPlan): void {
    const valid = validPlan(plan);
    this.rules = valid.rules.map((rule) => ({ rule, seen: 0, fired: 0 }));
    this.latencyMs = valid.latencyMs ?? 0;
    this.random = seededRandom(valid.seed ?? 1);
    this.counters = emptyCounters();
  }

  /** No more faults; jobs failed so far work again. Counters stay readable until the next plan. */
  clear(): void {
    this.rules = [];
    this.latencyMs = 0;
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
    const pageDelayMs = PAGE_ENDPOINTS.has(endpoint) ? this.latencyMs : 0;
    if (delayMs + pageDelayMs > 0) await sleep(delayMs + pageDelayMs);
    const jobKey = request.params.j !== undefined ? `${request.params.p}:${request.params.j}` : undefined;
    switch (fault?.kind) {
      case 'error':
        throw injectedError(fault);
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

  /**
   * The fault of one Storage Read API call, once its injected delay has passed. The caller carries it
   * out: `error`, `hang`, and for ReadRows `streamReset` and `streamEnd`.
   */
  async storageCall(endpoint: StorageEndpoint): Promise<Fault | undefined> {
    if (this.rules.length > 0) this.counters.requests++;
    const { delayMs, fault } = this.decide(endpoint);
    if (delayMs + this.latencyMs > 0) await sleep(delayMs + this.latencyMs);
    return fault;
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
