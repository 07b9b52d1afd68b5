// Doctor's checks of the BigQuery side: credentials, the dataset and its tables, and what reading
// costs, estimated by dry runs of the queries the mount sends (a dry run bills nothing).
import type { BigQuery } from '@google-cloud/bigquery';
import { pino } from 'pino';
import { dryRunCost, type DryRunCost } from '../bigquery/dry-run.js';
import { describeFailure } from '../bigquery/failures.js';
import { columnPaths, type SchemaField } from '../bigquery/log-schemas.js';
import { newestShard } from '../bigquery/sink-table-names.js';
import { bigQueryBackend } from '../bigquery/warehouse.js';
import { fail, ok, skip, warn, within, type CheckResult } from './doctor-checks.js';
import { checkReadApi } from './doctor-read-api.js';
import { createBigQueryClient, sendsCredentials } from '../bigquery/client.js';
import { ADC_FIX, applicationDefaultAuth, credentialProblem } from '../bigquery/credentials.js';
import type { LogStoreOptions } from '../store/log-store.js';
import {
  containerDaysQuery,
  entriesQuery,
  type BuiltQuery,
  type LogSource,
  type Stream,
} from '../bigquery/query-builder.js';
import { DAY_MS, dayNameOf, dayRange } from '../model/time-model.js';

export type BigQueryTarget = Pick<
  LogStoreOptions,
  'projectId' | 'datasetId' | 'apiEndpoint' | 'auth' | 'schema' | 'cluster' | 'readApi' | 'readApiEndpoint'
>;

const NETWORK_TIMEOUT_MS = 15_000;
const MIB = 2 ** 20;
/** Any container: billing does not depend on which one, as sink tables cannot be clustered by it. */
const PLACEHOLDER_CONTAINER = { namespace: 'default', pod: 'bqlogfs-doctor', container: 'app' };

const REQUIRED_COLUMNS = [
  'timestamp',
  'resource.labels.namespace_name',
  'resource.labels.pod_name',
  'resource.labels.container_name',
];
/** Used when present: a sink creates a column only once some entry had it. */
const OPTIONAL_COLUMNS = ['insertId', 'textPayload', 'jsonPayload'];
/** Part of every sink table, not read by bqlogfs; missing ones hint at a table that is not a sink's. */
const SINK_COLUMNS = ['severity', 'labels'];

export async function checkCredentials(target: BigQueryTarget): Promise<CheckResult> {
  const name = 'credentials';
  if (!sendsCredentials(target.auth, target.apiEndpoint)) {
    return target.auth === 'none'
      ? skip(name, 'none sent (--auth none)')
      : skip(name, `none needed for the local endpoint ${target.apiEndpoint}`);
  }
  try {
    const auth = applicationDefaultAuth(target.projectId);
    const token = await within(
      NETWORK_TIMEOUT_MS,
      'Application Default Credentials',
      auth.getClient().then((client) => client.getAccessToken()),
    );
    if (!token.token) throw new Error('no access token');
    return ok(name, 'Application Default Credentials give an access token');
  } catch (error) {
    return fail(name, credentialProblem(error), ADC_FIX);
  }
}

export interface DatasetReport {
  results: CheckResult[];
  source?: LogSource;
}

/** Finds the sink's tables as the mount does; metadata calls only. */
export async function checkDataset(target: BigQueryTarget, client: BigQuery): Promise<DatasetReport> {
  const name = `dataset ${target.projectId}:${target.datasetId}`;
  const access = bigQueryBackend(client, pino({ level: 'silent' }), {
    timeoutMs: NETWORK_TIMEOUT_MS,
    mountName: 'doctor',
    // Discovery only: no query result is read.
    readApi: 'rest',
    readTarget: target,
  });
  try {
    const source = await within(
      NETWORK_TIMEOUT_MS + 1_000,
      'table discovery',
      access.discoverSource(target.projectId, target.datasetId, target.schema),
    );
    const tables = source.tables.map((table) => table.tableId).join(', ');
    const kind = source.schema?.kind ?? 'sink';
    const described = kind === 'sink' ? `${source.layout} tables ${tables}` : `${kind} layout, table ${tables}`;
    if (target.cluster !== undefined && !source.schema?.cluster) {
      return {
        results: [
          fail(name, `${described}: no cluster column for --cluster`, 'add cluster = "<column>" to the schema'),
        ],
      };
    }
    const withCluster = target.cluster !== undefined ? { ...source, cluster: target.cluster } : source;
    return { source: withCluster, results: [ok(name, described)] };
  } catch (error) {
    const failure = describeFailure(error);
    return { results: [fail(name, failure.message, failure.hint)] };
  }
}

/** The table whose schema stands for a stream: `stdout`, or the newest `stdout_YYYYMMDD` shard. */
function schemaTableOf(source: LogSource, stream: Stream, tableIds: string[]): string | undefined {
  return source.layout === 'partitioned' ? stream : newestShard(tableIds, stream);
}

