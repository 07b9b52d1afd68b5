// A LogWarehouse around any other that fails on plan, the way the real backend (query-jobs.ts)
// shows BigQuery's failures to the store:
// - `discovery`: finding the tables fails.
// - `start`: a query fails before its first page.
// - `page`: the job fails when it would hand over page `afterPages + 1`. A sink with `restart` is
//   told to drop what it has, and the query runs again from the start; without `restart` the
//   query fails. A result of `afterPages` pages or fewer is not affected.
// A failure of a transient reason (backendError, rateLimitExceeded, …) before any page, or after
// some with a sink that can restart, is retried as the real backend retries it: the query runs again,
// up to `maxAttempts` times, then fails with "gave up after N attempts". Any other reason fails the
// query at once. Every failure is a QueryFailure with BigQuery's reason and a message like its own.
import { failure, QueryFailure } from '../../src/bigquery/failures.js';
import type { SchemaChoice } from '../../src/bigquery/log-schemas.js';
import type { LogQuery } from '../../src/bigquery/log-queries.js';
import type { LogWarehouse, PageSink, QueryResult, RunOptions } from '../../src/bigquery/log-warehouse.js';
import type { LogSource } from '../../src/bigquery/query-builder.js';
import { isRetryable } from '../../src/bigquery/retry-policy.js';
import type { QueryStats } from '../../src/model/stats.js';

/** One planned failure. Steps are used in order; each fails the next `times` (1) calls it matches. */
export type FailureStep =
  | { at: 'discovery'; reason?: string; times?: number }
  | { at: 'start'; reason?: string; times?: number; match?: (query: LogQuery) => boolean }
  | { at: 'page'; afterPages: number; reason?: string; times?: number; match?: (query: LogQuery) => boolean };

export interface FailingOptions {
  /** Attempts of one query, its retries included, before a transient failure is final. */
  maxAttempts?: number;
}

/** A failure that happened, for tests to check. */
export interface InjectedFailure {
  at: FailureStep['at'];
  reason: string;
  /** The query's label subject; empty for discovery. */
  subject: string;
}

/** What BigQuery says for each reason about a dataset or table, more or less word for word. */
function messageFor(reason: string, target: { kind: 'Dataset' | 'Table'; id: string }): string {
  switch (reason) {
    case 'notFound':
      return `Not found: ${target.kind} ${target.id}`;
    case 'accessDenied':
      return `Access Denied: ${target.kind} ${target.id}: User does not have permission to query ${target.kind.toLowerCase()} ${target.id}.`;
    case 'backendError':
      return 'Error encountered during execution. Retrying may solve the problem.';
    case 'internalError':
      return 'An internal error occurred and the request could not be completed.';
    case 'rateLimitExceeded':
      return 'Exceeded rate limits: too many concurrent queries for this project_and_region.';
    case 'bytesBilledLimitExceeded':
      return 'Query exceeded limit for bytes billed: 10485760. 20971520 or higher required.';
    case 'resourcesExceeded':
      return 'Resources exceeded during query execution: The query could not be executed in the allotted memory.';
    case 'timeout':
      return 'query timed out';
    default:
      return `${reason} (injected)`;
  }
}

const DEFAULT_REASON: Record<FailureStep['at'], string> = {
  discovery: 'notFound',
  start: 'accessDenied',
  page: 'backendError',
};

type Attempt = { stats: QueryStats } | { failed: QueryFailure; handedOver: boolean };

/** Thrown into the inner query to stop it where the plan says; only ever seen by this file. */
class PlannedStop extends Error {}

export class FailingWarehouse implements LogWarehouse {
  private readonly steps: { step: FailureStep; left: number }[];
  /** Every failure injected so far, in order. */
  readonly injected: InjectedFailure[] = [];
  /** Query attempts started, retries included. */
  attempts = 0;

  constructor(
    private readonly inner: LogWarehouse,
    plan: FailureStep[],
    private readonly options: FailingOptions = {},
  ) {
    this.steps = plan.map((step) => ({ step, left: step.times ?? 1 }));
  }

