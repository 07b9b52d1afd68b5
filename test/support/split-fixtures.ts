// Entries Cloud Logging split into parts: what the mount should make of them, computed here from
// the parts (independently of the SQL that joins them), and a container of split entries that the
// fault soak reads besides the fixtures.
import type { TableField } from '@google-cloud/bigquery';
import type { TableLayout } from '../../src/bigquery/query-builder.js';
import { insertEntries, type LogEntry } from '../../src/demo/sink-tables.js';
import { datasetFor, type Environment } from './environment.js';
import { expectedFiles } from './fixtures.js';

function marker(first: number, last: number, total: number): string {
  return `[bqlogfs: ${first === last ? `part ${first + 1}` : `parts ${first + 1}-${last + 1}`} of ${total} missing]`;
}

/**
 * The entries as the mount shows them: the parts of each split entry (within one UTC day) joined
 * into one entry with the key of its first part; text parts joined as they are, structured parts
 * as the text of a JSON array; a marker for every run of missing parts. Others are left as they are.
 */
export function joinSplitParts(entries: readonly LogEntry[]): LogEntry[] {
  const joined: LogEntry[] = [];
  const groups = new Map<string, LogEntry[]>();
  for (const entry of entries) {
    if (!entry.split) {
      joined.push(entry);
      continue;
    }
    const key = `${entry.timestamp.slice(0, 10)} ${entry.split.uid}`;
    groups.set(key, [...(groups.get(key) ?? []), entry]);
  }
  for (const group of groups.values()) {
    const byIndex = new Map(group.map((part) => [part.split?.index ?? 0, part]));
    const indexes = [...byIndex.keys()].sort((a, b) => a - b);
    const total = group[0]?.split?.totalSplits ?? 0;
    const json = group[0]?.jsonPayload !== undefined;
    const piece = (text: string) => (json ? JSON.stringify(text) : text);
    const pieces: string[] = [];
    let next = 0;
    for (const index of indexes) {
      const part = byIndex.get(index);
      if (index > next) pieces.push(piece(marker(next, index - 1, total)));
      pieces.push(json ? JSON.stringify(part?.jsonPayload) : (part?.textPayload ?? ''));
      next = index + 1;
    }
    if (next < total) pieces.push(piece(marker(next, total - 1, total)));
    const first = byIndex.get(indexes[0] ?? 0) ?? group[0]!;
    const { namespace, pod, container, stream, timestamp, insertId } = first;
    const textPayload = json ? `[${pieces.join(',')}]` : pieces.join('');
    joined.push({ namespace, pod, container, stream, timestamp, insertId, textPayload });
  }
  return joined;
}

export const SPLIT_REF = { namespace: 'split', pod: 'chunker-7c9d4-m8n2b', container: 'app' } as const;

/**
 * A day of a container that logs long lines Cloud Logging split: across hour ends, across stdout and
 * stderr, with parts missing and parts delivered twice, between plain lines.
 */
export function splitEntries(day: string): LogEntry[] {
  const entries: LogEntry[] = [];
  const at = (seconds: number, micros: number) =>
    `${new Date(Date.parse(`${day}T00:00:00Z`) + seconds * 1000).toISOString().slice(0, 19)}.${String(micros).padStart(6, '0')}Z`;
  for (let n = 0; n < 400; n++) {
    const seconds = Math.floor((n * 86_400) / 400);
    const stream = n % 3 === 0 ? 'stderr' : 'stdout';
    const base = { ...SPLIT_REF, stream, insertId: `s-${String(n).padStart(4, '0')}` } as const;
    if (n % 4 !== 0) {
      entries.push({ ...base, timestamp: at(seconds, n), textPayload: `plain line ${n}` });
      continue;
    }
    const total = 2 + (n % 3);
    const uid = `uid-${n}`;
    for (let index = 0; index < total; index++) {
      // Every 8th drops its second part; the last part of every 12th falls into the next hour.
      if (n % 8 === 0 && index === 1) continue;
      const late = n % 12 === 0 && index === total - 1 ? 3_600 : 0;
      const part: LogEntry = {
        ...base,
        stream: index % 2 === 1 && n % 5 === 0 ? 'stderr' : stream,
        timestamp: at(seconds + late, n),
        insertId: `${base.insertId}-${index}`,
        textPayload: `${index === 0 ? `long line ${n}: ` : ''}${'ü-part'.repeat(200)}${index}|`,
        split: { uid, index, totalSplits: total },
      };
      entries.push(part);
      if (index === 1) entries.push(part);
    }
  }
  return entries;
}

const SPLIT_FIELD: TableField = {
  name: 'split',
  type: 'RECORD',
  mode: 'NULLABLE',
  fields: [
    { name: 'uid', type: 'STRING', mode: 'NULLABLE' },
    { name: 'index', type: 'INTEGER', mode: 'NULLABLE' },
    { name: 'totalSplits', type: 'INTEGER', mode: 'NULLABLE' },
  ],
};

/**
 * Adds the `split` column to every table of the datasets of `layouts` (as a sink does once it
 * receives a split entry), loads the split container's day, and adds its files to the expected ones.
 */
export async function addSplitEntries(environment: Environment, layouts: TableLayout[]): Promise<void> {
  const entries = splitEntries(environment.fixtures.dayBefore);
  for (const layout of layouts) {
    const dataset = environment.client.dataset(datasetFor(layout));
    const [tables] = await dataset.getTables();
    for (const table of tables) {
      const [metadata] = await table.getMetadata();
      const fields = (metadata as { schema: { fields: TableField[] } }).schema.fields;
      if (fields.some((field) => field.name === 'split')) continue;
      await table.setMetadata({ schema: { fields: [...fields, SPLIT_FIELD] } });
    }
    await insertEntries(environment.client, datasetFor(layout), layout, entries);
  }
  for (const [path, content] of expectedFiles(joinSplitParts(entries))) environment.files.set(path, content);
}
