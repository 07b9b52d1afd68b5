// `bqlogfs doctor`: one line per check of what mounting needs, each failure with its fix.
import { bigQueryChecks, type BigQueryTarget } from './doctor-bigquery.js';
import { formatResult, skip, type CheckResult } from './doctor-checks.js';
import { systemChecks } from './doctor-system.js';

/** Prints every check as it completes, in order; returns the exit code: 1 when any check failed. */
export async function runDoctor(target: BigQueryTarget | undefined, write: (line: string) => void): Promise<number> {
  const results: CheckResult[] = [];
  const report = (result: CheckResult) => {
    results.push(result);
    write(formatResult(result));
  };
  for (const check of systemChecks()) report(await check);
  if (target === undefined) {
    report(skip('BigQuery', 'no --project and --dataset given, so credentials, dataset and cost were not checked'));
  } else {
    for (const result of await bigQueryChecks(target, Date.now())) report(result);
  }
  return results.some((result) => result.status === 'FAIL') ? 1 : 0;
}
