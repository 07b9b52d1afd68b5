// Every statement the query builders emit, analyzed by GoogleSQL's own analyzer (ZetaSQL) against
// the tables each layout reads: every name resolves, every function call and set operation type-checks,
// every parameter is declared with the type the builder gives BigQuery, and the result has the columns
// and types the readers decode. query-builder.test.ts only parses them.
import { readFileSync } from 'node:fs';
import t, { type Test } from 'tap';
import { parse } from 'bq2cst';
import { parse as parseToml } from 'smol-toml';
import {
  columnPaths,
  customLogSchema,
  parseSchemaChoice,
  type CustomSchemaChoice,
} from '../src/bigquery/log-schemas.js';
import {
  containerDaysQuery,
  entriesQuery,
  hoursQuery,
  LOG_ANALYTICS_SCHEMA,
  LOG_ANALYTICS_VIEW,
  podDaysQuery,
  sweepQuery,
  SINK_SCHEMA,
  type BuiltQuery,
  type LogSchema,
  type LogSource,
  type Stream,
} from '../src/bigquery/query-builder.js';
import {
  GoogleSqlAnalyzer,
  type Analysis,
  type Catalog,
  type CatalogTable,
  type OutputColumn,
  type RestField,
} from './support/googlesql-analyzer.js';
import { CUSTOM_FIELDS, CUSTOM_SCHEMA_TOML, LOG_ANALYTICS_FIELDS } from './support/log-schemas.js';

const SINK_FIELDS = JSON.parse(
  readFileSync(new URL('./fixtures/gke-sink-schema.json', import.meta.url), 'utf8'),
) as RestField[];

const PROJECT = 'my-project';
const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;
const DAY = { startMs: Date.UTC(2026, 10, 25), endMs: Date.UTC(2026, 10, 25) + DAY_MS };
/** A week ending with DAY: a window across several shards. */
const WINDOW = { startMs: DAY.startMs - 6 * DAY_MS, endMs: DAY.endMs };
const HOUR = { startMs: DAY.startMs + 7 * HOUR_MS, endMs: DAY.startMs + 8 * HOUR_MS };
const ref = { namespace: 'hostile-ns', pod: 'pod-name.with-dots', container: 'quote-me' };

interface TableSpec {
  tableId: string;
  stream?: Stream;
  fields: readonly RestField[];
}

/** A dataset as bqlogfs finds it: its tables, each with the columns its schema has. */
interface Layout {
  name: string;
  source: LogSource;
  tables: CatalogTable[];
}

function layout(name: string, datasetId: string, schema: LogSchema | undefined, specs: TableSpec[]): Layout {
  const sharded = specs.some((spec) => spec.tableId.endsWith('*'));
  return {
    name,
    source: {
      projectId: PROJECT,
      datasetId,
      layout: sharded ? 'sharded' : 'partitioned',
      tables: specs.map(({ tableId, stream, fields }) => ({
        ...(stream && { stream }),
        tableId,
        columns: columnPaths(fields),
      })),
      ...(schema && { schema }),
    },
    tables: specs.map(({ tableId, fields }) => ({ name: `${PROJECT}.${datasetId}.${tableId}`, fields })),
  };
}

const only = (fields: readonly RestField[], names: string[]) =>
  fields.filter((field) => names.includes(field.name ?? ''));
const without = (fields: readonly RestField[], names: string[]) =>
  fields.filter((field) => !names.includes(field.name ?? ''));

/** A stderr table of a sink that has seen text lines only: no jsonPayload, no pod labels. */
const SPARSE_SINK_FIELDS = only(SINK_FIELDS, [
  'logName',
  'resource',
  'textPayload',
  'timestamp',
  'receiveTimestamp',
  'severity',
  'insertId',
]);

const field = (name: string, type: string, fields?: RestField[]): RestField => ({
  name,
  type,
  mode: 'NULLABLE',
  ...(fields && { fields }),
});

