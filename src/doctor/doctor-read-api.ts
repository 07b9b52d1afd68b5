// Doctor's check of the BigQuery Storage Read API, which the mount reads kept query results through:
// it creates a read session as the mount would, through the same client, on a table discovery
// found, with one column and a row restriction that keeps no row, so nothing is read or billed.
import type { BigQuery } from '@google-cloud/bigquery';
import { describeFailure } from '../bigquery/failures.js';
import type { LogSource } from '../bigquery/log-source.js';
import type { ReadApi } from '../bigquery/read-api.js';
import { createReadClient, restOnlyReason, type ReadClientTarget } from '../bigquery/read-client.js';
import { newestShard } from '../bigquery/sink-table-names.js';
import { readApiUnavailable, STORAGE_READ_HINT } from '../bigquery/storage-failures.js';
import { tablePath, type ResultTable } from '../bigquery/storage-results.js';
import { ok, skip, warn, within, type CheckResult } from './doctor-checks.js';

export interface ReadApiTarget extends ReadClientTarget {
  readApi?: ReadApi;
}

const NAME = 'Storage Read API';
const GOOGLE_ENDPOINT = 'bigquerystorage.googleapis.com:443';
const SESSION_TIMEOUT_MS = 15_000;
/** Keeps no row: the session has nothing to read, whatever the table holds. */
const NO_ROWS = 'FALSE';

/** A table of the source with a name a read session takes: sharded layouts name their newest shard. */
async function concreteTable(source: LogSource, client: BigQuery): Promise<string | undefined> {
  const first = source.tables[0];
  if (first === undefined) return undefined;
  if (!first.tableId.includes('*')) return first.tableId;
  const dataset = client.dataset(source.datasetId, { projectId: source.projectId });
  const [tables] = await within(SESSION_TIMEOUT_MS, 'listing tables', dataset.getTables({ autoPaginate: true }));
  const ids = tables.map((table) => table.id ?? '');
  return first.stream === undefined ? undefined : newestShard(ids, first.stream);
}

/** The skip reason when the mount would not use the Storage Read API, or undefined when it would. */
export function readApiSkipReason(target: ReadApiTarget): string | undefined {
  if (target.readApi === 'rest') return 'not used: --read-api rest reads query results as REST pages';
  const restOnly = restOnlyReason(target);
  return restOnly === undefined ? undefined : `not used: ${restOnly}`;
}

/** Creates a read session that reads nothing; ok, or what keeps the mount from the Storage Read API. */
export async function checkReadApi(target: ReadApiTarget, source: LogSource, client: BigQuery): Promise<CheckResult> {
  const skipped = readApiSkipReason(target);
  if (skipped !== undefined) return skip(NAME, skipped);
  const endpoint = target.readApiEndpoint ?? GOOGLE_ENDPOINT;
  let tableId: string | undefined;
  try {
    tableId = await concreteTable(source, client);
  } catch (error) {
    return warn(NAME, `no table to open a read session on: ${describeFailure(error).message}`, STORAGE_READ_HINT);
  }
  if (tableId === undefined) return skip(NAME, 'no table to open a read session on');
  const table: ResultTable = { projectId: source.projectId, datasetId: source.datasetId, tableId };
  const column = source.schema?.timestamp ?? 'timestamp';
  const readClient = await createReadClient(target);
  try {
    await within(
      SESSION_TIMEOUT_MS,
      'creating a read session',
      readClient.createReadSession(
        {
          // The project the mount creates (and bills) its read sessions in.
          parent: `projects/${client.projectId}`,
          readSession: {
            table: tablePath(table),
            dataFormat: 'ARROW',
            readOptions: { selectedFields: [column], rowRestriction: NO_ROWS },
          },
          maxStreamCount: 1,
        },
        { retry: null, timeout: SESSION_TIMEOUT_MS },
      ),
    );
    return ok(NAME, `${endpoint}: a read session on ${tableId} was created; no row was read`);
  } catch (error) {
    const unavailable = readApiUnavailable(error);
    // The mount still works without it, over REST pages: a warning, not a failure.
    if (unavailable !== undefined) {
      return warn(
        NAME,
        `${endpoint}: ${unavailable.message}; the mount would read query results as REST pages (slower)`,
        STORAGE_READ_HINT,
      );
    }
    const message = error instanceof Error ? error.message : String(error);
    return warn(NAME, `${endpoint}: creating a read session failed: ${message}`, STORAGE_READ_HINT);
  } finally {
    await readClient.close().catch(() => undefined);
  }
}
