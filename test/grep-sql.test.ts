// Every statement `bqlogfs grep` sends, and `fetch -l`'s pods query, through GoogleSQL's own
// analyzer: in each layout of log tables, with every kind of pattern and pod selection, including
// labels a table lacks (which must select no pod, not fail).
import { readFileSync } from 'node:fs';
import t from 'tap';
import {
  LOG_ANALYTICS_SCHEMA,
  LOG_ANALYTICS_VIEW,
  podDaysQuery,
  SINK_SCHEMA,
  type LogSchema,
  type LogSource,
  type Stream,
} from '../src/bigquery/query-builder.js';
import { columnPaths } from '../src/bigquery/log-schemas.js';
import { searchQuery, type SearchPattern, type SearchScope } from '../src/bigquery/search-query.js';
import { parseLabelSelector } from '../src/model/label-selector.js';
import { GoogleSqlAnalyzer, type CatalogTable, type RestField } from './support/googlesql-analyzer.js';
import { LOG_ANALYTICS_FIELDS } from './support/log-schemas.js';

const SINK_FIELDS = JSON.parse(
  readFileSync(new URL('./fixtures/gke-sink-schema.json', import.meta.url), 'utf8'),
) as RestField[];
/** A table of a sink that has seen no pod labels and no JSON payloads. */
const SPARSE_FIELDS = SINK_FIELDS.filter((field) => !['labels', 'jsonPayload'].includes(field.name ?? ''));
const PROJECT = 'my-project';
const WINDOW = { startMs: Date.UTC(2026, 10, 24, 20), endMs: Date.UTC(2026, 10, 25, 12) };

interface Layout {
  name: string;
  source: LogSource;
  tables: CatalogTable[];
}

function layout(
  name: string,
  datasetId: string,
  schema: LogSchema,
  specs: { tableId: string; stream?: Stream; fields: readonly RestField[] }[],
): Layout {
  return {
    name,
    source: {
      projectId: PROJECT,
      datasetId,
      layout: specs.some((spec) => spec.tableId.endsWith('*')) ? 'sharded' : 'partitioned',
      tables: specs.map(({ tableId, stream, fields }) => ({
        ...(stream && { stream }),
        tableId,
        columns: columnPaths(fields),
      })),
      schema,
    },
    tables: specs.map(({ tableId, fields }) => ({ name: `${PROJECT}.${datasetId}.${tableId}`, fields })),
  };
}

const SINKS = [
  layout('sink partitioned', 'gke_logs', SINK_SCHEMA, [
    { tableId: 'stdout', stream: 'stdout', fields: SINK_FIELDS },
    { tableId: 'stderr', stream: 'stderr', fields: SINK_FIELDS },
  ]),
  layout('sink partitioned, stderr without labels or JSON', 'gke_sparse', SINK_SCHEMA, [
    { tableId: 'stdout', stream: 'stdout', fields: SINK_FIELDS },
    { tableId: 'stderr', stream: 'stderr', fields: SPARSE_FIELDS },
  ]),
  layout('sink sharded', 'gke_sharded', SINK_SCHEMA, [
    { tableId: 'stdout_*', stream: 'stdout', fields: SINK_FIELDS },
    { tableId: 'stderr_*', stream: 'stderr', fields: SPARSE_FIELDS },
  ]),
];
const LOG_ANALYTICS = layout('log analytics', 'linked_logs', LOG_ANALYTICS_SCHEMA, [
  { tableId: LOG_ANALYTICS_VIEW, fields: LOG_ANALYTICS_FIELDS },
]);

const PATTERNS: SearchPattern[] = [
  { kind: 'fixed', text: 'connection refused', ignoreCase: false },
  { kind: 'fixed', text: "it's \\ 100%", ignoreCase: true },
  { kind: 'regex', text: '^(WARN|ERROR) .*timeout', ignoreCase: false },
  { kind: 'regex', text: 'timeout', ignoreCase: true },
];
const SCOPES: SearchScope[] = [
  {},
  { namespace: 'shop', container: 'app' },
  { workload: 'api' },
  { labels: parseLabelSelector('app=api,tier!=db,env in (a,b),team notin (c),app,!canary,example.com/owner') },
];

