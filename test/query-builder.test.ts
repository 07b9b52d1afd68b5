// Every statement the project emits must be GoogleSQL that BigQuery accepts, with every
// path-derived value in a parameter.
import t from 'tap';
import { parse } from 'bq2cst';
import { customLogSchema, parseSchemaChoice } from '../src/bigquery/log-schemas.js';
import {
  containerDaysQuery,
  entriesQuery,
  hoursQuery,
  LOG_ANALYTICS_SCHEMA,
  LOG_ANALYTICS_VIEW,
  podDaysQuery,
  type BuiltQuery,
  type LogSource,
  type TableLayout,
} from '../src/bigquery/query-builder.js';
import { dayRange, hourRange } from '../src/model/time-model.js';
import { DESCRIBED_CHOICE, DESCRIBED_FIELDS, DESCRIBED_TABLE } from './support/log-schemas.js';

const ref = { namespace: 'hostile-ns', pod: 'pod-name.with-dots', container: 'quote-me' };

function source(layout: TableLayout, columns: string[]): LogSource {
  const suffix = layout === 'sharded' ? '_*' : '';
  return {
    projectId: 'my-project',
    datasetId: 'gke_logs',
    layout,
    tables: [
      { stream: 'stdout', tableId: `stdout${suffix}`, columns: new Set(columns) },
      { stream: 'stderr', tableId: `stderr${suffix}`, columns: new Set(['timestamp', 'resource']) },
    ],
  };
}

function everyStatement(): { name: string; query: BuiltQuery }[] {
  const statements: { name: string; query: BuiltQuery }[] = [];
  for (const layout of ['partitioned', 'sharded'] as const) {
    for (const columns of [['timestamp', 'insertId', 'textPayload', 'jsonPayload', 'resource'], ['timestamp']]) {
      const logSource = source(layout, columns);
      const day = dayRange('2026-11-25');
      statements.push(
        {
          name: `${layout} tree`,
          query: containerDaysQuery(logSource, { startMs: day.startMs - 6 * 86_400_000, endMs: day.endMs }),
        },
        { name: `${layout} hours`, query: hoursQuery(logSource, ref, day) },
        {
          name: `${layout} entries [${columns.join(',')}]`,
          query: entriesQuery(logSource, ref, day, hourRange('2026-11-25', 7)),
        },
        {
          name: `${layout} full entries [${columns.join(',')}]`,
          query: entriesQuery(logSource, ref, day, hourRange('2026-11-25', 7), true),
        },
      );
    }
  }
  return statements;
}

t.test('every statement parses as GoogleSQL', async (t) => {
  for (const { name, query } of everyStatement()) {
    t.doesNotThrow(() => parse(query.sql), name);
  }
});

t.test('path-derived values are parameters, never SQL text', async (t) => {
  for (const { name, query } of everyStatement()) {
    for (const value of Object.values(ref)) t.notMatch(query.sql, value, `${name} does not contain ${value}`);
    const referenced = new Set([...query.sql.matchAll(/@(\w+)/g)].map((match) => match[1]));
    t.same(new Set(Object.keys(query.params)), referenced, `${name}: every parameter is used and given`);
    t.same(new Set(Object.keys(query.types)), referenced, `${name}: every parameter has a type`);
  }
});

t.test('every statement filters on the partitioning column or shard suffix', async (t) => {
  for (const { name, query } of everyStatement()) {
    const branches = query.sql.split('UNION ALL');
    for (const branch of branches) {
      t.match(branch, /timestamp >= @\w+_start AND timestamp < @\w+_end/, `${name}: time filter in each branch`);
      if (name.startsWith('sharded')) t.match(branch, /_TABLE_SUFFIX BETWEEN @first_shard AND @last_shard/);
    }
  }
});

t.test('listing statements never read payload columns', async (t) => {
  for (const { name, query } of everyStatement()) {
    if (name.includes('entries')) continue;
    t.notMatch(query.sql, /Payload/, name);
  }
});

