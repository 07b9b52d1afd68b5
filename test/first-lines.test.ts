// `tail` of a cold hour prints once the query has run, not once the whole hour has been read: the
// sweep's index gives the hour's exact size, and the last entries are read on their own. The
// Storage Read API is slowed here (every stream ends after one record batch, and every call waits
// a second), so the hour's rows take several seconds to come while its end takes one call. Whatever
// path a read takes, every tool must see exactly the file the inserted rows make.
import t from 'tap';
import { join } from 'node:path';
import type { LogEntry } from '../src/demo/sink-tables.js';
import { serverArgs } from './support/cli-process.js';
import { mountTemp } from './support/daemon.js';
import { dayBeforeYesterday, HOUR_MS, serverWith, sha256Of, timestampInHour } from './support/big-hours.js';
import { shOk } from './support/shell.js';
import { readStats } from './support/stats.js';
import { createHash } from 'node:crypto';

const PROJECT = 'first-lines-project';
const DATASET = 'logs';
const { startMs: D, name: DAY } = dayBeforeYesterday();
const REF = { namespace: 'shop', pod: 'web-0', container: 'app' } as const;
const BIG_HOUR = 10;
const DUPLICATE_HOUR = 11;
const EMPTY_ENTRY_HOUR = 12;
const HEAD_HOUR = 13;
const BIG_ENTRIES = 24_000;
const SMALL_ENTRIES = 6_000;

/** Payloads whose bytes differ from their characters, or whose line differs from the payload. */
const TRICKY = [
  'caf\u00e9 cr\u00e8me',
  '\u65e5\u672c\u8a9e\u306e\u30ed\u30b0',
  'rocket \u{1f680} launched',
  'ends in a newline\n',
  'ends in two newlines\n\n',
  '',
  'two\nlines',
  'a backslash escape \\x41\\xAA and \\n literally',
  'tab\there, carriage return\r',
  '\n',
];

function entryAt(hour: number, n: number, count: number, payload: string, pod: string = REF.pod): LogEntry {
  return {
    ...REF,
    pod,
    stream: n % 7 === 0 ? 'stderr' : 'stdout',
    timestamp: timestampInHour(D, hour, n, count),
    insertId: `${hour}-${n}`,
    textPayload: payload,
  };
}

/** The big hour: ~12 MB of plain lines, with the tricky payloads among its last entries. */
function bigHour(): LogEntry[] {
  return Array.from({ length: BIG_ENTRIES }, (_, n) => {
    const tail = BIG_ENTRIES - n;
    const payload =
      tail <= 3 * TRICKY.length && tail % 3 === 0
        ? TRICKY[(tail / 3) % TRICKY.length]!
        : `${String(n).padStart(6, '0')} GET /api/items/${(n * 7919) % 10_000} 200 ${'x'.repeat(400 + (n % 200))}`;
    return entryAt(BIG_HOUR, n, BIG_ENTRIES, payload);
  });
}

/** Entries of a smaller hour of pod `pod`: several record batches all the same. */
function smallHour(hour: number, pod: string): LogEntry[] {
  return Array.from({ length: SMALL_ENTRIES }, (_, n) =>
    entryAt(hour, n, SMALL_ENTRIES, `${pod} ${n} ${'y'.repeat(300 + (n % 100))}`, pod),
  );
}

/** The same entry a moment later, with an insert id of its own. */
function renumbered(entry: LogEntry): LogEntry {
  return { ...entry, timestamp: entry.timestamp.replace(/\.(\d{5})\d/, '.$19'), insertId: `${entry.insertId}-again` };
}

/** An hour with an entry the sink delivered twice: the file holds it once. */
function duplicateHour(): LogEntry[] {
  const entries = smallHour(DUPLICATE_HOUR, 'web-1');
  return [...entries, { ...entries[SMALL_ENTRIES - 10]! }];
}

/** An hour with an entry without any payload: an empty line. */
function emptyEntryHour(): LogEntry[] {
  const entries = smallHour(EMPTY_ENTRY_HOUR, 'web-2');
  delete entries[SMALL_ENTRIES - 5]!.textPayload;
  return entries;
}