function custom(name: string, datasetId: string, choice: CustomSchemaChoice, fields: RestField[]): Layout {
  return layout(name, datasetId, customLogSchema(choice, fields), [{ tableId: choice.table, fields }]);
}

const fluentBitChoice = parseSchemaChoice(parseToml(CUSTOM_SCHEMA_TOML) as Record<string, string>);
if (fluentBitChoice.kind !== 'custom') throw new Error('CUSTOM_SCHEMA_TOML is not a custom schema');

const SINK = layout('sink partitioned', 'gke_logs', SINK_SCHEMA, [
  { tableId: 'stdout', stream: 'stdout', fields: SINK_FIELDS },
  { tableId: 'stderr', stream: 'stderr', fields: SINK_FIELDS },
]);
/** No schema given: a sink's, as when bqlogfs finds the tables itself. */
const SPARSE_SINK = layout('sink partitioned, sparse stderr', 'gke_sparse', undefined, [
  { tableId: 'stdout', stream: 'stdout', fields: SINK_FIELDS },
  { tableId: 'stderr', stream: 'stderr', fields: SPARSE_SINK_FIELDS },
]);

const LAYOUTS: Layout[] = [
  SINK,
  SPARSE_SINK,
  layout('sink partitioned, stdout of JSON payloads only', 'gke_stdout', SINK_SCHEMA, [
    { tableId: 'stdout', stream: 'stdout', fields: without(SINK_FIELDS, ['textPayload', 'labels']) },
  ]),
  layout('sink partitioned, no split column', 'gke_unsplit', SINK_SCHEMA, [
    { tableId: 'stdout', stream: 'stdout', fields: without(SINK_FIELDS, ['split']) },
    { tableId: 'stderr', stream: 'stderr', fields: without(SINK_FIELDS, ['split']) },
  ]),
  layout('sink partitioned, split without totalSplits', 'gke_split_untold', SINK_SCHEMA, [
    {
      tableId: 'stdout',
      stream: 'stdout',
      fields: [
        ...without(SINK_FIELDS, ['split']),
        field('split', 'RECORD', [field('uid', 'STRING'), field('index', 'INTEGER')]),
      ],
    },
  ]),
  layout('sink sharded', 'gke_sharded', SINK_SCHEMA, [
    { tableId: 'stdout_*', stream: 'stdout', fields: SINK_FIELDS },
    { tableId: 'stderr_*', stream: 'stderr', fields: SINK_FIELDS },
  ]),
  layout('sink sharded, sparse stderr', 'gke_sharded_sparse', undefined, [
    { tableId: 'stdout_*', stream: 'stdout', fields: SINK_FIELDS },
    { tableId: 'stderr_*', stream: 'stderr', fields: SPARSE_SINK_FIELDS },
  ]),
  layout('log analytics', 'linked_logs', LOG_ANALYTICS_SCHEMA, [
    { tableId: LOG_ANALYTICS_VIEW, fields: LOG_ANALYTICS_FIELDS },
  ]),
  layout('log analytics, with split entries', 'linked_split', LOG_ANALYTICS_SCHEMA, [
    {
      tableId: LOG_ANALYTICS_VIEW,
      fields: [
        ...LOG_ANALYTICS_FIELDS,
        field('split', 'RECORD', [field('uid', 'STRING'), field('index', 'INT64'), field('total_splits', 'INT64')]),
      ],
    },
  ]),
  layout('log analytics, text payloads only', 'linked_text', LOG_ANALYTICS_SCHEMA, [
    { tableId: LOG_ANALYTICS_VIEW, fields: without(LOG_ANALYTICS_FIELDS, ['json_payload', 'labels']) },
  ]),
  custom('custom: fluent bit', 'fluentbit', fluentBitChoice, CUSTOM_FIELDS),
  // As query-builder.test.ts describes it: a reserved word as a column, JSON and RECORD paths, no insert id.
  custom(
    'custom: reserved word, JSON and RECORD paths',
    'described_logs',
    {
      kind: 'custom',
      table: 'fluentbit_logs',
      timestamp: 'at',
      message: 'log',
      namespace: 'kubernetes.namespace_name',
      pod: 'kubernetes.pod_name',
      container: 'k8s.container',
      cluster: 'k8s.cluster',
    },
    [
      field('at', 'TIMESTAMP'),
      field('log', 'STRING'),
      field('kubernetes', 'JSON'),
      field('k8s', 'RECORD', [field('container', 'STRING'), field('cluster', 'STRING')]),
    ],
  ),
  custom(
    'custom: JSON message',
    'json_logs',
    {
      kind: 'custom',
      table: 'entries',
      timestamp: 'time',
      message: 'payload',
      namespace: 'meta.namespace',
      pod: 'meta.pod',
      container: 'meta.container',
      stream: 'meta.stream',
      severity: 'severity',
      cluster: 'meta.cluster',
      'insert-id': 'id',
    },
    [
      field('time', 'TIMESTAMP'),
      field('id', 'STRING'),
      field('severity', 'STRING'),
      field('payload', 'JSON'),
      field('meta', 'RECORD', [
        field('namespace', 'STRING'),
        field('pod', 'STRING'),
        field('container', 'STRING'),
        field('stream', 'STRING'),
        field('cluster', 'STRING'),
      ]),
    ],
  ),
  custom(
    'custom: RECORD message, roles in a JSON column',
    'record_logs',
    {
      kind: 'custom',
      table: 'events',
      timestamp: 'ts',
      message: 'body',
      namespace: 'k.ns',
      pod: 'k.pod',
      container: 'k.container',
      stream: 'k.stream',
      severity: 'body.level',
      cluster: 'k.cluster',
    },
    [
      field('ts', 'TIMESTAMP'),
      field('body', 'RECORD', [field('msg', 'STRING'), field('level', 'STRING'), field('attempts', 'INTEGER')]),
      field('k', 'JSON'),
      { name: 'tags', type: 'STRING', mode: 'REPEATED' },
    ],
  ),
  custom(
    'custom: everything in one JSON document',
    'doc_logs',
    {
      kind: 'custom',
      table: 'docs',
      timestamp: 'time',
      message: 'doc.message',
      namespace: 'doc.kubernetes.namespace_name',
      pod: 'doc.kubernetes.pod_name',
      container: 'doc.kubernetes.container_name',
      stream: 'doc.stream',
      severity: 'doc.level',
      'insert-id': 'doc.id',
    },
    [field('time', 'TIMESTAMP'), field('doc', 'JSON')],
  ),
];