  /** Planned failures not used yet. */
  get pending(): number {
    return this.steps.reduce((total, { left }) => total + left, 0);
  }

  async discoverSource(projectId: string, datasetId: string, choice?: SchemaChoice): Promise<LogSource> {
    const step = this.take((candidate) => candidate.at === 'discovery');
    if (step) throw this.fail(step, { kind: 'Dataset', id: `${projectId}:${datasetId}` }, '');
    return this.inner.discoverSource(projectId, datasetId, choice);
  }

  /**
   * Steps at `start` apply to a result as to a query; page steps only to the pages of runQuery, as a
   * result's rows are read from a finished job.
   */
  async openResult(query: LogQuery, options?: RunOptions): Promise<QueryResult> {
    const start = this.take((step) => step.at === 'start' && (step.match?.(query) ?? true));
    if (start) throw this.fail(start, this.tableOf(query), query.label.subject);
    return this.inner.openResult(query, options);
  }

  async runQuery(query: LogQuery, sink: PageSink, options: RunOptions = {}): Promise<QueryStats> {
    const requestedAtMs = options.requestedAtMs ?? Date.now();
    const maxAttempts = this.options.maxAttempts ?? 3;
    for (let attempt = 1; ; attempt++) {
      this.attempts++;
      const outcome = await this.attempt(query, sink, requestedAtMs);
      if ('stats' in outcome) return outcome.stats;
      const { failed, handedOver } = outcome;
      if ((handedOver && !sink.restart) || !isRetryable(failed)) throw failed;
      if (attempt >= maxAttempts) {
        throw new QueryFailure(`gave up after ${attempt} attempts: ${failed.message}`, failed.reason, failed.hint);
      }
      if (handedOver) await sink.restart?.();
    }
  }

  /** One run of the query: its stats, or the failure the plan put in it and whether pages had gone. */
  private async attempt(query: LogQuery, sink: PageSink, requestedAtMs: number): Promise<Attempt> {
    const matches = (step: FailureStep) => step.at !== 'discovery' && (step.match?.(query) ?? true);
    const start = this.take((step) => step.at === 'start' && matches(step));
    if (start) return { failed: this.fail(start, this.tableOf(query), query.label.subject), handedOver: false };
    let delivered = 0;
    let stop: FailureStep | undefined;
    const planned: PageSink = {
      page: async (rows) => {
        // Used up only when it strikes, so a result too short for it leaves it for the next query.
        stop = this.take((step) => step.at === 'page' && step.afterPages === delivered && matches(step));
        if (stop) throw new PlannedStop();
        delivered++;
        await sink.page(rows);
      },
    };
    try {
      return { stats: await this.inner.runQuery(query, planned, { requestedAtMs }) };
    } catch (error) {
      // The real backend wraps whatever a sink throws, so it is `stop` that says the failure was planned.
      if (!stop) throw error;
      return { failed: this.fail(stop, this.tableOf(query), query.label.subject), handedOver: delivered > 0 };
    }
  }

  /** The first step with uses left that `accepts`, using one of them. */
  private take(accepts: (step: FailureStep) => boolean): FailureStep | undefined {
    const found = this.steps.find(({ step, left }) => left > 0 && accepts(step));
    if (found) found.left--;
    return found?.step;
  }

  private fail(step: FailureStep, target: { kind: 'Dataset' | 'Table'; id: string }, subject: string): QueryFailure {
    const reason = step.reason ?? DEFAULT_REASON[step.at];
    this.injected.push({ at: step.at, reason, subject });
    return failure(messageFor(reason, target), reason);
  }

  private tableOf(query: LogQuery): { kind: 'Table'; id: string } {
    const { projectId, datasetId, tables } = query.source;
    return { kind: 'Table', id: `${projectId}:${datasetId}.${tables[0]?.tableId ?? ''}` };
  }
}
