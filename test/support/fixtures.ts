// Known log entries, with the edge cases that break naive implementations, and the files a plain
// filesystem would hold for them, computed here independently of the code under test.
import type { TableField } from '@google-cloud/bigquery';
import type { LogEntry } from '../../src/demo/sink-tables.js';

const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;

export const FIXTURE_JSON_FIELDS: TableField[] = [
  { name: 'message', type: 'STRING', mode: 'NULLABLE' },
  { name: 'level', type: 'STRING', mode: 'NULLABLE' },
  { name: 'count', type: 'FLOAT', mode: 'NULLABLE' },
  { name: 'ok', type: 'BOOLEAN', mode: 'NULLABLE' },
  {
    name: 'detail',
    type: 'RECORD',
    mode: 'NULLABLE',
    fields: [
      { name: 'code', type: 'STRING', mode: 'NULLABLE' },
      { name: 'attempts', type: 'FLOAT', mode: 'NULLABLE' },
    ],
  },
];

export interface Fixtures {
  entries: LogEntry[];
  /** Entries inserted a second time, as a sink's duplicate delivery would. */
  duplicates: LogEntry[];
  yesterday: string;
  dayBefore: string;
  today: string;
  /** A day outside the 7-day listing window, still kept in BigQuery. */
  oldDay: string;
  edgeHour: string;
}

function day(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

function at(dayName: string, hour: number, minute: number, second: number, micros: number): string {
  const hh = String(hour).padStart(2, '0');
  const mm = String(minute).padStart(2, '0');
  const ss = String(second).padStart(2, '0');
  return `${dayName}T${hh}:${mm}:${ss}.${String(micros).padStart(6, '0')}Z`;
}

function seeded(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1103515245 + 12345) % 2147483648;
    return state / 2147483648;
  };
}

export function buildFixtures(nowMs: number): Fixtures {
  const today = day(nowMs);
  const yesterday = day(nowMs - DAY_MS);
  const dayBefore = day(nowMs - 2 * DAY_MS);
  const oldDay = day(nowMs - 30 * DAY_MS);
  const entries: LogEntry[] = [];
  let id = 0;
  const add = (entry: Omit<LogEntry, 'insertId'> & { insertId?: string }) => {
    const full = { insertId: `id-${String(id++).padStart(6, '0')}`, ...entry };
    entries.push(full);
    return full;
  };

  const app = { namespace: 'shop', pod: 'web-7d9f8-abcde', container: 'app' } as const;
  const edge = (hour: number, minute: number, second: number, micros: number, payload: Partial<LogEntry>) =>
    add({ ...app, stream: 'stdout', timestamp: at(yesterday, hour, minute, second, micros), ...payload });
  edge(10, 0, 0, 0, { textPayload: 'first entry of the hour at hh:00:00.000000' });
  edge(10, 59, 59, 999999, { textPayload: 'last entry of the hour at hh:59:59.999999' });
  edge(9, 59, 59, 999999, { textPayload: 'belongs to the previous hour' });
  edge(11, 0, 0, 0, { textPayload: 'belongs to the next hour' });
  edge(10, 5, 0, 1, { textPayload: 'héllo wörld — 日本語 🎉 multi-byte UTF-8' });
  edge(10, 5, 0, 2, { textPayload: 'col1\tcol2\tcol3 tabs' });
  edge(10, 5, 0, 3, { textPayload: 'carriage return at the end\r' });
  edge(10, 5, 0, 4, { textPayload: '' });
  edge(10, 5, 0, 5, { textPayload: 'one trailing newline is dropped\n' });
  edge(10, 5, 0, 6, { textPayload: 'only one of two trailing newlines is dropped\n\n' });
  edge(10, 5, 0, 7, { textPayload: 'an entry\nspanning two lines' });
  edge(10, 6, 0, 0, { textPayload: `long line ${'x'.repeat(200 * 1024)} end` });
  edge(10, 7, 0, 0, {
    jsonPayload: { message: 'json entry', level: 'info', count: 3, ok: true, detail: { code: 'A1', attempts: 2.5 } },
  });
  edge(10, 7, 0, 1, { jsonPayload: { message: 'json with nulls', level: null, count: 0.1, ok: false, detail: null } });
  // Equal timestamps on both streams: ordered by insertId, then stream.
  const sameTime = at(yesterday, 10, 8, 0, 123456);
  add({ ...app, stream: 'stdout', timestamp: sameTime, insertId: 'same-b', textPayload: 'same time, stdout, id b' });
  add({ ...app, stream: 'stderr', timestamp: sameTime, insertId: 'same-a', textPayload: 'same time, stderr, id a' });
  add({ ...app, stream: 'stderr', timestamp: sameTime, insertId: 'same-c', textPayload: 'same time, stderr, id c' });
  const delivered = edge(10, 9, 0, 0, { textPayload: 'delivered twice, shown once' });
  const deliveredErr = add({
    ...app,
    stream: 'stderr',
    timestamp: at(yesterday, 10, 9, 30, 0),
    textPayload: 'ERROR delivered twice on stderr',
  });

  // Ordinary traffic for grep, wc, sort | uniq -c.
  const random = seeded(42);
  const levels = ['INFO', 'INFO', 'INFO', 'WARN', 'ERROR'];
  const actions = ['login', 'checkout', 'search', 'logout'];
  const containers = [
    app,
    { namespace: 'shop', pod: 'web-7d9f8-abcde', container: 'nginx' },
    { namespace: 'shop', pod: 'web-7d9f8-fghij', container: 'nginx' },
    { namespace: 'batch', pod: 'report-28391-xk2p9', container: 'worker' },
    { namespace: 'kube-system', pod: 'dns.node-1', container: 'dnsmasq' },
  ];
  for (const ref of containers) {
    for (const dayName of [dayBefore, yesterday]) {
      for (let n = 0; n < 150; n++) {
        const hour = Math.floor(random() * 24);
        const level = levels[Math.floor(random() * levels.length)] ?? 'INFO';
        const action = actions[Math.floor(random() * actions.length)] ?? 'login';
        add({
          ...ref,
          stream: level === 'ERROR' ? 'stderr' : 'stdout',
          timestamp: at(
            dayName,
            hour,
            Math.floor(random() * 60),
            Math.floor(random() * 60),
            Math.floor(random() * 1e6),
          ),
          textPayload: `${level} action=${action} took=${Math.floor(random() * 500)}ms`,
        });
      }
    }
  }
  add({
    namespace: 'batch',
    pod: 'report-28391-xk2p9',
    container: 'worker',
    stream: 'stdout',
    timestamp: at(oldDay, 3, 15, 0, 42),
    textPayload: 'from a day outside the listing window',
  });
  const currentHour = Math.floor(nowMs / HOUR_MS) * HOUR_MS;
  add({
    namespace: 'shop',
    pod: 'web-7d9f8-abcde',
    container: 'nginx',
    stream: 'stdout',
    timestamp: `${new Date(currentHour).toISOString().slice(0, 19)}.000000Z`,
    textPayload: 'from the hour that is still filling',
  });
  return { entries, duplicates: [delivered, deliveredErr], yesterday, dayBefore, today, oldDay, edgeHour: '10' };
}