interface Restriction {
  name: string;
  apply: Pick<LogSource, 'namespaces' | 'cluster'>;
}

const RESTRICTIONS: Restriction[] = [
  { name: 'all namespaces', apply: {} },
  { name: '--namespaces names', apply: { namespaces: { names: ['default', 'kube-system'] } } },
  { name: '--namespaces pattern', apply: { namespaces: { pattern: 'team-.*' } } },
  { name: '--cluster', apply: { cluster: 'prod-eu' } },
  {
    name: '--namespaces names and pattern, --cluster',
    apply: { namespaces: { names: ['a', 'b'], pattern: 'kube-.*' }, cluster: 'prod-eu' },
  },
];

const columns = (spec: string): OutputColumn[] =>
  spec.split(', ').map((column) => {
    const [name = '', type = ''] = column.split(' ');
    return { name, type };
  });

const TREE = columns(
  'namespace STRING, pod STRING, container STRING, day DATE, hours INT64, controller STRING, latest TIMESTAMP',
);
const HOURS = columns('hour INT64');
const ENTRIES = columns('timestamp TIMESTAMP, insertId STRING, stream STRING, textPayload STRING, jsonPayload STRING');
const FULL_ENTRIES = [...ENTRIES, ...columns('severity STRING, labels STRING')];
const POD_DAYS = columns('namespace STRING, pod STRING, day DATE');
const SWEEP_INDEX = columns(
  'part INT64, namespace STRING, pod STRING, container STRING, day DATE, hour INT64, entries INT64, line_bytes INT64',
);