function micros(entry: LogEntry): bigint {
  const [seconds = '', fraction = ''] = entry.timestamp.slice(0, -1).split('.');
  return BigInt(Date.parse(`${seconds}Z`)) * 1000n + BigInt(fraction.padEnd(6, '0'));
}

/** The entry's time as `--timestamps --tz Asia/Tokyo` writes it: Tokyo is 9 hours ahead of UTC all year. */
function tokyoTimestamp(entry: LogEntry): string {
  const local = new Date(Number(micros(entry) / 1000n) + 9 * HOUR_MS).toISOString().slice(0, 19);
  return `${local}.${String(micros(entry) % 1_000_000n).padStart(6, '0')}+09:00 `;
}

/**
 * The hour file the entries make, computed from them alone (docs/semantics.md, "File contents"),
 * each line after `prefix` of its entry.
 */
function expectedFile(entries: LogEntry[], prefix: (entry: LogEntry) => string = () => ''): Buffer {
  const bytes = (text: string) => Buffer.from(text);
  const sorted = [...entries].sort(
    (a, b) =>
      (micros(a) < micros(b) ? -1 : micros(a) > micros(b) ? 1 : 0) ||
      Buffer.compare(bytes(a.insertId), bytes(b.insertId)) ||
      Buffer.compare(bytes(a.stream), bytes(b.stream)),
  );
  const lines: Buffer[] = [];
  let previous: LogEntry | undefined;
  for (const entry of sorted) {
    const delivered = previous && previous.insertId === entry.insertId && micros(previous) === micros(entry);
    previous = entry;
    if (delivered) continue;
    const text = entry.textPayload ?? '';
    lines.push(Buffer.from(`${prefix(entry)}${text.endsWith('\n') ? text.slice(0, -1) : text}\n`));
  }
  return Buffer.concat(lines);
}

/** What `tail -n count` prints of a file. */
function lastLines(file: Buffer, count: number): Buffer {
  let at = file.length - 1;
  for (let found = 0; at > 0; at--) {
    if (file[at - 1] === 0x0a && ++found === count) break;
  }
  return file.subarray(Math.max(0, at));
}

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

