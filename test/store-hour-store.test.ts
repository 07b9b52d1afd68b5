// The hour store in process, wired as the mount wires it (openLogStore) over an in-process fake
// warehouse, with a clock the tests move: one sweep per namespace-day however many containers and
// readers ask, exact bytes per hour, sealing and restarts from the manifest, when live hours are
// fetched again and which sweeps refreshes share, the fallback to one container's query for a sweep
// too big, failed queries, and eviction.
import t, { type Test } from 'tap';
import { withDeadline } from '../src/model/deadline.js';
import { copyFile, mkdtemp, readdir, readFile, rm, stat, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { crc32 } from 'node:zlib';
import type { EntriesSpec, SweepSpec } from '../src/bigquery/log-queries.js';
import type { LogWarehouse } from '../src/bigquery/log-warehouse.js';
import type { ContainerRef } from '../src/model/log-path.js';
import { MountStats } from '../src/model/stats.js';
import { microsToRfc3339, TimeZoneModel, type DayName } from '../src/model/time-model.js';
import type { HourFile } from '../src/store/day-state.js';
import type { DayManifest } from '../src/store/disk-cache.js';
import { lineFormatter } from '../src/store/entry-format.js';
import { openLogStore, type LogStore, type LogStoreOptions } from '../src/store/log-store.js';
import { FailingWarehouse, type FailureStep } from './support/failing-warehouse.js';
import { FakeWarehouse, micros, type FakeEntry } from './support/fake-warehouse.js';
import { testStoreOptions } from './support/tree-stack.js';

const REF: ContainerRef = { namespace: 'shop', pod: 'web-1', container: 'app' };
/** Another pod of REF's namespace, and a container of another namespace. */
const WEB_2: ContainerRef = { namespace: 'shop', pod: 'web-2', container: 'app' };
const WORKER: ContainerRef = { namespace: 'batch', pod: 'report-1', container: 'worker' };
const DAY = '2026-11-25';
const SEAL_AFTER_MS = 15 * 60_000;
const REFRESH_MS = 10_000;
const MIB = 1_048_576;

/** Epoch ms of a time of DAY (UTC); hour 24 is the next day's midnight. */
function at(hour: number, minute = 0, second = 0): number {
  return Date.UTC(2026, 10, 25, hour, minute, second);
}

/** A time after all of DAY is final. */
const DAY_FINAL_MS = at(36);

let nextInsertId = 1;

/** A text entry of REF at `time` (`HH:MM:SS[.ffffff]` of `day`). */
function entry(time: string, text: string, more: Partial<FakeEntry> = {}): FakeEntry {
  return {
    ...REF,
    stream: 'stdout',
    timestamp: micros(`${DAY}T${time}Z`),
    insertId: `id-${String(nextInsertId++).padStart(4, '0')}`,
    textPayload: text,
    ...more,
  };
}

/** An entry of another day. */
function entryOn(day: DayName, time: string, text: string): FakeEntry {
  return { ...entry('00:00:00', text), timestamp: micros(`${day}T${time}Z`) };
}

/** A text entry of another container at `time` of DAY. */
function entryOf(ref: ContainerRef, time: string, text: string): FakeEntry {
  return { ...entry(time, text), ...ref };
}

interface Harness {
  store: LogStore;
  stats: MountStats;
  clock: { nowMs: number };
  cacheDir: string;
  /** An hour of REF, once the fetch it started (if any) has also written the rest of the day. */
  settledHour(day: DayName, hour: number, mayRefresh?: boolean): Promise<HourFile | undefined>;
}

async function newCacheDir(t: Test): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'bqlogfs-hour-store-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

async function openStore(
  t: Test,
  warehouse: LogWarehouse,
  options: { nowMs: number; cacheDir?: string } & Partial<LogStoreOptions>,
): Promise<Harness> {
  const { nowMs, cacheDir = await newCacheDir(t), ...rest } = options;
  const clock = { nowMs };
  const stats = new MountStats();
  const storeOptions = testStoreOptions(cacheDir, {
    sealAfterMs: SEAL_AFTER_MS,
    refreshMs: REFRESH_MS,
    queryTimeoutMs: 60_000,
    ...rest,
  });
  const store = await openLogStore(storeOptions, pino({ level: 'silent' }), stats, () => clock.nowMs, warehouse);
  const settledHour = async (day: DayName, hour: number, mayRefresh?: boolean) => {
    try {
      return await store.hours.hour(REF, day, hour, mayRefresh);
    } finally {
      await settled(store);
    }
  };
  return { store, stats, clock, cacheDir, settledHour };
}

/** Waits until no fetch runs: waiters of an hour resume before the fetch has written the rest of the day. */
async function settled(store: LogStore): Promise<void> {
  await until('the fetches to end', () => store.hours.fetchesRunning === 0);
}

/** The bytes a file handed out holds, as fetch copies them. */
async function contentOf(store: LogStore, file: HourFile | undefined): Promise<string | undefined> {
  if (!file) return undefined;
  const chunks: Buffer[] = [];
  for await (const chunk of store.cache.readWhole(file)) chunks.push(chunk);
  return Buffer.concat(chunks).toString();
}

/**
 * The day's manifest without its checksums, after checking that each is the CRC-32 of the hour's
 * file as it is on disk.
 */
async function checkedManifest(
  store: LogStore,
  ref: ContainerRef,
  day: DayName,
): Promise<Omit<DayManifest, 'crc32' | 'blocks'> | undefined> {
  const manifest = await store.cache.readManifest(ref, day);
  if (!manifest) return undefined;
  const { crc32: recorded, blocks: recordedBlocks, ...rest } = manifest;
  const hex = (bytes: Buffer) => crc32(bytes).toString(16).padStart(8, '0');
  const actual: Record<string, string> = {};
  const actualBlocks: Record<string, string> = {};
  for (const [hour, size] of Object.entries(manifest.hours)) {
    const content = Buffer.from((await contentOf(store, { ref, day, hour: Number(hour), size } as HourFile)) ?? '');
    actual[hour] = hex(content);
    const blocks: string[] = [];
    for (let at = 0; at < content.length; at += 1 << 20) blocks.push(hex(content.subarray(at, at + (1 << 20))));
    actualBlocks[hour] = blocks.join('');
  }
  if (JSON.stringify(actual) !== JSON.stringify(recorded))
    throw new Error(`checksums ${JSON.stringify(recorded)} are wrong`);
  if (JSON.stringify(actualBlocks) !== JSON.stringify(recordedBlocks))
    throw new Error(`block checksums ${JSON.stringify(recordedBlocks)} are wrong`);
  return rest;
}

/** The bytes a reader that opened the file earlier reads now. */
async function readThrough(reader: Awaited<ReturnType<LogStore['hours']['openForReading']>>): Promise<string> {
  const buffer = Buffer.alloc(4096);
  const { bytesRead } = await reader.read(buffer, 0, buffer.length, 0);
  return buffer.subarray(0, bytesRead).toString();
}

function entriesQueries(fake: FakeWarehouse, day = DAY): EntriesSpec[] {
  return fake
    .queriesOf('entries')
    .flatMap((query) => (query.spec.kind === 'entries' && query.spec.day === day ? [query.spec] : []));
}

/** The sweeps the fake ran, in order; only those of the UTC day `day` when given. */
function sweeps(fake: FakeWarehouse, day?: DayName): SweepSpec[] {
  const startMs = day === undefined ? undefined : Date.parse(`${day}T00:00:00Z`);
  return fake
    .queriesOf('sweep')
    .flatMap((query) =>
      query.spec.kind === 'sweep' && (startMs === undefined || query.spec.range.startMs === startMs)
        ? [query.spec]
        : [],
    );
}

/** The whole UTC day DAY, as a sweep reads it. */
const DAY_RANGE = { startMs: at(0), endMs: at(24) };
/** How statistics and failures name the sweep of DAY over REF's namespace. */
const SWEEP_SUBJECT = 'shop/*/*/2026-11-25T00:00:00.000Z/2026-11-26T00:00:00.000Z';

/** A failure plan step: the sweeps fail as too big for BigQuery, so each container-day is read alone. */
function sweepTooBig(reason = 'responseTooLarge', when: () => boolean = () => true): FailureStep {
  return { at: 'start', reason, times: 100, match: (query) => query.spec.kind === 'sweep' && when() };
}

async function partialFiles(dir: string): Promise<string[]> {
  return (await readdir(dir, { recursive: true })).map(String).filter((name) => name.endsWith('.partial'));
}

async function until(what: string, condition: () => boolean | Promise<boolean>): Promise<void> {
  for (let waited = 0; !(await condition()); waited += 5) {
    if (waited > 5_000) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

t.test('single flight: concurrent accesses to one container-day share one sweep', async (t) => {
  const fake = new FakeWarehouse();
  fake.insert([entry('09:05:00', 'nine'), entry('10:05:00', 'ten'), entry('11:30:00', 'eleven')]);
  const { store, settledHour } = await openStore(t, fake, { nowMs: DAY_FINAL_MS });
  const gate = fake.hold();
  const asked = [10, 10, 9, 11, 12, 10, 23, 9].map((hour) => store.hours.hour(REF, DAY, hour));
  await gate.reached(1);
  t.equal(fake.queries.length, 1, 'one query runs while all of them wait');
  gate.open();
  const files = await Promise.all(asked);
  await settled(store);
  t.equal(fake.queries.length, 1, 'and none after it');
  t.same(sweeps(fake), [
    { kind: 'sweep', scope: { namespaces: ['shop'] }, range: DAY_RANGE, timeZone: 'UTC', fullEntries: false },
  ]);
  t.same(fake.queriesOf('entries'), [], 'no query of the container alone');
  t.same(
    files.map((file) => file?.size),
    [4, 4, 5, 7, undefined, 4, undefined, 5],
    'each caller gets its own hour; hours without entries are undefined',
  );
  t.equal(files[0], files[1], 'callers of one hour get the same file');
  t.equal(await settledHour(DAY, 13), undefined, 'a final empty hour needs no query');
  t.equal(fake.queries.length, 1);
});

t.test('pages are split into hour files with exactly the lines of each hour', async (t) => {
  const fake = new FakeWarehouse({ pageRows: 2 });
  fake.insert([
    entry('09:00:00.000001', 'nine a'),
    entry('09:59:59.999999', 'nine b', { stream: 'stderr' }),
    entry('10:00:00', 'ten b', { insertId: 'b' }),
    entry('10:00:00', 'ten a', { insertId: 'a' }),
    entry('10:00:00', 'ten no id', { insertId: null }),
    entry('10:30:00', 'ten c, one trailing newline dropped\n\n'),
    entry('10:31:00', '', { textPayload: undefined, jsonPayload: { msg: 'ten d', level: 'info' } }),
    entry('10:32:00', '', { textPayload: undefined, jsonPayload: { msg: 'ten e' } }),
    entry('11:59:59.999999', 'eleven ünïcödé'),
    entry('12:00:00', 'twelve'),
  ]);
  const { store, settledHour } = await openStore(t, fake, { nowMs: DAY_FINAL_MS });
  const eleven = await settledHour(DAY, 11);
  t.equal(await contentOf(store, eleven), 'eleven ünïcödé\n');
  t.equal(eleven?.size, Buffer.byteLength('eleven ünïcödé\n'), 'sizes count bytes, not characters');
  t.equal(await contentOf(store, await settledHour(DAY, 9)), 'nine a\nnine b\n');
  t.equal(
    await contentOf(store, await settledHour(DAY, 10)),
    'ten no id\nten a\nten b\nten c, one trailing newline dropped\n\n{"msg":"ten d","level":"info"}\n{"msg":"ten e"}\n',
    'ordered by (timestamp, insertId, stream), a missing insertId first; JSON without null fields',
  );
  t.equal(await contentOf(store, await settledHour(DAY, 12)), 'twelve\n');
  t.equal(fake.queries.length, 1);
  t.equal(sweeps(fake).length, 1);
});

t.test('with --timestamps, each line starts with its timestamp', async (t) => {
  const fake = new FakeWarehouse();
  const first = entry('10:00:00.000001', 'first');
  const second = entry('10:00:02', 'second');
  fake.insert([first, second]);
  const { store, settledHour } = await openStore(t, fake, { nowMs: DAY_FINAL_MS, timestamps: true });
  const line = lineFormatter({ timestamps: true, format: 'text' });
  const expected = [first, second]
    .map((e) => line([e.timestamp.toString(), e.insertId, 'stdout', e.textPayload ?? null, null]))
    .join('');
  t.equal(expected, `${microsToRfc3339(first.timestamp)} first\n${microsToRfc3339(second.timestamp)} second\n`);
  t.equal(await contentOf(store, await settledHour(DAY, 10)), expected);
});

t.test('a repeated delivery is written once, even across pages', async (t) => {
  const fake = new FakeWarehouse({ pageRows: 1 });
  const twice = entry('10:00:01', 'delivered twice');
  const oneId = entry('10:00:04', 'one id, first');
  fake.insert([
    entry('10:00:00', 'before'),
    twice,
    { ...twice },
    entry('10:00:02', 'no id, stderr', { insertId: null, stream: 'stderr' }),
    entry('10:00:02', 'no id, stdout', { insertId: null }),
    entry('10:00:03', 'after'),
    oneId,
    { ...oneId, timestamp: oneId.timestamp + 1_000_000n, textPayload: 'one id, later' },
  ]);
  const { store, settledHour } = await openStore(t, fake, { nowMs: DAY_FINAL_MS });
  const hour = await settledHour(DAY, 10);
  const text = 'before\ndelivered twice\nno id, stderr\nno id, stdout\nafter\none id, first\none id, later\n';
  t.equal(
    await contentOf(store, hour),
    text,
    'a repeat has the same insertId and timestamp; entries without an insertId, or of one insertId at two times, are not',
  );
  t.equal(hour?.size, Buffer.byteLength(text), 'the size is that of the lines written');
});

t.test('a live hour grows by appends, late entries in arrival order; sealed, it is in order', async (t) => {
  const fake = new FakeWarehouse({ pageRows: 1 });
  fake.insert([entry('09:10:00', 'nine'), entry('11:05:00', 'a'), entry('11:10:00', 'b')]);
  const { store, clock, settledHour } = await openStore(t, fake, { nowMs: at(11, 30) });

  const live = await settledHour(DAY, 11);
  t.match(live, { final: false, size: 4, mtimeMs: at(11, 30) }, 'a snapshot of the live hour');
  const nine = await settledHour(DAY, 9);
  t.match(nine, { final: true, mtimeMs: at(10) }, 'an hour that ended is final');
  const reader = await store.hours.openForReading(live as HourFile);

  fake.insert([entry('11:07:00', 'late'), entry('11:20:00', 'c'), entry('11:25:00', 'd')]);
  clock.nowMs += REFRESH_MS + 1;
  const grown = await settledHour(DAY, 11);
  t.equal(sweeps(fake).length, 2, 'a refresh sweeps the day again');
  t.same(sweeps(fake)[1]?.range, DAY_RANGE, 'all of its UTC day');
  t.equal(await settledHour(DAY, 9), nine, 'but the final hours are not written again');
  t.equal(
    await contentOf(store, grown),
    'a\nb\nlate\nc\nd\n',
    'what the file lacks is appended, the late entry first (query order within one refresh)',
  );
  t.match(grown, { final: false, mtimeMs: clock.nowMs });
  t.equal(await readThrough(reader), 'a\nb\nlate\nc\nd\n', 'a reader sees the same file grow');

  clock.nowMs += REFRESH_MS + 1;
  const unchanged = await settledHour(DAY, 11);
  t.equal(sweeps(fake).length, 3);
  t.equal(unchanged?.mtimeMs, grown?.mtimeMs, 'a refresh that found nothing new keeps the mtime');

  clock.nowMs = at(12) + SEAL_AFTER_MS + 1;
  const sealed = await settledHour(DAY, 11);
  t.equal(await contentOf(store, sealed), 'a\nlate\nb\nc\nd\n', 'final: written anew, the late entry in its place');
  t.match(sealed, { final: true, mtimeMs: at(12) });
  t.equal(sealed?.size, grown?.size, 'the same entries, so the same size');
  t.not(sealed?.mtimeMs, grown?.mtimeMs, 'but another mtime, so the kernel drops the pages it cached');
  t.equal(await readThrough(reader), 'a\nb\nlate\nc\nd\n', 'a reader that had it open keeps the old file');
  await reader.close();
  t.same(await checkedManifest(store, REF, DAY), { knownThroughMs: at(12), hours: { '9': 5, '11': 13 } });
});

t.test('late entries: a tie on time, entries without an insertId, each appended exactly once', async (t) => {
  const fake = new FakeWarehouse({ pageRows: 2 });
  const shown = entry('11:10:00', 'shown', { insertId: 'm' });
  fake.insert([
    entry('11:05:00', 'a'),
    shown,
    entry('11:10:00', 'no id 1', { insertId: null }),
    entry('11:20:00', 'z'),
  ]);
  const { store, clock, settledHour } = await openStore(t, fake, { nowMs: at(11, 30) });
  t.equal(await contentOf(store, await settledHour(DAY, 11)), 'a\nno id 1\nshown\nz\n', 'no insertId sorts first');

  fake.insert([
    entry('11:10:00', 'tie, sorts before shown', { insertId: 'b' }),
    entry('11:10:00', 'no id 2', { insertId: null }),
    { ...shown },
    entry('11:01:00', 'earliest'),
  ]);
  clock.nowMs += REFRESH_MS + 1;
  const grown = await settledHour(DAY, 11);
  const arrived = 'a\nno id 1\nshown\nz\nearliest\nno id 2\ntie, sorts before shown\n';
  t.equal(await contentOf(store, grown), arrived, 'the late ones after z, in query order; the repeat of shown dropped');
  t.equal(grown?.size, Buffer.byteLength(arrived));

  clock.nowMs += REFRESH_MS + 1;
  t.equal(await contentOf(store, await settledHour(DAY, 11)), arrived, 'a refresh that finds nothing new adds nothing');

  fake.insert([entry('11:06:00', 'later still'), entry('11:10:00', 'no id 1', { insertId: null })]);
  clock.nowMs += REFRESH_MS + 1;
  t.equal(
    await contentOf(store, await settledHour(DAY, 11)),
    `${arrived}later still\nno id 1\n`,
    'a second round; the same line again without an insertId is another entry',
  );

  clock.nowMs = at(12) + SEAL_AFTER_MS + 1;
  t.equal(
    await contentOf(store, await settledHour(DAY, 11)),
    'earliest\na\nlater still\nno id 1\nno id 2\nno id 1\ntie, sorts before shown\nshown\nz\n',
    'sealed: in (timestamp, insertId, stream) order',
  );
});

t.test('sealing: final hours go in the manifest, and a new store serves them without a query', async (t) => {
  const entries = [entry('09:05:00', 'nine'), entry('10:05:00', 'ten'), entry('11:30:00', 'eleven')];
  const fake = new FakeWarehouse();
  fake.insert(entries);
  const first = await openStore(t, fake, { nowMs: DAY_FINAL_MS });
  const served = new Map<number, string | undefined>();
  for (const hour of [9, 10, 11]) served.set(hour, await contentOf(first.store, await first.settledHour(DAY, hour)));
  t.same(await checkedManifest(first.store, REF, DAY), {
    knownThroughMs: at(24),
    hours: { '9': 5, '10': 4, '11': 7 },
  });
  t.same(await first.store.hours.finalHours(REF, DAY), [9, 10, 11]);

  const empty = new FakeWarehouse();
  const again = await openStore(t, empty, { nowMs: DAY_FINAL_MS, cacheDir: first.cacheDir });
  for (const hour of [9, 10, 11]) {
    const file = await again.settledHour(DAY, hour);
    t.match(file, { final: true, mtimeMs: at(hour + 1) });
    t.equal(await contentOf(again.store, file), served.get(hour), `hour ${hour} as before`);
  }
  t.equal(await again.settledHour(DAY, 12), undefined);
  t.same(await again.store.hours.finalHours(REF, DAY), [9, 10, 11]);
  t.equal(empty.queries.length, 0, 'not one query');
});

t.test('after a restart only the hours not final are fetched; a damaged day is fetched whole', async (t) => {
  const fake = new FakeWarehouse();
  fake.insert([entry('09:05:00', 'nine'), entry('11:05:00', 'eleven')]);
  const first = await openStore(t, fake, { nowMs: at(11, 30) });
  await first.settledHour(DAY, 11);
  t.same(await checkedManifest(first.store, REF, DAY), { knownThroughMs: at(11), hours: { '9': 5 } });
  t.equal(await first.store.hours.finalHours(REF, DAY), undefined, 'the day is not all final');

  const second = await openStore(t, fake, { nowMs: at(11, 30), cacheDir: first.cacheDir });
  const restored = await second.settledHour(DAY, 9);
  t.equal(await contentOf(second.store, restored), 'nine\n');
  t.equal(fake.queries.length, 1, 'a final hour from the manifest costs no query');
  t.equal(await contentOf(second.store, await second.settledHour(DAY, 11)), 'eleven\n');
  t.equal(sweeps(fake).length, 2, 'the hour not final is swept again');
  t.equal(await second.settledHour(DAY, 9), restored, 'the final one is not written again');

  const nine = join(first.cacheDir, (await readdir(first.cacheDir))[0] ?? '', 'shop/web-1/app', DAY, '09.log');
  await truncate(nine, 2);
  const third = await openStore(t, fake, { nowMs: at(11, 30), cacheDir: first.cacheDir });
  t.equal(
    await contentOf(third.store, await third.settledHour(DAY, 9)),
    'nine\n',
    'sizes that do not match the manifest: the whole day again',
  );
  t.equal(sweeps(fake).length, 3);
  t.same(await checkedManifest(third.store, REF, DAY), { knownThroughMs: at(11), hours: { '9': 5 } });
});

t.test('a restored file that does not match its checksum is never read: it is fetched again', async (t) => {
  const fake = new FakeWarehouse();
  fake.insert([entry('09:05:00', 'nine'), entry('10:05:00', 'ten!'), entry('11:05:00', 'eleven')]);
  const first = await openStore(t, fake, { nowMs: DAY_FINAL_MS });
  await first.settledHour(DAY, 9);
  const dayDir = join(first.cacheDir, (await readdir(first.cacheDir))[0] ?? '', 'shop/web-1/app', DAY);
  const nine = join(dayDir, '09.log');
  const ten = join(dayDir, '10.log');
  const damaged = await readFile(nine);
  damaged.writeUInt8(damaged.readUInt8(1) ^ 0x20, 1);
  await writeFile(nine, damaged);
  // Another hour's file of the same size in its place.
  await copyFile(join(dayDir, '11.log'), ten);
  await truncate(ten, 5);

  const second = await openStore(t, fake, { nowMs: DAY_FINAL_MS, cacheDir: first.cacheDir });
  const restored = await second.settledHour(DAY, 9);
  t.equal(restored?.size, 5, 'the manifest still vouches for the size');
  const queriesBefore = fake.queries.length;
  const reader = await second.store.hours.openForReading(restored as HourFile);
  t.equal(await readThrough(reader), 'nine\n', 'the reader gets the true bytes');
  await reader.close();
  t.equal(fake.queries.length, queriesBefore + 1, 'the damaged hour was fetched again');
  await settled(second.store);
  const tenFile = await second.settledHour(DAY, 10);
  t.equal(await contentOf(second.store, await second.store.hours.checked(tenFile as HourFile)), 'ten!\n');
  t.equal(await readFile(nine, 'utf8'), 'nine\n', 'the cache holds the true bytes again');

  const third = await openStore(t, fake, { nowMs: DAY_FINAL_MS, cacheDir: first.cacheDir });
  const queries = fake.queries.length;
  for (const [hour, text] of [
    [9, 'nine\n'],
    [10, 'ten!\n'],
    [11, 'eleven\n'],
  ] as const) {
    const file = (await third.settledHour(DAY, hour)) as HourFile;
    const opened = await third.store.hours.openForReading(file);
    t.equal(await readThrough(opened), text, `hour ${hour} from the repaired cache`);
    await opened.close();
    t.ok(file.verified, 'checked once');
  }
  t.equal(fake.queries.length, queries, 'a sound cache costs no query');
});

t.test('refresh policy: only for a reader, at most once per interval, within the budget', async (t) => {
  const fake = new FakeWarehouse();
  fake.insert([entry('09:10:00', 'nine'), entry('11:05:00', 'a')]);
  const { stats, clock, settledHour } = await openStore(t, fake, {
    nowMs: at(11, 30),
    refreshBudgetBytes: 15 * MIB,
  });
  await settledHour(DAY, 11);
  t.equal(sweeps(fake).length, 1);
  t.equal(await settledHour(DAY, 12), undefined, 'an hour that has not begun');
  t.equal(sweeps(fake).length, 1, 'has no entries and costs no query');

  clock.nowMs += REFRESH_MS - 1;
  await settledHour(DAY, 11, true);
  t.equal(sweeps(fake).length, 1, 'a snapshot younger than the interval is served as it is');

  clock.nowMs += 2;
  fake.insert([entry('11:20:00', 'b')]);
  const withoutReader = await settledHour(DAY, 11, false);
  t.equal(sweeps(fake).length, 1, 'without a reader the snapshot stays');
  t.equal(withoutReader?.size, 2);
  t.equal(stats.refreshes, 0);

  const refreshed = await settledHour(DAY, 11, true);
  t.equal(sweeps(fake).length, 2, 'a reader refreshes it');
  t.equal(refreshed?.size, 4);
  t.equal(stats.refreshes, 1);
  t.equal(stats.refreshBytesBilled, 10 * MIB, 'what the refresh billed counts; the first fetch does not');
  await settledHour(DAY, 11, true);
  t.equal(sweeps(fake).length, 2, 'at most once per interval');

  clock.nowMs += REFRESH_MS + 1;
  fake.insert([entry('11:25:00', 'c')]);
  const refused = await settledHour(DAY, 11, true);
  t.equal(sweeps(fake).length, 2, 'another refresh would exceed the budget');
  t.equal(refused?.size, 4, 'so the reader keeps the snapshot');
  t.equal(stats.refreshesSkipped, 1);
  t.equal(await settledHour(DAY, 9).then((file) => file?.final), true, 'final hours are not affected');
});

t.test('a refresh exactly one interval after the last fetch reads what arrived since', async (t) => {
  const fake = new FakeWarehouse();
  fake.insert([entry('11:05:00', 'a')]);
  const { store, stats, clock, settledHour } = await openStore(t, fake, { nowMs: at(11, 30) });
  await settledHour(DAY, 11);
  fake.insert([entry('11:20:00', 'b')]);
  clock.nowMs += REFRESH_MS;
  const refreshed = await settledHour(DAY, 11);
  t.equal(stats.refreshes, 1, 'a snapshot as old as the interval is refreshed');
  t.equal(sweeps(fake).length, 2, 'a new sweep, not the one the last fetch read');
  t.equal(await contentOf(store, refreshed), 'a\nb\n');
});

t.test('an hour without entries yet is fetched again even without a reader, so that it can appear', async (t) => {
  const fake = new FakeWarehouse();
  fake.insert([entry('09:10:00', 'nine')]);
  const { store, clock, settledHour } = await openStore(t, fake, { nowMs: at(11, 30) });
  t.equal(await settledHour(DAY, 11, false), undefined);
  fake.insert([entry('11:20:00', 'new')]);
  clock.nowMs += REFRESH_MS + 1;
  t.equal(await contentOf(store, await settledHour(DAY, 11, false)), 'new\n');
  t.equal(sweeps(fake).length, 2);
});

for (const reason of ['responseTooLarge', 'resourcesExceeded']) {
  t.test(`a sweep that fails with ${reason}: the container-day is read alone, by its own query`, async (t) => {
    const fake = new FakeWarehouse();
    fake.insert([
      entry('09:05:00', 'nine'),
      entry('10:05:00', 'ten'),
      entry('11:30:00', 'eleven'),
      entryOf(WEB_2, '10:10:00', 'another pod'),
    ]);
    const failing = new FailingWarehouse(fake, [sweepTooBig(reason)]);
    const { store, cacheDir } = await openStore(t, failing, { nowMs: DAY_FINAL_MS });
    const files = await Promise.all([10, 9, 11, 12].map((hour) => store.hours.hour(REF, DAY, hour)));
    await settled(store);
    t.same(failing.injected, [{ at: 'start', reason, subject: SWEEP_SUBJECT }], 'the sweep failed');
    t.same(fake.queriesOf('sweep'), [], 'before it reached the warehouse');
    t.same(entriesQueries(fake), [
      {
        kind: 'entries',
        ref: REF,
        day: DAY,
        range: DAY_RANGE,
        first: { startMs: at(10), endMs: at(11) },
        fullEntries: false,
      },
    ]);
    t.same(
      await Promise.all(files.map((file) => contentOf(store, file))),
      ['ten\n', 'nine\n', 'eleven\n', undefined],
      'the same files as from a sweep',
    );
    t.same(await checkedManifest(store, REF, DAY), {
      knownThroughMs: at(24),
      hours: { '9': 5, '10': 4, '11': 7 },
    });
    t.same(await partialFiles(cacheDir), []);
  });
}

t.test('read alone, a query restarted after pages: the partial hour is dropped, the bytes the same', async (t) => {
  const entries = [
    entry('09:01:00', 'nine a'),
    entry('09:02:00', 'nine b'),
    entry('09:03:00', 'nine c'),
    entry('10:01:00', 'ten a'),
    entry('10:02:00', 'ten b'),
    entry('10:03:00', 'ten c'),
    entry('11:01:00', 'eleven a'),
    entry('11:02:00', 'eleven b'),
  ];
  const clean = new FakeWarehouse({ pageRows: 2 });
  clean.insert(entries);
  const expected = await openStore(t, clean, { nowMs: DAY_FINAL_MS });
  const expectedBytes = new Map<number, string | undefined>();
  for (const hour of [9, 10, 11])
    expectedBytes.set(hour, await contentOf(expected.store, await expected.settledHour(DAY, hour)));
  t.same(
    clean.queries.map((query) => query.spec.kind),
    ['sweep'],
    'the bytes expected, from a sweep',
  );

  const fake = new FakeWarehouse({ pageRows: 2 });
  fake.insert(entries);
  // Pages of the query of the container-day, hour 10 first: [10a 10b] [10c 9a] [9b 9c] | fails | [11a 11b]
  const failing = new FailingWarehouse(fake, [
    sweepTooBig(),
    { at: 'page', afterPages: 3, reason: 'backendError', match: (query) => query.spec.kind === 'entries' },
  ]);
  const { store, cacheDir } = await openStore(t, failing, { nowMs: DAY_FINAL_MS });
  const ten = store.hours.hour(REF, DAY, 10);
  const [nine, eleven] = await Promise.all([9, 11].map((hour) => store.hours.hour(REF, DAY, hour)));
  await settled(store);
  t.same(
    failing.injected,
    [
      { at: 'start', reason: 'responseTooLarge', subject: SWEEP_SUBJECT },
      { at: 'page', reason: 'backendError', subject: `shop/web-1/app/${DAY}` },
    ],
    'the sweep was too big, then the job of the day alone failed once after three pages',
  );
  t.equal(entriesQueries(fake).length, 2, 'and ran again');
  t.equal(entriesQueries(fake)[0]?.first.startMs, at(10));
  t.equal(await contentOf(store, await ten), expectedBytes.get(10), 'an hour finished before the restart, rewritten');
  t.equal(await contentOf(store, nine), expectedBytes.get(9), 'the hour being written when it failed');
  t.equal(await contentOf(store, eleven), expectedBytes.get(11));
  t.same(await partialFiles(cacheDir), [], 'no temporary file left');
  t.same(await store.cache.readManifest(REF, DAY), await expected.store.cache.readManifest(REF, DAY));
});

t.test('read alone, a refresh restarted after pages cuts the live file back, then appends once', async (t) => {
  const fake = new FakeWarehouse({ pageRows: 1 });
  fake.insert([entry('11:05:00', 'a'), entry('11:10:00', 'b')]);
  let armed = false;
  const plan: FailureStep[] = [
    sweepTooBig('responseTooLarge', () => armed),
    {
      at: 'page',
      afterPages: 3,
      reason: 'backendError',
      match: (query) => armed && query.spec.kind === 'entries',
    },
  ];
  const failing = new FailingWarehouse(fake, plan);
  const { store, clock, settledHour } = await openStore(t, failing, { nowMs: at(11, 30) });
  t.equal(await contentOf(store, await settledHour(DAY, 11)), 'a\nb\n');
  t.equal(sweeps(fake).length, 1, 'read from a sweep first');

  fake.insert([entry('11:06:00', 'late'), entry('11:20:00', 'c'), entry('11:21:00', 'd'), entry('11:22:00', 'e')]);
  clock.nowMs += REFRESH_MS + 1;
  armed = true;
  const grown = await settledHour(DAY, 11);
  t.same(
    failing.injected,
    [
      { at: 'start', reason: 'responseTooLarge', subject: SWEEP_SUBJECT },
      { at: 'page', reason: 'backendError', subject: `shop/web-1/app/${DAY}` },
    ],
    'the refresh’s sweep was too big; read alone, it failed after appending the late entry',
  );
  t.equal(entriesQueries(fake)[0]?.range.startMs, at(11), 'read alone, from the first hour not final');
  t.equal(await contentOf(store, grown), 'a\nb\nlate\nc\nd\ne\n', 'the late entry is there once');
  t.equal(grown?.size, 15);
});

t.test('a failed sweep fails every waiting hour, caches nothing, and the next access sweeps again', async (t) => {
  const fake = new FakeWarehouse({ pageRows: 1 });
  fake.insert([entry('09:05:00', 'nine'), entry('10:05:00', 'ten a'), entry('10:06:00', 'ten b')]);
  fake.insert([entryOf(WEB_2, '10:07:00', 'another pod')]);
  const failing = new FailingWarehouse(fake, [{ at: 'start', reason: 'accessDenied' }]);
  const { store, cacheDir, settledHour } = await openStore(t, failing, { nowMs: DAY_FINAL_MS });
  const failed = [10, 9].map((hour) => store.hours.hour(REF, DAY, hour));
  await t.rejects(failed[0] as Promise<unknown>, { message: /Access Denied/, reason: 'accessDenied' });
  await t.rejects(
    failed[1] as Promise<unknown>,
    { message: /Access Denied/, reason: 'accessDenied' },
    'every hour of the day',
  );
  await settled(store);
  t.same(fake.queries, [], 'the sweep never reached the warehouse');
  t.same(entriesQueries(fake), [], 'a failure that is not about size is not read alone');
  t.equal(await store.cache.readManifest(REF, DAY), undefined, 'no manifest');
  t.same(await partialFiles(cacheDir), [], 'no temporary file');

  t.equal(await contentOf(store, await settledHour(DAY, 10)), 'ten a\nten b\n', 'the next access sweeps again');
  t.equal(sweeps(fake).length, 1);
  t.equal(await contentOf(store, await store.hours.hour(WEB_2, DAY, 10)), 'another pod\n');
  await settled(store);
  t.equal(sweeps(fake).length, 1, 'the failed sweep is not kept: the one that worked serves the other pod');
});

t.test('a failed query of a container-day read alone fails its hours; the next access tries again', async (t) => {
  const fake = new FakeWarehouse({ pageRows: 1 });
  fake.insert([entry('09:05:00', 'nine'), entry('10:05:00', 'ten a'), entry('10:06:00', 'ten b')]);
  const failing = new FailingWarehouse(fake, [
    { ...sweepTooBig(), times: 1 },
    { at: 'page', afterPages: 1, reason: 'notFound' },
  ]);
  const { store, cacheDir, settledHour } = await openStore(t, failing, { nowMs: DAY_FINAL_MS });
  const failed = [10, 9].map((hour) => store.hours.hour(REF, DAY, hour));
  for (const hour of failed) await t.rejects(hour as Promise<unknown>, { message: /Not found/, reason: 'notFound' });
  await settled(store);
  t.equal(entriesQueries(fake).length, 1, 'it failed after one page');
  t.equal(await store.cache.readManifest(REF, DAY), undefined, 'no manifest');
  t.same(await partialFiles(cacheDir), [], 'no temporary file');

  t.equal(await contentOf(store, await settledHour(DAY, 10)), 'ten a\nten b\n', 'the next access fetches again');
  t.same(
    fake.queries.map((query) => query.spec.kind),
    ['entries', 'sweep'],
    'with a sweep, which does not fail this time',
  );
});

t.test('containers of one namespace-day share one sweep; another namespace has its own', async (t) => {
  const fake = new FakeWarehouse({ pageRows: 2 });
  fake.insert([
    entry('09:05:00', 'nine'),
    entry('10:05:00', 'ten a'),
    entryOf(WEB_2, '10:06:00', 'web-2 ten'),
    entry('10:07:00', 'ten b'),
    entryOf(WEB_2, '11:00:00', 'web-2 eleven'),
    entryOf({ ...REF, container: 'sidecar' }, '10:08:00', 'sidecar ten'),
    entryOf(WORKER, '10:09:00', 'worker ten'),
  ]);
  const { store, stats } = await openStore(t, fake, { nowMs: DAY_FINAL_MS });
  const gate = fake.hold();
  const first = store.hours.hour(REF, DAY, 10);
  await gate.reached(1);
  const second = store.hours.hour(WEB_2, DAY, 10);
  await until('the second pod’s fetch to start', () => store.hours.fetchesRunning === 2);
  t.equal(fake.queries.length, 1, 'the second pod waits for the sweep the first started');
  gate.open();
  t.equal(await contentOf(store, await first), 'ten a\nten b\n');
  t.equal(await contentOf(store, await second), 'web-2 ten\n', 'each container gets only its own entries');
  await settled(store);
  const sidecar = await store.hours.hour({ ...REF, container: 'sidecar' }, DAY, 10);
  t.equal(await contentOf(store, sidecar), 'sidecar ten\n');
  t.equal(await contentOf(store, await store.hours.hour(WEB_2, DAY, 11)), 'web-2 eleven\n');
  t.equal(await store.hours.hour(WEB_2, DAY, 9), undefined, 'an hour of the pod without entries');
  await settled(store);
  t.same(sweeps(fake), [
    { kind: 'sweep', scope: { namespaces: ['shop'] }, range: DAY_RANGE, timeZone: 'UTC', fullEntries: false },
  ]);
  t.same(await checkedManifest(store, WEB_2, DAY), { knownThroughMs: at(24), hours: { '10': 10, '11': 13 } });
  t.same(await store.hours.finalHours(REF, DAY), [9, 10], 'the first pod’s other hours came with it');

  t.equal(await contentOf(store, await store.hours.hour(WORKER, DAY, 10)), 'worker ten\n');
  await settled(store);
  t.same(
    sweeps(fake).map((sweep) => sweep.scope),
    [{ namespaces: ['shop'] }, { namespaces: ['batch'] }],
    'another namespace is swept on its own',
  );
  t.same(fake.queriesOf('entries'), []);
  t.equal(stats.bytesBilled, fake.bytesBilled, 'each sweep billed once');
});

t.test('another pod’s final day is read from the kept sweep after the refresh interval too', async (t) => {
  const fake = new FakeWarehouse();
  fake.insert([entry('10:05:00', 'ten'), entryOf(WEB_2, '10:06:00', 'web-2 ten')]);
  const { store, clock, settledHour } = await openStore(t, fake, { nowMs: DAY_FINAL_MS });
  t.equal(await contentOf(store, await settledHour(DAY, 10)), 'ten\n');
  clock.nowMs += REFRESH_MS + 1;
  const other = await store.hours.hour(WEB_2, DAY, 10);
  await settled(store);
  t.equal(await contentOf(store, other), 'web-2 ten\n');
  t.equal(sweeps(fake).length, 1, 'the final day is not swept again');
});

t.test('a refresh sweeps the namespaces of every followed container at once', async (t) => {
  const fake = new FakeWarehouse();
  fake.insert([entry('11:05:00', 'app a'), entryOf(WORKER, '11:06:00', 'worker a')]);
  const { store, stats, clock } = await openStore(t, fake, { nowMs: at(11, 30) });
  const read = async (ref: ContainerRef) => {
    const file = await store.hours.hour(ref, DAY, 11);
    await settled(store);
    return contentOf(store, file);
  };
  t.equal(await read(REF), 'app a\n');
  t.equal(await read(WORKER), 'worker a\n');
  t.same(
    sweeps(fake).map((sweep) => sweep.scope),
    [{ namespaces: ['shop'] }, { namespaces: ['batch'] }],
    'first fetches sweep their own namespace',
  );
  store.hours.follow(REF);
  store.hours.follow(WORKER);
  store.hours.follow(WORKER);

  fake.insert([entry('11:35:00', 'app b'), entryOf(WORKER, '11:36:00', 'worker b')]);
  clock.nowMs += REFRESH_MS + 1;
  t.equal(await read(REF), 'app a\napp b\n');
  t.same(sweeps(fake)[2]?.scope, { namespaces: ['batch', 'shop'] }, 'the refresh sweeps both namespaces');
  clock.nowMs += REFRESH_MS - 2;
  t.equal(await read(WORKER), 'worker a\nworker b\n', 'the other container refreshes within the interval');
  t.equal(sweeps(fake).length, 3, 'from the same sweep');
  t.equal(stats.refreshes, 2);
  t.equal(stats.refreshBytesBilled, fake.queriesOf('sweep')[2]?.stats?.bytesBilled, 'which is billed once');

  // One of the worker's two readers lets go: it is still followed.
  store.hours.unfollow(WORKER);
  fake.insert([entry('11:40:00', 'app c')]);
  clock.nowMs += REFRESH_MS + 1;
  t.equal(await read(REF), 'app a\napp b\napp c\n');
  t.same(sweeps(fake)[3]?.scope, { namespaces: ['batch', 'shop'] });

  store.hours.unfollow(WORKER);
  fake.insert([entry('11:45:00', 'app d')]);
  clock.nowMs += REFRESH_MS + 1;
  t.equal(await read(REF), 'app a\napp b\napp c\napp d\n');
  t.same(sweeps(fake)[4]?.scope, { namespaces: ['shop'] }, 'once nobody reads the worker, only the own namespace');
  t.equal(sweeps(fake).length, 5);
});

t.test('a sweep delivers only the hours the fetch plans: a refresh does not write final hours again', async (t) => {
  const fake = new FakeWarehouse();
  fake.insert([entry('09:10:00', 'nine'), entry('11:05:00', 'a')]);
  const { store, clock, cacheDir, settledHour } = await openStore(t, fake, { nowMs: at(11, 30) });
  t.equal(await contentOf(store, await settledHour(DAY, 11)), 'a\n');
  const nine = await settledHour(DAY, 9);
  t.match(nine, { final: true, size: 5 });

  // Late for hour 9, which is final: a sweep of the whole UTC day holds it.
  fake.insert([entry('09:30:00', 'nine, late'), entry('11:20:00', 'b')]);
  clock.nowMs += REFRESH_MS + 1;
  t.equal(await contentOf(store, await settledHour(DAY, 11)), 'a\nb\n');
  t.equal(sweeps(fake).length, 2);
  t.same(sweeps(fake)[1]?.range, DAY_RANGE);
  t.equal(await settledHour(DAY, 9), nine, 'hour 9 is the same file');
  t.equal(await contentOf(store, nine), 'nine\n', 'with the same bytes');
  const onDisk = join(cacheDir, (await readdir(cacheDir))[0] ?? '', 'shop/web-1/app', DAY, '09.log');
  t.equal((await stat(onDisk)).size, 5);
  t.same(await checkedManifest(store, REF, DAY), { knownThroughMs: at(11), hours: { '9': 5 } });

  // Nor does a first fetch of the day after a restart, which starts at the first hour not final.
  const again = await openStore(t, fake, { nowMs: clock.nowMs, cacheDir });
  t.equal(await contentOf(again.store, await again.settledHour(DAY, 11)), 'a\nb\n');
  t.equal(sweeps(fake).length, 3);
  t.equal(await contentOf(again.store, await again.settledHour(DAY, 9)), 'nine\n');
  t.equal((await stat(onDisk)).size, 5);
  t.same(await checkedManifest(again.store, REF, DAY), { knownThroughMs: at(11), hours: { '9': 5 } });
});

t.test('a day of a zone east of UTC is read from the sweeps of both UTC days it spans', async (t) => {
  // 2026-11-25 in Kolkata (UTC+05:30) runs from 2026-11-24T18:30Z to 2026-11-25T18:30Z; its hour 5
  // straddles UTC midnight.
  const entries = [
    entryOn('2026-11-24', '18:29:59.999999', 'the day before'),
    entryOn('2026-11-24', '18:30:00', 'zero'),
    entryOn('2026-11-24', '23:45:00', 'five, before UTC midnight'),
    entryOn('2026-11-25', '00:10:00', 'five, after UTC midnight'),
    entryOn('2026-11-25', '00:40:00', 'six'),
    entryOf(WEB_2, '00:41:00', 'another pod'),
    entryOn('2026-11-25', '18:29:59.999999', 'twenty-three'),
    entryOn('2026-11-25', '18:30:00', 'the day after'),
  ];
  const expected = new Map([
    [0, 'zero\n'],
    [5, 'five, before UTC midnight\nfive, after UTC midnight\n'],
    [6, 'six\n'],
    [23, 'twenty-three\n'],
  ]);
  const kolkata = new TimeZoneModel('Asia/Kolkata');
  const fake = new FakeWarehouse({ pageRows: 1 });
  fake.insert(entries);
  const { store } = await openStore(t, fake, { nowMs: DAY_FINAL_MS, timeZone: 'Asia/Kolkata' });
  // Entry pages: [five, before] [five, after] [zero] | held | [six] [twenty-three]
  const gate = fake.hold({ reads: true, afterPages: 3 });
  const five = store.hours.hour(REF, DAY, 5);
  await gate.reached(1);
  t.equal(
    await contentOf(store, await soon(five, 'hour 5')),
    expected.get(5),
    'the hour asked for comes first, from both sweeps, before any other hour',
  );
  gate.open();
  await settled(store);
  t.same(
    sweeps(fake).map((sweep) => [sweep.range, sweep.timeZone]),
    [
      [{ startMs: Date.UTC(2026, 10, 24), endMs: Date.UTC(2026, 10, 25) }, 'Asia/Kolkata'],
      [{ startMs: Date.UTC(2026, 10, 25), endMs: Date.UTC(2026, 10, 26) }, 'Asia/Kolkata'],
    ],
  );
  for (const [hour, text] of expected) t.equal(await contentOf(store, await store.hours.hour(REF, DAY, hour)), text);
  t.same(await store.hours.finalHours(REF, DAY), [0, 5, 6, 23]);
  t.same(await checkedManifest(store, REF, DAY), {
    knownThroughMs: kolkata.dayRange(DAY).endMs,
    hours: Object.fromEntries([...expected].map(([hour, text]) => [String(hour), Buffer.byteLength(text)])),
  });
  t.equal(fake.queries.length, 2);

  // The same bytes as the query of the container-day alone.
  const alone = new FakeWarehouse();
  alone.insert(entries);
  const failing = new FailingWarehouse(alone, [sweepTooBig()]);
  const other = await openStore(t, failing, { nowMs: DAY_FINAL_MS, timeZone: 'Asia/Kolkata' });
  for (const [hour, text] of expected) t.equal(await contentOf(other.store, await other.settledHour(DAY, hour)), text);
  t.same(
    alone.queries.map((query) => query.spec.kind),
    ['entries'],
  );
});

t.test('the hour asked for is read first: its file is whole before the rest of the day is read', async (t) => {
  const fake = new FakeWarehouse({ pageRows: 1 });
  fake.insert([
    entry('09:05:00', 'nine'),
    entry('10:05:00', 'ten a'),
    entry('10:06:00', 'ten b'),
    entry('11:05:00', 'eleven a'),
    entry('11:06:00', 'eleven b'),
  ]);
  const { store, settledHour } = await openStore(t, fake, { nowMs: DAY_FINAL_MS });
  // Entry pages: [eleven a] [eleven b] [nine] | held | [ten a] [ten b]
  const gate = fake.hold({ reads: true, afterPages: 3 });
  const eleven = store.hours.hour(REF, DAY, 11);
  await gate.reached(1);
  t.equal(
    await contentOf(store, await soon(eleven, 'hour 11')),
    'eleven a\neleven b\n',
    'hour 11 is served while the reads are held',
  );
  let tenDone = false;
  const ten = store.hours.hour(REF, DAY, 10).then((file) => {
    tenDone = true;
    return file;
  });
  await new Promise((resolve) => setTimeout(resolve, 20));
  t.notOk(tenDone, 'hour 10 waits for the rest of the day');
  t.equal(store.hours.fetchesRunning, 1);
  gate.open();
  t.equal(await contentOf(store, await ten), 'ten a\nten b\n');
  t.equal(await contentOf(store, await settledHour(DAY, 9)), 'nine\n');
  t.equal(fake.queries.length, 1);
});

t.test('eviction: an evicted day is forgotten, and its waiters fail', async (t) => {
  const yesterday = '2026-11-24';
  const fake = new FakeWarehouse();
  fake.insert([
    entry('11:05:00', 'today live'),
    entryOn(yesterday, '10:00:00', 'yesterday, longer than the live hour'),
  ]);
  const { store, clock, cacheDir, settledHour } = await openStore(t, fake, { nowMs: at(11, 30), cacheMaxBytes: 40 });
  const root = join(cacheDir, (await readdir(cacheDir))[0] ?? '');
  const todayDir = join(root, 'shop/web-1/app', DAY);

  t.equal(await contentOf(store, await settledHour(DAY, 11)), 'today live\n');
  fake.insert([entry('11:20:00', 'today later')]);
  clock.nowMs += REFRESH_MS + 1;
  const gate = fake.hold({ match: (query) => query.spec.kind === 'sweep' && query.spec.range.startMs === at(0) });
  const waiting = [store.hours.hour(REF, DAY, 11), store.hours.hour(REF, DAY, 11)];
  await gate.reached(1);

  t.ok(await store.hours.hour(REF, yesterday, 10), 'another day fills the cache past its bound');
  for (const waiter of waiting) await t.rejects(waiter, /cache evicted shop\/web-1\/app\/2026-11-25 while fetching it/);
  await until('the evicted day to leave the disk', () =>
    stat(todayDir).then(
      () => false,
      () => true,
    ),
  );
  t.ok(store.cache.bytesUsed <= 40);

  gate.open();
  await settled(store);
  t.equal(await contentOf(store, await settledHour(DAY, 11)), 'today live\ntoday later\n', 'fetched anew');
  t.equal(
    sweeps(fake, DAY).length,
    2,
    'nothing of the evicted day was served from memory: read again from the sweep of the refresh, still fresh',
  );
});

t.test('eviction of a final day: the next access reads it again', async (t) => {
  const older = '2026-11-23';
  const fake = new FakeWarehouse();
  fake.insert([entryOn(older, '10:00:00', 'the older day'), entry('10:00:00', 'the newer day, which fills the cache')]);
  const { store, cacheDir, settledHour } = await openStore(t, fake, { nowMs: DAY_FINAL_MS, cacheMaxBytes: 50 });
  t.equal(await contentOf(store, await settledHour(older, 10)), 'the older day\n');
  await settledHour(DAY, 10);
  const olderDir = join(cacheDir, (await readdir(cacheDir))[0] ?? '', 'shop/web-1/app', older);
  await until('the evicted day to leave the disk', () =>
    stat(olderDir).then(
      () => false,
      () => true,
    ),
  );
  t.equal(await contentOf(store, await settledHour(older, 10)), 'the older day\n', 'read again');
  t.equal(sweeps(fake, older).length, 1, 'from the result of the sweep that read it before');
  t.equal(fake.queries.length, 2);
});

/** What `promise` resolves to, or a failure after a while: for what must happen while something is held. */
function soon<T>(promise: Promise<T>, what: string): Promise<T> {
  return withDeadline(promise, 2_000, () => new Error(`timed out waiting for ${what}`));
}