interface Statement {
  name: string;
  query: BuiltQuery;
  /** The result's columns, as the code that reads the rows expects them. */
  columns: OutputColumn[];
}

/** Every statement bqlogfs sends for one source, in each of its variants. */
function statementsOf(source: LogSource): Statement[] {
  return [
    { name: 'tree', query: containerDaysQuery(source, WINDOW), columns: TREE },
    { name: 'tree, Europe/Berlin', query: containerDaysQuery(source, WINDOW, 'Europe/Berlin'), columns: TREE },
    { name: 'hours', query: hoursQuery(source, ref, DAY), columns: HOURS },
    { name: 'hours, America/St_Johns', query: hoursQuery(source, ref, DAY, 'America/St_Johns'), columns: HOURS },
    { name: 'entries', query: entriesQuery(source, ref, DAY, HOUR), columns: ENTRIES },
    { name: 'full entries', query: entriesQuery(source, ref, WINDOW, HOUR, true), columns: FULL_ENTRIES },
    { name: 'pod days', query: podDaysQuery(source, { container: 'app' }, WINDOW), columns: POD_DAYS },
    {
      name: 'sweep of a namespace',
      query: sweepQuery(source, { namespaces: ['web'] }, DAY, 'UTC'),
      columns: [...SWEEP_INDEX, ...ENTRIES],
    },
    {
      name: 'sweep of a container name everywhere, full entries, Asia/Kolkata',
      query: sweepQuery(source, { container: 'app' }, WINDOW, 'Asia/Kolkata', true),
      columns: [...SWEEP_INDEX, ...FULL_ENTRIES],
    },
    {
      name: 'sweep of two namespaces and a container name',
      query: sweepQuery(source, { namespaces: ['web', 'db'], container: 'app' }, DAY, 'UTC'),
      columns: [...SWEEP_INDEX, ...ENTRIES],
    },
    {
      name: 'pod days in a namespace, Asia/Kolkata',
      query: podDaysQuery(source, { container: 'app', namespace: 'web' }, WINDOW, 'Asia/Kolkata'),
      columns: POD_DAYS,
    },
  ];
}

const analyzer = await GoogleSqlAnalyzer.start();
t.teardown(() => analyzer.stop());
t.comment(`GoogleSQL analyzer up in ${analyzer.startupMs} ms`);

/** One catalog holding every layout's tables: each layout has a dataset of its own. */
const catalog = await analyzer.catalog(LAYOUTS.flatMap((each) => each.tables));

/** Variants that differ only in parameter values (a time zone) are the same statement: analyzed once. */
const analyses = new Map<string, Promise<Analysis>>();
function analyzeOnce(query: BuiltQuery): Promise<Analysis> {
  const key = JSON.stringify([query.sql, query.types]);
  const analysis = analyses.get(key) ?? catalog.analyze(query.sql, query.types);
  analyses.set(key, analysis);
  return analysis;
}

t.test('every statement, in every layout and variant, passes the analyzer', async (t) => {
  let analyzed = 0;
  for (const { name: layoutName, source } of LAYOUTS) {
    for (const restriction of RESTRICTIONS) {
      if (restriction.apply.cluster !== undefined && (source.schema ?? SINK_SCHEMA).cluster === undefined) continue;
      const restricted: LogSource = { ...source, ...restriction.apply };
      const statements = statementsOf(restricted);
      const results = await Promise.all(statements.map(({ query }) => analyzeOnce(query)));
      statements.forEach(({ name, query, columns }, index) => {
        const label = `${layoutName}, ${restriction.name}: ${name}`;
        const result = results[index];
        const statement = { sql: query.sql, types: query.types };
        if (result?.ok)
          t.same(result.columns, columns, `${label}: passes, with the columns the reader expects`, statement);
        else t.fail(`${label}: ${result?.error ?? 'no answer'}`, statement);
      });
      analyzed += statements.length;
    }
  }
  t.comment(`${analyzed} statements, ${analyses.size} distinct, analyzed`);
});

