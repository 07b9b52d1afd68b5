// What the mount shows, without FUSE: the LogTree over the real store and listings, on the fake
// warehouse and a clock the tests move. Sizes, contents, links, errors, the statistics file, and
// how live hours grow, seal and fail. Hour files are read from sweeps (one query per namespace and
// UTC day), or from a query of the container-day alone when a sweep is too big.
import { fstatSync, readSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import t, { type Test } from 'tap';
import { withDeadline } from '../src/model/deadline.js';
import type { SweepSpec } from '../src/bigquery/log-queries.js';
import { FsError } from '../src/fs/fs-error.js';
import { LogTree } from '../src/fs/log-tree.js';
import type { ContainerRef } from '../src/model/log-path.js';
import { FailingWarehouse, type FailureStep } from './support/failing-warehouse.js';
import { FakeWarehouse, micros, type FakeEntry, type JsonObject } from './support/fake-warehouse.js';
import {
  openTreeStack,
  REFRESH_MS,
  START_MS,
  TODAY,
  YESTERDAY,
  type Stack,
  type StackOptions,
} from './support/tree-stack.js';

const MIB = 1_048_576;

const app: ContainerRef = { namespace: 'shop', pod: 'web-1', container: 'app' };
const worker: ContainerRef = { namespace: 'batch', pod: 'report-1', container: 'worker' };
const APP_DIR = '/shop/web-1/app';

let nextId = 0;
function text(ref: ContainerRef, time: string, line: string, stream: 'stdout' | 'stderr' = 'stdout'): FakeEntry {
  return {
    ...ref,
    stream,
    timestamp: micros(time),
    insertId: `id-${String(nextId++).padStart(4, '0')}`,
    textPayload: line,
  };
}

function json(ref: ContainerRef, time: string, payload: JsonObject): FakeEntry {
  return { ...text(ref, time, ''), textPayload: undefined, jsonPayload: payload };
}

/** Yesterday's hour 10 of the app, and the bytes its file must hold. */
const HOUR_10 = [
  text(app, `${YESTERDAY}T10:00:00.000000Z`, 'first entry of the hour'),
  json(app, `${YESTERDAY}T10:15:00.000000Z`, { message: 'structured', count: 2, detail: { ok: true, why: null } }),
  text(app, `${YESTERDAY}T10:20:00.000000Z`, 'on stderr', 'stderr'),
  text(app, `${YESTERDAY}T10:30:00.000000Z`, 'héllo — 日本語 🎉'),
  text(app, `${YESTERDAY}T10:45:00.000000Z`, 'one trailing newline is dropped\n'),
  text(app, `${YESTERDAY}T10:59:59.999999Z`, 'last entry of the hour'),
];
const HOUR_10_TEXT = [
  'first entry of the hour',
  '{"message":"structured","count":2,"detail":{"ok":true}}',
  'on stderr',
  'héllo — 日本語 🎉',
  'one trailing newline is dropped',
  'last entry of the hour',
]
  .map((line) => `${line}\n`)
  .join('');

function knownEntries(): FakeEntry[] {
  return [
    ...HOUR_10,
    text(app, `${YESTERDAY}T11:00:00.000000Z`, 'next hour'),
    text(app, `${TODAY}T12:05:00Z`, 'live one'),
    text(app, `${TODAY}T12:10:00Z`, 'live two'),
    text(worker, `${TODAY}T01:00:00Z`, 'report done'),
  ];
}

/** The tree over a fake holding the known entries. */
function openStack(t: Test, options: Omit<StackOptions, 'entries'> = {}): Promise<Stack> {
  return openTreeStack(t, { entries: knownEntries(), ...options });
}

/** Sweeps the fake ran, in order. */
function sweeps(fake: FakeWarehouse): SweepSpec[] {
  return fake.queriesOf('sweep').flatMap((query) => (query.spec.kind === 'sweep' ? [query.spec] : []));
}

/** The whole UTC day, as a sweep reads it. */
function utcDay(day: string): { startMs: number; endMs: number } {
  const startMs = Date.parse(`${day}T00:00:00Z`);
  return { startMs, endMs: startMs + 86_400_000 };
}

/** Sweeps fail as too big for BigQuery, so each container-day is read alone. */
const SWEEP_TOO_BIG: FailureStep = {
  at: 'start',
  reason: 'responseTooLarge',
  times: 100,
  match: (query) => query.spec.kind === 'sweep',
};

async function errno(work: Promise<unknown>): Promise<string> {
  try {
    await work;
    return 'no error';
  } catch (error) {
    return error instanceof FsError ? error.errno : String(error);
  }
}

/** Reads an open file from `position` to its end, `chunk` bytes at a time, as the kernel would. */
async function readAll(tree: LogTree, handle: number, chunk = 7, position = 0): Promise<Buffer> {
  const parts: Buffer[] = [];
  for (let offset = position; ;) {
    const read = await tree.read(handle, chunk, offset);
    const copy = Buffer.from(read.data);
    read.done();
    if (copy.length === 0) return Buffer.concat(parts);
    parts.push(copy);
    offset += copy.length;
  }
}

async function contentOf(tree: LogTree, path: string): Promise<string> {
  const handle = await tree.open(path, false);
  try {
    return (await readAll(tree, handle)).toString();
  } finally {
    await tree.release(handle);
  }
}

t.test('readdir lists every level', async (t) => {
  const { tree, fake } = await openStack(t);
  t.same(await tree.readdir('/'), ['batch', 'shop']);
  t.same(await tree.readdir('/shop'), ['web-1']);
  t.same(await tree.readdir('/shop/web-1'), ['app']);
  t.same(await tree.readdir(APP_DIR), [YESTERDAY, TODAY, 'current.log']);
  t.same(await tree.readdir(`${APP_DIR}/${YESTERDAY}`), ['10.log', '11.log']);
  t.same(await tree.readdir(`${APP_DIR}/${TODAY}`), ['12.log']);
  t.same(await tree.readdir('/.bqlogfs'), ['stats']);
  t.equal(await errno(tree.readdir(`${APP_DIR}/${YESTERDAY}/10.log`)), 'ENOTDIR');
  t.equal(await errno(tree.readdir(`${APP_DIR}/current.log`)), 'ENOTDIR');
  t.same(
    fake.queries.map((query) => query.spec.kind),
    ['listing'],
  );
});

t.test('an hour file holds one line per entry, and getattr gives its exact size', async (t) => {
  const { tree, fake } = await openStack(t);
  const path = `${APP_DIR}/${YESTERDAY}/10.log`;
  const attributes = await tree.getattr(path);
  t.equal(attributes.type, 'file');
  t.equal(attributes.mtimeMs, Date.parse(`${YESTERDAY}T11:00:00Z`), 'a finished hour is as old as its end');
  const content = await contentOf(tree, path);
  t.equal(content, HOUR_10_TEXT);
  t.equal(attributes.size, Buffer.byteLength(content));
  t.equal((await tree.getattr(`${APP_DIR}/${YESTERDAY}/11.log`)).size, Buffer.byteLength('next hour\n'));
  t.same(
    sweeps(fake),
    [{ kind: 'sweep', scope: { namespaces: ['shop'] }, range: utcDay(YESTERDAY), timeZone: 'UTC', fullEntries: false }],
    'one sweep fetched the whole day',
  );
  const queries = fake.queries.length;
  t.equal(await errno(tree.getattr(`${APP_DIR}/${YESTERDAY}/12.log`)), 'ENOENT', 'an hour without entries');
  t.equal(fake.queries.length, queries, 'costs no query');
  t.same(fake.queriesOf('entries'), []);
});

t.test('a final hour’s reads are handed over with its descriptor, and taken back before it closes', async (t) => {
  const { tree, stats, settled } = await openStack(t);
  const path = `${APP_DIR}/${YESTERDAY}/10.log`;
  const events: string[] = [];
  const descriptors = new Map<number, number>();
  tree.serveReadsDirectly({
    start: (handle, size, descriptor) => {
      const held = Buffer.alloc(size);
      readSync(descriptor.fd, held, 0, size, 0);
      descriptors.set(handle, descriptor.fd);
      events.push(`start ${handle}: ${size} bytes, ${held.toString() === HOUR_10_TEXT ? 'the hour' : 'others'}`);
      return true;
    },
    end: (handle) => {
      const open = fstatSync(descriptors.get(handle) ?? -1).isFile();
      events.push(`end ${handle}: ${open ? 'still open' : 'closed'}`);
    },
    counts: () => ({ reads: 2, bytes: 20 }),
  });
  t.equal(await contentOf(tree, path), HOUR_10_TEXT, 'a cold read, by the tree');
  await settled();
  events.length = 0;

  const final = await tree.open(path, false);
  const live = await tree.open(`${APP_DIR}/${TODAY}/12.log`, false);
  t.same(events, [`start ${final}: ${Buffer.byteLength(HOUR_10_TEXT)} bytes, the hour`], 'not the live hour’s');
  await tree.release(live);
  await tree.release(final);
  t.same(events.slice(1), [`end ${final}: still open`], 'taken back at release, before the descriptor closes');
  const counted = stats.toJSON();
  t.equal(counted.directReads, 2, 'the reads served so are in the statistics');
  t.equal(counted.reads, stats.reads);
  t.ok(stats.reads >= 2 + 1, 'with the tree’s own');
});

/** Inserts entries of yesterday's hour 14 of the app, spread over the hour; the bytes of its file. */
function insertHour14(fake: FakeWarehouse, payloads: string[]): Buffer {
  const minute = (n: number) => String(Math.floor((n * 60) / payloads.length)).padStart(2, '0');
  fake.insert(
    payloads.map((line, n) => text(app, `${YESTERDAY}T14:${minute(n)}:00.${String(n).padStart(6, '0')}Z`, line)),
  );
  return Buffer.from(payloads.map((line) => `${line.replace(/\n$/, '')}\n`).join(''));
}

/** Whether `promise` settles within 100 ms. */
async function settlesSoon(promise: Promise<unknown>): Promise<boolean> {
  let settled = false;
  void promise.then(
    () => (settled = true),
    () => (settled = true),
  );
  await sleep(100);
  return settled;
}

t.test('a cold hour of plain text has its size, and its end, before its file is written', async (t) => {
  const { tree, fake, stats, settled } = await openStack(t);
  const payloads = Array.from({ length: 400 }, (_, n) =>
    n % 50 === 7
      ? ['', 'ends in a newline\n', 'café \\x41 🎉', 'two\nlines'][n % 4]!
      : `line ${n} ${'z'.repeat(3_000 + n)}`,
  );
  const expected = insertHour14(fake, payloads);
  t.ok(expected.length > 1.1 * 2 ** 20, 'more than the end read early');
  // The first page of entries read from the kept result waits: the hour cannot be written.
  const gate = fake.hold({ reads: true });
  const path = `${APP_DIR}/${YESTERDAY}/14.log`;
  const attributes = await soon(tree.getattr(path), 'the size, before the file');
  t.equal(attributes.size, expected.length, 'the exact size, from the sweep’s index');
  t.equal(attributes.mtimeMs, Date.parse(`${YESTERDAY}T15:00:00Z`), 'the final file’s mtime');
  const handle = await soon(tree.open(path, false), 'open');
  const end = await soon(tree.read(handle, 4096, expected.length - 3000), 'a read near the end');
  t.same(end.data, expected.subarray(-3000), 'the last bytes, from the last entries');
  end.done();
  t.equal(stats.earlyReads, 1);
  const start = tree.read(handle, 100, 0);
  t.notOk(await settlesSoon(start), 'a read from the start waits for the file');
  gate.open();
  const first = await soon(start, 'the start, once written');
  t.same(first.data, expected.subarray(0, 100));
  first.done();
  t.same(await readAll(tree, handle, 4096), expected, 'the whole file');
  await tree.release(handle);
  await settled();
  t.equal((await tree.getattr(path)).size, expected.length);
});

t.test('a cold hour of plain text is read as far as it is written, before the rest', async (t) => {
  const { tree, fake, stats, settled } = await openStack(t, { pageRows: 40 });
  const payloads = Array.from({ length: 800 }, (_, n) => `line ${n} ${'w'.repeat(3_000 + n)}`);
  const expected = insertHour14(fake, payloads);
  // Three pages of 40 entries of the hour are written, then the read stops.
  const gate = fake.hold({ reads: true, afterPages: 3 });
  const path = `${APP_DIR}/${YESTERDAY}/14.log`;
  const handle = await soon(tree.open(path, false), 'open');
  await soon(gate.reached(), 'three pages written');
  const start = await soon(tree.read(handle, 8192, 100), 'a read of what is written');
  t.same(start.data, expected.subarray(100, 8292), 'the bytes written so far');
  start.done();
  t.equal(stats.earlyReads, 1);
  const middle = tree.read(handle, 8192, 700_000);
  t.notOk(await settlesSoon(middle), 'a read past what is written, far from the end, waits');
  gate.open();
  const later = await soon(middle, 'the middle, once written');
  t.same(later.data, expected.subarray(700_000, 708_192));
  later.done();
  t.same(await readAll(tree, handle, 65_536), expected, 'the whole file');
  await tree.release(handle);
  await settled();
});

t.test('reads of any range', async (t) => {
  const { tree } = await openStack(t);
  const whole = Buffer.from(HOUR_10_TEXT);
  const handle = await tree.open(`${APP_DIR}/${YESTERDAY}/10.log`, false);
  t.teardown(() => tree.release(handle));
  const ranges: [number, number][] = [
    [0, 5],
    [0, whole.length],
    [0, 128 * 1024],
    [whole.length - 3, 10],
    [whole.length, 10],
    [whole.length + 100, 10],
    [10, 0],
    // Inside a multi-byte character: bytes, not characters.
    [whole.indexOf('日') + 1, 4],
  ];
  for (const [position, length] of ranges) {
    const read = await tree.read(handle, length, position);
    t.same(Buffer.from(read.data), whole.subarray(position, position + length), `${length} bytes at ${position}`);
    read.done();
  }
  t.same(await readAll(tree, handle, 1), whole, 'byte by byte');
  t.same(await readAll(tree, handle, 4096, 17), whole.subarray(17), 'from the middle on');
});

t.test('current.log links to the hour filling now, in the mount’s time zone', async (t) => {
  const { tree, advance } = await openStack(t);
  const link = `${APP_DIR}/current.log`;
  t.equal(await tree.readlink(link), `${TODAY}/12.log`);
  t.same(await tree.getattr(link), { type: 'symlink', size: `${TODAY}/12.log`.length, mtimeMs: START_MS });
  advance(30 * 60_000);
  t.equal(await tree.readlink(link), `${TODAY}/13.log`, 'moves on with the clock');
  advance(11 * 3_600_000);
  t.equal(await tree.readlink(link), '2026-03-11/00.log');
  t.equal(await errno(tree.readlink(`${APP_DIR}/${TODAY}/12.log`)), 'EINVAL');
  t.equal(await errno(tree.readlink(APP_DIR)), 'EINVAL');

  const kolkata = await openStack(t, { timeZone: 'Asia/Kolkata' });
  t.equal(await kolkata.tree.readlink(link), `${TODAY}/18.log`, '12:30 UTC is 18:00 in Kolkata');
});

t.test('nothing opens for writing, and directories do not open', async (t) => {
  const { tree, fake } = await openStack(t);
  for (const path of [`${APP_DIR}/${YESTERDAY}/10.log`, '/.bqlogfs/stats', `${APP_DIR}/${TODAY}/23.log`, '/nope']) {
    const error = await tree.open(path, true).catch((caught: unknown) => caught);
    t.type(error, FsError);
    t.equal((error as FsError).errno, 'EROFS', path);
  }
  t.equal(fake.queries.length, 0, 'refused before anything is looked up');
  t.equal(await errno(tree.open(APP_DIR, false)), 'EISDIR');
  t.equal(await errno(tree.open(`${APP_DIR}/${TODAY}`, false)), 'EISDIR');
  t.equal(await errno(tree.open(`${APP_DIR}/${TODAY}/03.log`, false)), 'ENOENT');
  t.equal(await errno(tree.read(999, 10, 0)), 'EBADF');
});

t.test('directories are as old as their latest entry, once a listing knows it', async (t) => {
  const { tree, fake, advance } = await openStack(t);
  for (const path of ['/', '/shop', '/shop/web-1', APP_DIR, '/.bqlogfs']) {
    t.same(await tree.getattr(path), { type: 'directory', size: 4096, mtimeMs: START_MS }, `${path}: the mount's time`);
  }
  t.equal(fake.queries.length, 0, 'and no query asks for it');
  advance(60_000);
  await tree.readdir('/');
  const appLatest = Date.parse(`${TODAY}T12:10:00Z`);
  const expected: [string, number][] = [
    ['/', START_MS],
    ['/.bqlogfs', START_MS],
    // The app's latest entry, in hour 12, which was still filling when the listing ran.
    ['/shop', appLatest],
    ['/shop/web-1', appLatest],
    [APP_DIR, appLatest],
    [`${APP_DIR}/${TODAY}`, appLatest],
    [`${APP_DIR}/${YESTERDAY}`, Date.parse(`${YESTERDAY}T11:00:00Z`)],
    ['/batch', Date.parse(`${TODAY}T01:00:00Z`)],
    ['/batch/report-1/worker', Date.parse(`${TODAY}T01:00:00Z`)],
  ];
  for (const [path, mtimeMs] of expected) {
    t.same(
      await tree.getattr(path),
      { type: 'directory', size: 4096, mtimeMs },
      `${path}: ${new Date(mtimeMs).toISOString()}`,
    );
  }
  t.equal(fake.queriesOf('listing').length, 1, 'one listing answered all');

  fake.insert([text(worker, `${TODAY}T12:20:00.250000Z`, 'worker again')]);
  advance(31_000);
  await tree.readdir('/');
  const workerLatest = Date.parse(`${TODAY}T12:20:00.250Z`);
  t.equal((await tree.getattr('/batch/report-1/worker')).mtimeMs, workerLatest, 'listed again: the new latest entry');
  t.equal((await tree.getattr('/batch')).mtimeMs, workerLatest);
  // An entry stamped after the clock (a node's clock ahead): no later than the listing that found it.
  fake.insert([text(app, `${TODAY}T13:05:00Z`, 'from a clock ahead')]);
  advance(31_000);
  await tree.readdir('/');
  t.equal((await tree.getattr(APP_DIR)).mtimeMs, START_MS + 122_000, 'never in the future');
  t.equal(fake.queriesOf('listing').length, 3);
});

t.test('.bqlogfs/stats holds the statistics as JSON, steady while it is read', async (t) => {
  const { tree, fake, stats } = await openStack(t);
  await contentOf(tree, `${APP_DIR}/${YESTERDAY}/10.log`);
  const attributes = await tree.getattr('/.bqlogfs/stats');
  t.equal(attributes.type, 'file');
  const handle = await tree.open('/.bqlogfs/stats', false);
  const snapshot = await readAll(tree, handle, 100);
  t.equal(snapshot.length, attributes.size, 'the size getattr gave');
  const figures = JSON.parse(snapshot.toString()) as Record<string, unknown>;
  t.match(figures, { queries: fake.queries.length, failedQueries: 0, cacheMisses: 1, bytesBilled: fake.bytesBilled });
  t.equal(figures.bytesServed, Buffer.byteLength(HOUR_10_TEXT));
  t.equal((figures.recentQueries as unknown[]).length, 1);

  // Reading changes the figures, but not the copy being read.
  await contentOf(tree, `${APP_DIR}/${YESTERDAY}/11.log`);
  t.equal((await tree.getattr('/.bqlogfs/stats')).size, snapshot.length);
  t.same(await readAll(tree, handle, 100), snapshot);
  await tree.release(handle);
  await tree.getattr('/.bqlogfs/stats');
  const served = stats.bytesServed;
  const fresh = JSON.parse(await contentOf(tree, '/.bqlogfs/stats')) as Record<string, number>;
  t.equal(fresh.bytesServed, served, 'a new copy once nobody reads the old one');
});

t.test('the hour filling now grows while a reader has it open, then is sealed', async (t) => {
  const { tree, fake, stats, advance, setClock, settled } = await openStack(t);
  const path = `${APP_DIR}/${TODAY}/12.log`;
  const lines = (...texts: string[]) => texts.map((line) => `${line}\n`).join('');
  const first = await tree.getattr(path);
  await settled();
  t.equal(first.size, Buffer.byteLength(lines('live one', 'live two')));
  t.equal(first.mtimeMs, START_MS, 'a live hour is as old as its snapshot');

  fake.insert([text(app, `${TODAY}T12:20:00Z`, 'live three')]);
  advance(REFRESH_MS + 1);
  t.equal((await tree.getattr(path)).size, first.size, 'without a reader the snapshot stays');
  t.equal(sweeps(fake).length, 1);

  const handle = await tree.open(path, false);
  t.teardown(() => tree.release(handle));
  await settled();
  t.equal(sweeps(fake).length, 2, 'opening fetches it again');
  t.equal((await readAll(tree, handle)).toString(), lines('live one', 'live two', 'live three'));
  fake.insert([text(app, `${TODAY}T12:29:59Z`, 'live four, arrived late')]);
  advance(1_000);
  t.equal((await tree.getattr(path)).size, Buffer.byteLength(lines('live one', 'live two', 'live three')));
  t.equal(sweeps(fake).length, 2, 'not again within the refresh interval');

  advance(REFRESH_MS);
  const grown = await tree.getattr(path);
  await settled();
  const all = lines('live one', 'live two', 'live three', 'live four, arrived late');
  t.equal(sweeps(fake).length, 3, 'an open file is refreshed by getattr');
  t.equal(grown.size, Buffer.byteLength(all));
  t.equal((await readAll(tree, handle)).toString(), all);
  t.same(sweeps(fake)[2]?.range, utcDay(TODAY), 'a refresh sweeps the UTC day again');
  t.equal(stats.refreshes, 2);

  // Hour 12 ended more than the seal period ago.
  setClock(`${TODAY}T13:06:00Z`);
  const sealed = await tree.getattr(path);
  await settled();
  t.equal(sealed.mtimeMs, Date.parse(`${TODAY}T13:00:00Z`), 'sealed: as old as the hour’s end');
  t.equal(sealed.size, grown.size);
  t.equal((await readAll(tree, handle)).toString(), all);
  t.equal(sweeps(fake).length, 4, 'sealing read it once more');
  advance(3_600_000);
  t.equal((await tree.getattr(path)).size, sealed.size);
  t.equal(sweeps(fake).length, 4, 'a sealed hour is never fetched again');
  t.same(fake.queriesOf('entries'), []);
});

t.test('the refresh budget stops live hours from growing', async (t) => {
  // Only the stdout table has entries today, so a refresh of today bills the fake's 10 MiB minimum.
  const { tree, fake, stats, advance, settled } = await openStack(t, { refreshBudgetBytes: 15 * MIB });
  const path = `${APP_DIR}/${TODAY}/12.log`;
  const handle = await tree.open(path, false);
  t.teardown(() => tree.release(handle));
  const sizes = [(await tree.getattr(path)).size];
  for (const minute of [13, 14, 15]) {
    await settled();
    fake.insert([text(app, `${TODAY}T12:${minute}:00Z`, `minute ${minute}`)]);
    advance(REFRESH_MS + 1);
    sizes.push((await tree.getattr(path)).size);
  }
  t.equal(sweeps(fake).length, 2, 'the first fetch, then one refresh within the budget');
  t.equal(stats.refreshBytesBilled, 10 * MIB);
  t.equal(stats.refreshesSkipped, 2);
  t.ok((sizes[1] ?? 0) > (sizes[0] ?? 0), 'the refresh grew the file');
  t.same(sizes.slice(2), [sizes[1], sizes[1]], 'the skipped ones did not');
});

t.test('readers of hours of one day share one sweep', async (t) => {
  const { tree, fake } = await openStack(t);
  const gate = fake.hold({ match: (query) => query.spec.kind === 'sweep' });
  const sizes = Promise.all([
    tree.getattr(`${APP_DIR}/${YESTERDAY}/10.log`),
    tree.getattr(`${APP_DIR}/${YESTERDAY}/11.log`),
    tree.getattr(`${APP_DIR}/${YESTERDAY}/10.log`),
  ]);
  await gate.reached();
  t.equal(sweeps(fake).length, 1);
  gate.open();
  t.same(
    (await sizes).map((attributes) => attributes.size),
    [HOUR_10_TEXT, 'next hour\n', HOUR_10_TEXT].map((content) => Buffer.byteLength(content)),
  );
  t.equal(sweeps(fake).length, 1);
  t.same(fake.queriesOf('entries'), []);
});

t.test('the requested hour is served before the rest of the day has arrived', async (t) => {
  const { tree, fake, fetchesRunning } = await openStack(t, { pageRows: 1 });
  // Hour 11 is read from the sweep first; the gate stops the reads after it and one entry of hour 10.
  const gate = fake.hold({ reads: true, afterPages: 2 });
  const eleven = contentOf(tree, `${APP_DIR}/${YESTERDAY}/11.log`);
  await gate.reached(1);
  t.equal(await soon(eleven, 'hour 11'), 'next hour\n');
  t.equal(gate.arrived, 1);
  t.equal(fetchesRunning(), 1, 'the rest of the day is still being read');
  gate.open();
  t.equal(await contentOf(tree, `${APP_DIR}/${YESTERDAY}/10.log`), HOUR_10_TEXT);
  t.equal(sweeps(fake).length, 1);
});

t.test(
  'a sweep too big is read alone; a query that fails after some pages runs again; the files are whole',
  async (t) => {
    let failing: FailingWarehouse | undefined;
    const { tree, fake } = await openStack(t, {
      pageRows: 2,
      wrap: (inner) =>
        (failing = new FailingWarehouse(inner, [
          SWEEP_TOO_BIG,
          { at: 'page', afterPages: 2, reason: 'backendError', match: (query) => query.spec.kind === 'entries' },
        ])),
    });
    t.equal(await contentOf(tree, `${APP_DIR}/${YESTERDAY}/10.log`), HOUR_10_TEXT);
    t.equal(await contentOf(tree, `${APP_DIR}/${YESTERDAY}/11.log`), 'next hour\n');
    t.same(failing?.injected, [
      {
        at: 'start',
        reason: 'responseTooLarge',
        subject: `shop/*/*/${YESTERDAY}T00:00:00.000Z/${TODAY}T00:00:00.000Z`,
      },
      { at: 'page', reason: 'backendError', subject: `shop/web-1/app/${YESTERDAY}` },
    ]);
    t.same(sweeps(fake), [], 'the sweep never reached the warehouse');
    t.equal(fake.queriesOf('entries').length, 2, 'the failed run of the day alone and the one after it');
  },
);

t.test('a query that fails is an error for its readers, and is tried again by the next', async (t) => {
  const { tree, fake, stats } = await openStack(t, {
    wrap: (inner) =>
      new FailingWarehouse(inner, [
        { at: 'start', reason: 'accessDenied', match: (query) => query.spec.kind === 'sweep' },
        { ...SWEEP_TOO_BIG, times: 1 },
        {
          at: 'page',
          afterPages: 0,
          reason: 'backendError',
          times: 3,
          match: (query) => query.spec.kind === 'entries',
        },
      ]),
  });
  const path = `${APP_DIR}/${YESTERDAY}/10.log`;
  t.match(await tree.getattr(path).catch((error: unknown) => error), { reason: 'accessDenied' }, 'the sweep failed');
  t.match(
    await tree.open(path, false).catch((error: unknown) => error),
    { reason: 'backendError', message: /^gave up after 3 attempts/ },
    'the next sweep was too big, and the day read alone failed',
  );
  t.equal(stats.failedQueries, 3);
  t.equal(await contentOf(tree, path), HOUR_10_TEXT);
  t.equal(fake.queriesOf('entries').length, 3, 'three failed runs of the day alone reached the warehouse');
  t.equal(sweeps(fake).length, 1, 'then a sweep that worked');
});

t.test('open hours of containers in two namespaces are refreshed by one sweep', async (t) => {
  const { tree, fake, stats, advance, settled } = await openStack(t);
  fake.insert([text(worker, `${TODAY}T12:15:00Z`, 'worker live')]);
  const appPath = `${APP_DIR}/${TODAY}/12.log`;
  const workerPath = `/batch/report-1/worker/${TODAY}/12.log`;
  const appHandle = await tree.open(appPath, false);
  t.teardown(() => tree.release(appHandle));
  const workerHandle = await tree.open(workerPath, false);
  await settled();
  t.same(
    sweeps(fake).map((sweep) => sweep.scope),
    [{ namespaces: ['shop'] }, { namespaces: ['batch'] }],
    'each first read sweeps its own namespace',
  );

  fake.insert([text(app, `${TODAY}T12:20:00Z`, 'app later'), text(worker, `${TODAY}T12:21:00Z`, 'worker later')]);
  advance(REFRESH_MS + 1);
  await tree.getattr(appPath);
  await settled();
  t.same(sweeps(fake)[2]?.scope, { namespaces: ['batch', 'shop'] }, 'a refresh sweeps every open container’s');
  await tree.getattr(workerPath);
  await settled();
  t.equal(sweeps(fake).length, 3, 'the other open hour is refreshed from the same sweep');
  t.equal(stats.refreshes, 2);
  t.equal((await readAll(tree, appHandle)).toString(), 'live one\nlive two\napp later\n');
  t.equal((await readAll(tree, workerHandle)).toString(), 'worker live\nworker later\n');

  await tree.release(workerHandle);
  fake.insert([text(app, `${TODAY}T12:22:00Z`, 'app last')]);
  advance(REFRESH_MS + 1);
  await tree.getattr(appPath);
  await settled();
  t.same(sweeps(fake)[3]?.scope, { namespaces: ['shop'] }, 'once the other is released, only its own namespace');
  t.equal((await readAll(tree, appHandle)).toString(), 'live one\nlive two\napp later\napp last\n');
});

t.test('entries of one time are all kept, whatever their insert ids', async (t) => {
  const { tree, fake } = await openStack(t);
  const time = `${YESTERDAY}T15:00:00Z`;
  // BigQuery sorts NULL first and strings by UTF-8 bytes: null, U+FF5E, then U+1F600.
  fake.insert([
    { ...text(app, time, 'emoji id'), insertId: '\u{1F600}' },
    { ...text(app, time, 'fullwidth tilde id'), insertId: '\uFF5E' },
    { ...text(app, time, 'no insert id'), insertId: null },
  ]);
  t.equal(await contentOf(tree, `${APP_DIR}/${YESTERDAY}/15.log`), 'no insert id\nfullwidth tilde id\nemoji id\n');
});

t.test('entries of one time and stream without insert ids are all kept', async (t) => {
  const { tree, fake } = await openStack(t);
  const time = `${YESTERDAY}T16:00:00Z`;
  fake.insert([
    { ...text(app, time, 'second, by its text'), insertId: null },
    { ...text(app, time, 'first, by its text'), insertId: null },
    { ...text(app, time, 'first, by its text'), insertId: null },
  ]);
  const lines = (await contentOf(tree, `${APP_DIR}/${YESTERDAY}/16.log`)).split('\n').slice(0, -1).sort();
  t.same(lines, ['first, by its text', 'first, by its text', 'second, by its text'], 'none is dropped');
});

/** What `promise` resolves to, or a failure after a while: for what must happen while something is held. */
function soon<T>(promise: Promise<T>, what: string): Promise<T> {
  return withDeadline(promise, 2_000, () => new Error(`timed out waiting for ${what}`));
}
