// Creating a query job and asking after it: its failure, if it failed, and what it billed. A retried
// insert keeps its job id, so an insert that ran but whose answer was lost is found again (409)
// instead of being run, and billed, twice.
import { randomUUID } from 'node:crypto';
import type { BigQuery, Job, Query } from '@google-cloud/bigquery';
import type { Logger } from 'pino';
import type { CallPolicy } from './call-policy.js';
import { describeFailure, failedJobOf, statusOf, timedOut, type JobMetadata, type QueryFailure } from './failures.js';
import type { RetryBudget } from './retry-policy.js';
import type { ResultTable } from './storage-results.js';

function newJobId(): string {
  return `bqlogfs_${randomUUID().replaceAll('-', '')}`;
}

export interface JobBilling {
  bytesProcessed: number;
  bytesBilled: number;
}

export class JobControl {
  constructor(
    private readonly client: BigQuery,
    private readonly policy: CallPolicy,
    private readonly log: Logger,
    private readonly location: () => string | undefined,
  ) {}

  private jobLocation(): { location?: string } {
    const location = this.location() ?? this.client.location;
    return location !== undefined ? { location } : {};
  }

  async start(budget: RetryBudget, request: Query): Promise<Job> {
    // A query that waited for a slot past its deadline is not sent: its answer would be ignored.
    if (budget.remainingMs() <= 0) throw timedOut();
    let jobId = newJobId();
    return budget.run(async () => {
      try {
        const [job] = await this.policy.timed(
          budget,
          this.client.createQueryJob({ ...request, jobId, ...this.jobLocation() }),
        );
        return job;
      } catch (error) {
        if (statusOf(error) === 409) return this.client.job(jobId, this.jobLocation());
        if (failedJobOf(error)) jobId = newJobId();
        throw error;
      }
    });
  }

  /** The job's error if BigQuery reports it failed; undefined when it has not, or when asking failed too. */
  async failureOf(budget: RetryBudget, job: Job): Promise<QueryFailure | undefined> {
    try {
      const [metadata] = await this.policy.timed(budget, job.getMetadata());
      const errorResult = (metadata as JobMetadata).status?.errorResult;
      return errorResult ? describeFailure({ errors: [errorResult] }) : undefined;
    } catch {
      return undefined;
    }
  }

  /** The table BigQuery wrote the job's result to; undefined if the job does not say. */
  async destinationOf(budget: RetryBudget, job: Job): Promise<ResultTable | undefined> {
    const destination = (job: Job) =>
      (job.metadata as JobMetadata).configuration?.query?.destinationTable as ResultTable | undefined;
    if (!destination(job)) {
      try {
        await budget.run(() => this.policy.timed(budget, job.getMetadata()));
      } catch (error) {
        this.log.debug({ jobId: job.id, err: describeFailure(error).message }, 'could not read the result table');
      }
    }
    return destination(job);
  }

  /** Bytes processed and billed. Best effort: every row has been delivered, so a failure here only logs. */
  async billing(budget: RetryBudget, job: Job): Promise<JobBilling> {
    let statistics = (job.metadata as JobMetadata).statistics?.query;
    if (!statistics?.totalBytesBilled) {
      try {
        const [metadata] = await budget.run(() => this.policy.timed(budget, job.getMetadata()));
        statistics = (metadata as JobMetadata).statistics?.query;
      } catch (error) {
        this.log.warn({ jobId: job.id, err: describeFailure(error).message }, 'could not read what the query billed');
      }
    }
    return {
      bytesProcessed: Number(statistics?.totalBytesProcessed ?? 0),
      bytesBilled: Number(statistics?.totalBytesBilled ?? 0),
    };
  }
}