export async function checkColumns(source: LogSource, client: BigQuery): Promise<CheckResult[]> {
  const kind = source.schema?.kind ?? 'sink';
  if (kind !== 'sink') {
    // Table discovery has checked every column the schema names, and their types.
    const tables = source.tables.map((table) => table.tableId).join(', ');
    return [ok(`columns of ${tables}`, `${kind} layout, every column the mount reads`)];
  }
  const dataset = client.dataset(source.datasetId, { projectId: source.projectId });
  let tableIds: string[];
  try {
    const [tables] = await within(NETWORK_TIMEOUT_MS, 'listing tables', dataset.getTables({ autoPaginate: true }));
    tableIds = tables.map((table) => table.id ?? '');
  } catch (error) {
    return [fail('columns', describeFailure(error).message, describeFailure(error).hint)];
  }
  const results: CheckResult[] = [];
  for (const { stream } of source.tables) {
    if (stream === undefined) continue;
    const tableId = schemaTableOf(source, stream, tableIds);
    if (tableId === undefined) continue;
    const name = `columns of ${tableId}`;
    try {
      const [metadata] = await within(NETWORK_TIMEOUT_MS, 'table metadata', dataset.table(tableId).getMetadata());
      const columns = columnPaths((metadata as { schema?: { fields?: SchemaField[] } }).schema?.fields ?? []);
      const missing = (names: string[]) => names.filter((column) => !columns.has(column));
      const required = missing(REQUIRED_COLUMNS);
      const optional = missing(OPTIONAL_COLUMNS);
      const sink = missing(SINK_COLUMNS);
      if (required.length > 0 || (optional.includes('textPayload') && optional.includes('jsonPayload'))) {
        const lacking = [...required, ...optional.filter((column) => column.endsWith('Payload'))];
        results.push(
          fail(
            name,
            `missing ${lacking.join(', ')}`,
            'point --dataset at the dataset of a Cloud Logging sink for GKE container logs (resource.type="k8s_container")',
          ),
        );
      } else if (optional.length + sink.length > 0) {
        results.push(
          warn(
            name,
            `${source.layout} layout; missing ${[...optional, ...sink].join(', ')}`,
            'none needed if no entry had them yet: a sink adds a column when the first entry has it',
          ),
        );
      } else {
        results.push(ok(name, `${source.layout} layout, every expected column`));
      }
    } catch (error) {
      results.push(fail(name, describeFailure(error).message, describeFailure(error).hint));
    }
  }
  return results;
}

function dryRun(client: BigQuery, query: BuiltQuery, source: LogSource): Promise<DryRunCost> {
  return within(NETWORK_TIMEOUT_MS, 'dry run', dryRunCost(client, query, source.tables.length, source.location));
}

function bytes(count: number): string {
  if (count < MIB) return `${(count / 1024).toFixed(1)} KiB`;
  if (count < 2 ** 30) return `${(count / MIB).toFixed(1)} MiB`;
  return `${(count / 2 ** 30).toFixed(2)} GiB`;
}

export interface CostEstimate {
  results: CheckResult[];
  listingDay?: DryRunCost;
  containerDay?: DryRunCost;
}

/** Dry runs of listing one day and of reading one container-day (yesterday, UTC). */
export async function estimateCosts(source: LogSource, client: BigQuery, nowMs: number): Promise<CostEstimate> {
  const day = dayNameOf(nowMs - DAY_MS);
  const range = dayRange(day);
  const estimate: CostEstimate = { results: [] };
  const runs: [label: string, key: 'listingDay' | 'containerDay', query: BuiltQuery][] = [
    ['cost of listing one day', 'listingDay', containerDaysQuery(source, range)],
    ['cost of reading one container-day', 'containerDay', entriesQuery(source, PLACEHOLDER_CONTAINER, range, range)],
  ];
  for (const [label, key, query] of runs) {
    try {
      const cost = await dryRun(client, query, source);
      estimate[key] = cost;
      estimate.results.push(
        ok(label, `${day}: ${bytes(cost.processed)} processed, about ${bytes(cost.billed)} billed (dry run)`),
      );
    } catch (error) {
      estimate.results.push(fail(label, describeFailure(error).message, describeFailure(error).hint));
    }
  }
  return estimate;
}

/** Every BigQuery check in order; the later ones need what the earlier ones found. */
export async function bigQueryChecks(target: BigQueryTarget, nowMs: number): Promise<CheckResult[]> {
  const results = [await checkCredentials(target)];
  const client = createBigQueryClient(target);
  const dataset = await checkDataset(target, client);
  results.push(...dataset.results);
  if (!dataset.source) return results;
  results.push(...(await checkColumns(dataset.source, client)));
  results.push(await checkReadApi(target, dataset.source, client));
  results.push(...(await estimateCosts(dataset.source, client, nowMs)).results);
  return results;
}
