// What a statement would cost, from BigQuery's dry run, which plans it and bills nothing.
import type { BigQuery } from '@google-cloud/bigquery';
import type { BuiltQuery } from './log-source.js';

const MIB = 2 ** 20;
/** BigQuery's on-demand minimum per table a query references. */
const MIN_BILLED_PER_TABLE = 10 * MIB;

export interface DryRunCost {
  processed: number;
  /** On-demand billing: at least 10 MB per table, in whole MB; a dry run itself reports nothing billed. */
  billed: number;
}

/**
 * Dry-runs the statement, which reads `tables` tables, in `location` (the dataset's, which the real
 * job names too); a bad statement rejects as the real run would.
 */
export async function dryRunCost(
  client: BigQuery,
  query: BuiltQuery,
  tables: number,
  location?: string,
): Promise<DryRunCost> {
  const [job] = await client.createQueryJob({
    ...(location !== undefined && { location }),
    query: query.sql,
    params: query.params,
    types: query.types,
    useLegacySql: false,
    dryRun: true,
  });
  const statistics = (job.metadata as { statistics?: { totalBytesProcessed?: string } }).statistics;
  const processed = Number(statistics?.totalBytesProcessed ?? 0);
  const billed = processed === 0 ? 0 : Math.ceil(Math.max(processed, tables * MIN_BILLED_PER_TABLE) / MIB) * MIB;
  return { processed, billed };
}