t.test('a namespace restriction is part of every statement', async (t) => {
  const restricted = { ...source('sharded', ['timestamp']), namespaces: { names: ['a', 'b'], pattern: 'kube-.*' } };
  const day = dayRange('2026-11-25');
  for (const query of [
    containerDaysQuery(restricted, day),
    hoursQuery(restricted, ref, day),
    entriesQuery(restricted, ref, day, day),
  ]) {
    t.doesNotThrow(() => parse(query.sql));
    for (const branch of query.sql.split('UNION ALL')) {
      t.match(branch, /resource\.labels\.namespace_name IN UNNEST\(@allowed_namespaces\)/);
      t.match(branch, /REGEXP_CONTAINS\(resource\.labels\.namespace_name, @namespace_pattern\)/);
    }
    t.same(query.params.allowed_namespaces, ['a', 'b']);
    t.equal(query.params.namespace_pattern, '^(?:kube-.*)$');
  }
});

t.test('identifiers that cannot be BigQuery names are refused', async (t) => {
  const bad = { ...source('partitioned', ['timestamp']), datasetId: 'logs`; DROP TABLE x; --' };
  t.throws(() => hoursQuery(bad, ref, dayRange('2026-11-25')), /invalid BigQuery dataset id/);
  const badProject = { ...source('partitioned', ['timestamp']), projectId: 'p`x' };
  t.throws(() => hoursQuery(badProject, ref, dayRange('2026-11-25')), /invalid BigQuery project id/);
});

const laSource: LogSource = {
  projectId: 'my-project',
  datasetId: 'linked_logs',
  layout: 'partitioned',
  tables: [
    {
      tableId: LOG_ANALYTICS_VIEW,
      columns: new Set(['timestamp', 'insert_id', 'log_name', 'resource', 'text_payload', 'json_payload', 'labels']),
    },
  ],
  schema: LOG_ANALYTICS_SCHEMA,
};

/** A described table: a reserved word as a column, JSON fields, a RECORD path, no insert id. */
const customSource: LogSource = {
  projectId: 'my-project',
  datasetId: 'agent_logs',
  layout: 'partitioned',
  tables: [{ tableId: DESCRIBED_TABLE, columns: new Set(['at', 'log', 'kubernetes', 'k8s']) }],
  schema: customLogSchema(DESCRIBED_CHOICE, DESCRIBED_FIELDS),
};

function statementsOf(logSource: LogSource): { name: string; query: BuiltQuery }[] {
  const day = dayRange('2026-11-25');
  const kind = logSource.schema?.kind ?? 'sink';
  return [
    { name: `${kind} tree`, query: containerDaysQuery(logSource, day, 'Europe/Berlin') },
    { name: `${kind} hours`, query: hoursQuery(logSource, ref, day) },
    { name: `${kind} entries`, query: entriesQuery(logSource, ref, day, hourRange('2026-11-25', 7)) },
    { name: `${kind} full entries`, query: entriesQuery(logSource, ref, day, day, true) },
    { name: `${kind} pod days`, query: podDaysQuery(logSource, { container: 'quote-me', namespace: 'n' }, day) },
  ];
}

t.test('Log Analytics and described tables: GoogleSQL, parameters, partition filter', async (t) => {
  for (const [logSource, timestamp] of [
    [laSource, 'timestamp'],
    [customSource, '`at`'],
  ] as const) {
    for (const { name, query } of statementsOf(logSource)) {
      t.doesNotThrow(() => parse(query.sql), `${name} parses`);
      for (const value of Object.values(ref)) t.notMatch(query.sql, value, `${name} does not contain ${value}`);
      const referenced = new Set([...query.sql.matchAll(/@(\w+)/g)].map((match) => match[1]));
      t.same(new Set(Object.keys(query.params)), referenced, `${name}: every parameter is used and given`);
      t.same(new Set(Object.keys(query.types)), referenced, `${name}: every parameter has a type`);
      t.ok(query.sql.includes(`${timestamp} >= @`) && query.sql.includes(`${timestamp} < @`), `${name}: partition`);
      if (!name.includes('entries')) t.notMatch(query.sql, /payload|\blog\b/i, `${name}: no payload column`);
    }
  }
  const entries = entriesQuery(laSource, ref, dayRange('2026-11-25'), dayRange('2026-11-25')).sql;
  t.match(entries, /JSON_VALUE\(resource\.labels, '\$\.namespace_name'\) = @namespace/);
  t.match(entries, /resource\.type = @only_value/);
  t.match(entries, /IF\(log_name LIKE '%\/stderr', 'stderr', 'stdout'\) AS stream/);
  t.match(entries, /TO_JSON_STRING\(json_payload\) AS jsonPayload/);
  const custom = entriesQuery(customSource, ref, dayRange('2026-11-25'), dayRange('2026-11-25')).sql;
  t.match(custom, /`at` AS timestamp/);
  t.match(custom, /k8s\.container = @container/);
  t.match(custom, /CAST\(NULL AS STRING\) AS insertId/);
  t.match(custom, /ORDER BY .*, timestamp, insertId, stream, textPayload, jsonPayload$/, 'text breaks ties');
});

