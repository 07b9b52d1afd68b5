// Every statement the project emits must be GoogleSQL that BigQuery accepts, with every
// path-derived value in a parameter.
import t from 'tap';
import { parse } from 'bq2cst';
import {
  containerDaysQuery,
  entriesQuery,
  hoursQuery,
  type BuiltQuery,
  type LogSource,
  type TableLayout,
} from '../src/query-builder.js';
import { dayRange, hourRange } from '../src/time-model.js';

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