t.test('tail of a cold hour reads its end before the rest, and every tool sees the same file', async (t) => {
  const hours = new Map([
    [BIG_HOUR, bigHour()],
    [DUPLICATE_HOUR, duplicateHour()],
    [EMPTY_ENTRY_HOUR, emptyEntryHour()],
    [HEAD_HOUR, [...smallHour(HEAD_HOUR, 'web-3'), ...smallHour(HEAD_HOUR, 'web-3').map(renumbered)]],
  ]);
  const { emulator } = await serverWith(t, PROJECT, DATASET, DAY, [...hours.values()].flat());
  const { daemon } = await mountTemp(t, serverArgs(emulator, PROJECT, DATASET));
  const pods = new Map([
    [BIG_HOUR, REF.pod],
    [DUPLICATE_HOUR, 'web-1'],
    [EMPTY_ENTRY_HOUR, 'web-2'],
    [HEAD_HOUR, 'web-3'],
  ]);
  const path = (hour: number) =>
    join(daemon.mountpoint, REF.namespace, pods.get(hour)!, REF.container, DAY, `${String(hour).padStart(2, '0')}.log`);
  const expected = new Map([...hours].map(([hour, entries]) => [hour, expectedFile(entries)]));
  const big = expected.get(BIG_HOUR)!;
  t.ok(big.length > 10_000_000, `the big hour has ${big.length} bytes`);

  emulator.faults.set({
    seed: 7,
    latencyMs: 1_000,
    rules: [{ endpoint: 'storage.readRows', kind: 'streamEnd', afterBatches: 1 }],
  });
  const startedAt = Date.now();
  const tail = await shOk(`tail -n 20 '${path(BIG_HOUR)}' | od -An -c`);
  const tailMs = Date.now() - startedAt;
  t.equal(tail, await shOk(`printf '%s' '${lastLines(big, 20).toString('base64')}' | base64 -d | od -An -c`));
  t.equal(await shOk(`stat -c %s '${path(BIG_HOUR)}'`), `${big.length}\n`, 'st_size is the hour’s size');
  const early = await readStats(daemon.mountpoint);
  t.ok(early.earlyReads > 0, `tail (${tailMs} ms) was answered from the hour’s last entries`);

  t.equal(await shOk(`tail -c 333 '${path(BIG_HOUR)}' | sha256sum`), `${sha256(big.subarray(-333))}  -\n`);
  t.equal(await shOk(`wc -c < '${path(BIG_HOUR)}'`), `${big.length}\n`);
  t.equal(await sha256Of(path(BIG_HOUR)), sha256(big), 'cat gives the same file');
  const lines = big.toString().split('\n').length - 1;
  t.equal(await shOk(`wc -l < '${path(BIG_HOUR)}'`), `${lines}\n`);

  // head of another cold hour: its first lines as soon as they are written, before the rest.
  const head = expected.get(HEAD_HOUR)!;
  const beforeHead = (await readStats(daemon.mountpoint)).earlyReads;
  const firstLines = await shOk(`head -n 3 '${path(HEAD_HOUR)}' | base64 -w0`);
  t.equal(
    firstLines,
    head.subarray(0, head.indexOf('\n', head.indexOf('\n', head.indexOf('\n') + 1) + 1) + 1).toString('base64'),
  );
  const headStats = await readStats(daemon.mountpoint);
  t.ok(headStats.earlyReads > beforeHead, 'head was answered from the part of the hour written');
  t.equal(await sha256Of(path(HEAD_HOUR)), sha256(head), 'and the whole file follows');

  // Hours whose size the query cannot give: each read, cold, as slowly, waits for the whole file.
  for (const hour of [DUPLICATE_HOUR, EMPTY_ENTRY_HOUR]) {
    const file = expected.get(hour)!;
    const before = (await readStats(daemon.mountpoint)).earlyReads;
    t.equal(await shOk(`stat -c %s '${path(hour)}'`), `${file.length}\n`, `hour ${hour}: st_size`);
    t.equal(await shOk(`tail -n 5 '${path(hour)}' | base64 -w0`), lastLines(file, 5).toString('base64'));
    t.equal(await sha256Of(path(hour)), sha256(file));
    t.equal((await readStats(daemon.mountpoint)).earlyReads, before, 'its size is not known early: no early read');
  }
  t.equal(daemon.process.exitCode, null, 'the daemon is still running');
});

t.test('with --timestamps, the end of a cold hour comes first too', async (t) => {
  const entries = bigHour();
  const { emulator } = await serverWith(t, PROJECT, DATASET, DAY, entries);
  const { daemon } = await mountTemp(t, [
    ...serverArgs(emulator, PROJECT, DATASET),
    '--timestamps',
    '--tz',
    'Asia/Tokyo',
  ]);
  // Hour 10 UTC is hour 19 in Tokyo, on the same day.
  const path = join(daemon.mountpoint, REF.namespace, REF.pod, REF.container, DAY, `${BIG_HOUR + 9}.log`);
  const file = expectedFile(entries, tokyoTimestamp);
  emulator.faults.set({
    seed: 7,
    latencyMs: 1_000,
    rules: [{ endpoint: 'storage.readRows', kind: 'streamEnd', afterBatches: 1 }],
  });
  t.equal(await shOk(`tail -n 20 '${path}' | base64 -w0`), lastLines(file, 20).toString('base64'));
  t.ok((await readStats(daemon.mountpoint)).earlyReads > 0, 'tail was answered from the hour’s last entries');
  t.equal(await shOk(`stat -c %s '${path}'`), `${file.length}\n`, 'st_size counts each line’s timestamp');
  t.equal(await sha256Of(path), sha256(file), 'cat gives the same file');
  t.equal(daemon.process.exitCode, null, 'the daemon is still running');
});