t.test('--cluster is part of every statement, in each schema', async (t) => {
  for (const [logSource, column] of [
    [source('sharded', ['timestamp']), 'resource.labels.cluster_name'],
    [laSource, "JSON_VALUE(resource.labels, '$.cluster_name')"],
    [customSource, 'k8s.cluster'],
  ] as const) {
    for (const { name, query } of statementsOf({ ...logSource, cluster: 'prod-eu' })) {
      t.doesNotThrow(() => parse(query.sql), name);
      for (const branch of query.sql.split('UNION ALL')) t.ok(branch.includes(`${column} = @cluster`), name);
      t.equal(query.params.cluster, 'prod-eu');
    }
  }
  const noCluster = { ...customSource, schema: { ...customSource.schema!, cluster: undefined }, cluster: 'x' };
  t.throws(() => hoursQuery(noCluster as LogSource, ref, dayRange('2026-11-25')), /needs a cluster column/);
});

t.test('described columns are checked against the table before any SQL is built', async (t) => {
  const fields = [
    { name: 'time', type: 'TIMESTAMP' },
    { name: 'log', type: 'STRING' },
    { name: 'payload', type: 'JSON' },
    { name: 'tags', type: 'STRING', mode: 'REPEATED' },
  ];
  const base = {
    kind: 'custom',
    table: 't',
    timestamp: 'time',
    message: 'log',
    namespace: 'payload.ns',
    pod: 'payload.pod',
    container: 'payload.c',
  } as const;
  t.same(customLogSchema(base, fields).namespace, { path: 'payload', jsonField: 'ns' });
  t.same(customLogSchema({ ...base, message: 'payload' }, fields).json, { path: 'payload' });
  t.equal(customLogSchema({ ...base, message: 'payload' }, fields).sortJsonKeys, true);
  t.throws(() => customLogSchema({ ...base, timestamp: 'log' }, fields), /is STRING, not TIMESTAMP/);
  t.throws(() => customLogSchema({ ...base, pod: 'nope' }, fields), /has no column nope/);
  t.throws(() => customLogSchema({ ...base, pod: 'log.x' }, fields), /log of table t is STRING/);
  t.throws(() => customLogSchema({ ...base, pod: 'tags' }, fields), /repeated/);
  t.throws(() => parseSchemaChoice({ ...base, pod: 'a; DROP TABLE x' }), /pod "a; DROP TABLE x" is not a column path/);
  t.throws(() => parseSchemaChoice({ ...base, table: 'x*' }), /not a BigQuery table name/);
  t.throws(() => parseSchemaChoice({ kind: 'custom', table: 't' }), /also needs namespace, pod/);
  t.throws(() => parseSchemaChoice('custom'), /needs its columns/);
  t.throws(() => parseSchemaChoice('elastic'), /takes one of auto, sink, log-analytics, custom/);
  const bad = { ...customSource, schema: { ...customSource.schema!, pod: { path: 'a`b' } } };
  t.throws(() => hoursQuery(bad, ref, dayRange('2026-11-25')), /invalid BigQuery column path/);
});

t.test('the pod query of fetch reads only labels and timestamps', async (t) => {
  for (const layout of ['partitioned', 'sharded'] as const) {
    const logSource = source(layout, ['timestamp', 'resource', 'textPayload']);
    const window = { startMs: Date.parse('2026-03-01T22:00:00Z'), endMs: Date.parse('2026-03-02T02:00:00Z') };
    for (const namespace of [undefined, 'quote-me-ns']) {
      const query = podDaysQuery(logSource, { container: 'quote-me', ...(namespace && { namespace }) }, window);
      t.doesNotThrow(() => parse(query.sql), `${layout} ${namespace ?? 'all namespaces'} parses`);
      t.notMatch(query.sql, /quote-me/, 'names are parameters');
      t.notMatch(query.sql, /textPayload|jsonPayload|insertId/, 'no payload column');
      t.equal(query.params.container, 'quote-me');
      t.equal(query.params.namespace, namespace);
      if (layout === 'sharded') t.same([query.params.first_shard, query.params.last_shard], ['20260301', '20260302']);
    }
  }
});