function micros(timestamp: string): bigint {
  const match = /^(.{19})(?:\.(\d{1,6}))?Z$/.exec(timestamp);
  if (!match) throw new Error(`bad timestamp ${timestamp}`);
  return BigInt(Date.parse(`${match[1]}Z`)) * 1000n + BigInt((match[2] ?? '').padEnd(6, '0'));
}

export function compactWithoutNulls(value: unknown): unknown {
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value)
      .filter(([, field]) => field !== null)
      .map(([key, field]) => [key, compactWithoutNulls(field)]),
  );
}

export function lineOf(entry: LogEntry): string {
  if (entry.textPayload !== undefined) return entry.textPayload.replace(/\n$/, '') + '\n';
  if (entry.jsonPayload !== undefined) return JSON.stringify(compactWithoutNulls(entry.jsonPayload)) + '\n';
  return '\n';
}

/** Relative path (`ns/pod/container/YYYY-MM-DD/HH.log`) → the bytes a plain file would hold. */
export function expectedFiles(entries: LogEntry[], line: (entry: LogEntry) => string = lineOf): Map<string, string> {
  const unique = new Map<string, LogEntry>();
  for (const entry of entries) unique.set(`${entry.timestamp}|${entry.insertId}`, entry);
  const byFile = new Map<string, LogEntry[]>();
  for (const entry of unique.values()) {
    const path = `${entry.namespace}/${entry.pod}/${entry.container}/${entry.timestamp.slice(0, 10)}/${entry.timestamp.slice(11, 13)}.log`;
    byFile.set(path, [...(byFile.get(path) ?? []), entry]);
  }
  const files = new Map<string, string>();
  for (const [path, fileEntries] of byFile) {
    fileEntries.sort(
      (a, b) =>
        Number(micros(a.timestamp) - micros(b.timestamp)) ||
        (a.insertId < b.insertId ? -1 : a.insertId > b.insertId ? 1 : 0) ||
        (a.stream < b.stream ? -1 : a.stream > b.stream ? 1 : 0),
    );
    files.set(path, fileEntries.map(line).join(''));
  }
  return files;
}