/** A statement the analyzer must reject although it parses. */
async function rejected(t: Test, against: Catalog, sql: string, types: BuiltQuery['types'], error: RegExp) {
  t.doesNotThrow(() => parse(sql), 'bq2cst parses it');
  const result = await against.analyze(sql, types);
  t.equal(result.ok, false, 'the analyzer rejects it');
  if (!result.ok) t.match(result.error, error);
}

t.test('the analyzer catches what a parser cannot', async (t) => {
  const sparse = SPARSE_SINK.source;
  const entries = entriesQuery(sparse, ref, DAY, HOUR);
  t.ok(entries.sql.includes('CAST(NULL AS STRING) AS jsonPayload'), 'the stderr branch has no jsonPayload');

  t.test('a UNION ALL of incompatible types', async (t) => {
    const sql = entries.sql.replace('CAST(NULL AS STRING) AS jsonPayload', 'CAST(NULL AS INT64) AS jsonPayload');
    await rejected(t, catalog, sql, entries.types, /UNION ALL has incompatible types: STRING, INT64/);
  });

  t.test('a column the table does not have', async (t) => {
    // The stderr table lacks jsonPayload; a builder that forgot to check would read it anyway.
    const claimsAll: LogSource = {
      ...sparse,
      tables: sparse.tables.map((table) => ({ ...table, columns: new Set(SINK_FIELDS.map((f) => f.name ?? '')) })),
    };
    const query = entriesQuery(claimsAll, ref, DAY, HOUR);
    await rejected(t, catalog, query.sql, query.types, /Unrecognized name: jsonPayload/);
  });

  t.test('a function called with arguments it has no signature for', async (t) => {
    // Log Analytics SQL (JSON_VALUE on resource.labels) against a sink table, where labels is a RECORD.
    const asLogAnalytics: LogSource = {
      ...SINK.source,
      tables: [{ tableId: 'stdout', columns: new Set(SINK_FIELDS.map((f) => f.name ?? '')) }],
      schema: LOG_ANALYTICS_SCHEMA,
    };
    const query = hoursQuery(asLogAnalytics, ref, DAY);
    await rejected(t, catalog, query.sql, query.types, /No matching signature for function JSON_VALUE/);
  });

  t.test('a parameter declared with another type than the statement needs', async (t) => {
    const query = containerDaysQuery({ ...sparse, namespaces: { names: ['a'] } }, WINDOW);
    t.same(query.types.allowed_namespaces, ['STRING']);
    await rejected(
      t,
      catalog,
      query.sql,
      { ...query.types, allowed_namespaces: 'STRING' },
      /IN UNNEST must be an array but was STRING/,
    );
  });
});

t.test('the listing reads the controller label only where the table has its column', async (t) => {
  const controllerOf = (source: LogSource) => containerDaysQuery(source, WINDOW).sql;
  t.match(controllerOf(SINK.source), 'labels.logging_gke_io_top_level_controller_name AS controller');
  const layout = (name: string) => LAYOUTS.find((candidate) => candidate.name === name)?.source;
  const sparse = controllerOf(layout('sink partitioned, sparse stderr') ?? SINK.source);
  t.equal(sparse.split('CAST(NULL AS STRING) AS controller').length, 2, 'NULL from the stderr table without labels');
  for (const name of ['log analytics', 'custom: fluent bit']) {
    t.notMatch(controllerOf(layout(name) ?? SINK.source), 'top_level_controller', `${name}: no workloads`);
  }
});
