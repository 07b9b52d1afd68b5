// Reading a query job's result page by page through jobs.getQueryResults: in order by page token,
// or from any row by its index. A failed page request asks for that same page again; a job that
// failed after it started is told apart from a transient error by asking the job.
import type { Job, QueryResultsOptions } from '@google-cloud/bigquery';
import type { CallPolicy } from './call-policy.js';
import { JobFailed, timedOut, type QueryFailure } from './failures.js';
import type { JobControl } from './job-control.js';
import type { RawRow } from './log-warehouse.js';
import type { RetryBudget } from './retry-policy.js';

export interface Page {
  rows: RawRow[];
  pageToken: string | undefined;
  totalRows: number;
}

/** Where a page starts: after the previous page (its token), or at a row index. */
export type PageStart = { pageToken?: string } | { startIndex: number };

export class ResultPages {
  constructor(
    private readonly policy: CallPolicy,
    private readonly jobs: JobControl,
    private readonly pageRows: number,
  ) {}

  /**
   * One page, retried while the deadline allows; undefined while the job is still running. Rejects
   * with JobFailed when the job itself failed.
   */
  async page(budget: RetryBudget, job: Job, start: PageStart, maxRows = this.pageRows): Promise<Page | undefined> {
    if (budget.remainingMs() <= 0) throw timedOut();
    return budget.run(
      () => this.policy.timed(budget, this.fetch(budget, job, start, maxRows)),
      // A transient error and a job that has failed look alike on getQueryResults; the job says which.
      async () => {
        const failure = await this.jobs.failureOf(budget, job);
        if (failure) throw new JobFailed(failure);
      },
    );
  }

  /** Every page of a job, in order. Resolves to the job's own failure if it failed after it started. */
  async readAll(
    budget: RetryBudget,
    job: Job,
    deliver: (rows: RawRow[]) => Promise<void>,
  ): Promise<QueryFailure | undefined> {
    let pageToken: string | undefined;
    for (;;) {
      let page: Page | undefined;
      try {
        page = await this.page(budget, job, pageToken === undefined ? {} : { pageToken });
      } catch (error) {
        if (error instanceof JobFailed) return error.failure;
        throw error;
      }
      if (page === undefined) continue;
      await deliver(page.rows);
      pageToken = page.pageToken;
      if (pageToken === undefined) return undefined;
    }
  }

  private async fetch(budget: RetryBudget, job: Job, start: PageStart, maxRows: number): Promise<Page | undefined> {
    const options: QueryResultsOptions & { skipParsing: boolean } = {
      autoPaginate: false,
      maxResults: maxRows,
      // Raw values keep TIMESTAMP microseconds and INT64 digits exactly.
      skipParsing: true,
      // How long BigQuery may hold this request waiting for the job to finish: well inside the
      // request's own limit. Passed as a string, because given a number the client turns an
      // unfinished job into an error instead of handing back `jobComplete: false`.
      timeoutMs: String(Math.floor(this.policy.requestLimitMs(budget) / 2)) as unknown as number,
      ...('startIndex' in start
        ? { startIndex: String(start.startIndex) }
        : start.pageToken !== undefined && { pageToken: start.pageToken }),
    };
    const [rows, , response] = await job.getQueryResults(options);
    const meta = response as { jobComplete?: boolean; pageToken?: string; totalRows?: string } | undefined;
    if (meta?.jobComplete === false) return undefined;
    const raw = rows as unknown as { f: { v: string | null }[] }[];
    return {
      rows: raw.map((row) => row.f.map((cell) => cell.v)),
      pageToken: meta?.pageToken || undefined,
      totalRows: Number(meta?.totalRows ?? raw.length),
    };
  }
}