const columns = (spec: string) =>
  spec.split(', ').map((column) => {
    const [name = '', type = ''] = column.split(' ');
    return { name, type };
  });
const SEARCH = columns(
  'namespace STRING, pod STRING, container STRING, timestamp TIMESTAMP, insertId STRING, stream STRING, ' +
    'textPayload STRING, jsonPayload STRING',
);
const FULL_SEARCH = [...SEARCH, ...columns('severity STRING, labels STRING')];
const COUNT_SEARCH = [...SEARCH, ...columns('matched BOOL')];
/** The columns a search returns: the entry's, all of it (`--format json`), or with `matched` (`--count`). */
const VARIANTS = [
  { label: '', columns: { fullEntries: false }, expected: SEARCH },
  { label: ', full', columns: { fullEntries: true }, expected: FULL_SEARCH },
  { label: ', every container', columns: { fullEntries: false, everyContainer: true }, expected: COUNT_SEARCH },
];

const analyzer = await GoogleSqlAnalyzer.start();
t.teardown(() => analyzer.stop());
const catalog = await analyzer.catalog([...SINKS, LOG_ANALYTICS].flatMap((each) => each.tables));

t.test('search statements pass the analyzer, with the columns the reader expects', async (t) => {
  for (const { name, source } of [...SINKS, LOG_ANALYTICS]) {
    const scopes = source.schema?.kind === 'sink' ? SCOPES : SCOPES.slice(0, 2);
    for (const pattern of PATTERNS) {
      for (const [index, scope] of scopes.entries()) {
        for (const variant of VARIANTS) {
          const query = searchQuery(source, scope, WINDOW, pattern, variant.columns);
          const result = await catalog.analyze(query.sql, query.types);
          const label = `${name}: ${pattern.kind}${pattern.ignoreCase ? ' -i' : ''}, scope ${index}${variant.label}`;
          if (result.ok) t.same(result.columns, variant.expected, label);
          else t.fail(`${label}: ${result.error}`, { sql: query.sql });
          t.notMatch(query.sql, /connection refused|timeout|api|canary/, `${label}: values only as parameters`);
        }
      }
    }
  }
});

t.test("fetch -l's pods query passes the analyzer", async (t) => {
  for (const { name, source } of SINKS) {
    const selection = { container: 'app', labels: parseLabelSelector('app in (web),!canary') };
    const query = podDaysQuery(source, selection, WINDOW);
    const result = await catalog.analyze(query.sql, query.types);
    if (result.ok) t.same(result.columns, columns('namespace STRING, pod STRING, day DATE'), name);
    else t.fail(`${name}: ${result.error}`, { sql: query.sql });
  }
});

t.test('a label a table lacks selects no pod in it, or every pod for != and !key', async (t) => {
  const [, sparse] = SINKS;
  if (!sparse) throw new Error('no sparse layout');
  const query = searchQuery(sparse.source, { labels: parseLabelSelector('app=api,!canary') }, WINDOW, PATTERNS[0]!, {
    fullEntries: false,
  });
  const [stdout, stderr] = query.sql.split('UNION ALL');
  t.match(stdout, /labels\.k8s_pod_app IN UNNEST\(@label_0\)/, 'stdout has the column');
  t.match(stdout, /labels\.k8s_pod_canary IS NULL|AND TRUE/, 'canary: absent is true without the column');
  t.match(stderr, /AND FALSE/, 'stderr has no label columns: app=api holds for no pod');
  t.notMatch(stderr, /labels\.k8s_pod/, 'and no pod label column is named');
  t.throws(
    () => searchQuery(LOG_ANALYTICS.source, { workload: 'api' }, WINDOW, PATTERNS[0]!, { fullEntries: false }),
    /pod labels of a sink's tables/,
  );
});
