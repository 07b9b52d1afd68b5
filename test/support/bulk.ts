// A container with enough entries in one day for a query result of several pages, so faults can
// strike after some pages were already handed over.
import type { TableLayout } from '../../src/bigquery/query-builder.js';
import { insertEntries, type LogEntry } from '../../src/demo/sink-tables.js';
import { datasetFor, type Environment } from './environment.js';
import { expectedFiles } from './fixtures.js';

export const BULK = { namespace: 'bulk', pod: 'loader-5f6d7-q2w3e', container: 'app' } as const;
const BULK_ENTRIES = 7_000;

export function bulkEntries(day: string): LogEntry[] {
  return Array.from({ length: BULK_ENTRIES }, (_, n) => {
    const second = Math.floor((n * 86_400) / BULK_ENTRIES);
    const time = new Date(Date.parse(`${day}T00:00:00Z`) + second * 1000).toISOString().slice(0, 19);
    return {
      ...BULK,
      stream: n % 7 === 0 ? 'stderr' : 'stdout',
      timestamp: `${time}.${String(n % 1_000_000).padStart(6, '0')}Z`,
      insertId: `bulk-${String(n).padStart(6, '0')}`,
      textPayload: `entry ${n} of the bulk loader`,
    };
  });
}

/** `bulk/<pod>/app/<day>`: the bulk container's one day, the day before yesterday. */
export function bulkDayDir(environment: Environment): string {
  return `${BULK.namespace}/${BULK.pod}/${BULK.container}/${environment.fixtures.dayBefore}`;
}

/** The bulk container's hour files, in order. */
export function bulkHours(environment: Environment): string[] {
  return [...environment.files.keys()].filter((path) => path.startsWith(`${BULK.namespace}/`)).sort();
}

/** Adds the bulk container's day to the datasets of `layouts`, and its files to the expected ones. */
export async function addBulk(environment: Environment, layouts: TableLayout[]): Promise<void> {
  const entries = bulkEntries(environment.fixtures.dayBefore);
  for (const layout of layouts) await insertEntries(environment.client, datasetFor(layout), layout, entries);
  for (const [path, content] of expectedFiles(entries)) environment.files.set(path, content);
}
