// Directory listings over the fake warehouse, in process and on a clock the tests move: which
// queries each listing costs, what they show, and which paths are answered without any query.
// Also the refresh budget on its own.
import { setTimeout as sleep } from 'node:timers/promises';
import t, { type Test } from 'tap';
import { FsError } from '../src/fs/fs-error.js';
import type { ContainerRef } from '../src/model/log-path.js';
import { TimeZoneModel } from '../src/model/time-model.js';
import { RefreshBudget } from '../src/store/refresh-budget.js';
import { FailingWarehouse } from './support/failing-warehouse.js';
import { FakeWarehouse, micros, type FakeEntry } from './support/fake-warehouse.js';
import {
  LISTING_TTL_MS,
  openTreeStack,
  SEAL_AFTER_MS,
  TODAY,
  YESTERDAY,
  type Stack,
  type StackOptions,
} from './support/tree-stack.js';

const MINUTE_MS = 60_000;
const HOUR_MS = 60 * MINUTE_MS;

const WEEK_START = '2026-03-03';
/** Outside the seven-day window. */
const OLD_DAY = '2026-02-01';

const app: ContainerRef = { namespace: 'shop', pod: 'web-1', container: 'app' };
const nginx: ContainerRef = { namespace: 'shop', pod: 'web-1', container: 'nginx' };
const worker: ContainerRef = { namespace: 'batch', pod: 'report-1', container: 'worker' };

let nextId = 0;
function at(ref: ContainerRef, time: string, stream: 'stdout' | 'stderr' = 'stdout'): FakeEntry {
  return {
    ...ref,
    stream,
    timestamp: micros(time),
    insertId: `id-${nextId++}`,
    textPayload: `${ref.container} ${time}`,
  };
}

function knownEntries(): FakeEntry[] {
  return [
    at(app, `${TODAY}T09:15:00Z`),
    at(app, `${TODAY}T12:10:00Z`, 'stderr'),
    at(app, `${YESTERDAY}T00:00:00Z`),
    at(app, `${YESTERDAY}T23:59:59.999999Z`),
    at(app, `${WEEK_START}T05:00:00Z`),
    at(app, `${OLD_DAY}T03:00:00Z`),
    at(app, `${OLD_DAY}T21:00:00Z`),
    at(nginx, `${YESTERDAY}T18:30:00Z`),
    at(worker, `${TODAY}T01:00:00Z`),
    // Names Kubernetes would not give: left out of listings.
    at({ namespace: 'Bad_NS', pod: 'web-1', container: 'app' }, `${TODAY}T01:00:00Z`),
    at({ namespace: 'shop', pod: 'UPPER', container: 'app' }, `${TODAY}T01:00:00Z`),
  ];
}

/** The store, the listings and the tree, wired as a mount wires them, over a fake with the known entries. */
function openStack(t: Test, options: Omit<StackOptions, 'entries'> = {}): Promise<Stack> {
  return openTreeStack(t, { entries: knownEntries(), ...options });
}

function kinds(fake: FakeWarehouse): string[] {
  return fake.queries.map((query) => query.spec.kind);
}

t.test('one query over the window lists everything in it, down to the hours', async (t) => {
  const { fake, listings } = await openStack(t);
  t.same(await listings.namespaces(), ['batch', 'shop']);
  t.same(await listings.pods('shop'), ['web-1']);
  t.same(await listings.containers('shop', 'web-1'), ['app', 'nginx']);
  t.same(await listings.days(app), [WEEK_START, YESTERDAY, TODAY]);
  t.same(await listings.hoursOf(app, YESTERDAY), [0, 23]);
  t.same(await listings.hoursOf(app, TODAY), [9, 12]);
  t.same(await listings.days(worker), [TODAY]);
  t.same(await listings.pods('nope'), []);
  t.same(await listings.days({ ...app, container: 'nope' }), []);
  t.same(kinds(fake), ['listing']);
  const window = fake.queries[0]?.spec.kind === 'listing' ? fake.queries[0].spec.window : undefined;
  t.same(window, { startMs: Date.parse(`${WEEK_START}T00:00:00Z`), endMs: Date.parse('2026-03-11T00:00:00Z') });
});

t.test('a listing is reused for its time to live; then only the days that can change are asked again', async (t) => {
  const { fake, listings, advance } = await openStack(t);
  await listings.namespaces();
  advance(LISTING_TTL_MS - 1);
  await listings.days(app);
  t.equal(fake.queries.length, 1, 'reused within its time to live');

  // A late entry of a final day, and a new container today.
  fake.insert([at(app, `${YESTERDAY}T12:00:00Z`), at({ ...app, container: 'sidecar' }, `${TODAY}T12:20:00Z`)]);
  advance(2);
  t.same(await listings.containers('shop', 'web-1'), ['app', 'nginx', 'sidecar']);
  t.same(await listings.days(app), [WEEK_START, YESTERDAY, TODAY], 'final days kept from the first listing');
  t.same(await listings.hoursOf(app, YESTERDAY), [0, 23], 'a final day is not asked again');
  t.same(kinds(fake), ['listing', 'listing']);
  const second = fake.queries[1]?.spec;
  t.equal(second?.kind === 'listing' && second.window.startMs, Date.parse(`${TODAY}T00:00:00Z`), 'only today');
});

t.test('yesterday is asked again until it is final', async (t) => {
  // Two minutes into today: yesterday ended less than the seal period ago.
  const { fake, listings, advance } = await openStack(t, { startMs: Date.parse(`${TODAY}T00:02:00Z`) });
  await listings.namespaces();
  advance(LISTING_TTL_MS);
  await listings.namespaces();
  advance(SEAL_AFTER_MS);
  await listings.namespaces();
  advance(LISTING_TTL_MS);
  await listings.namespaces();
  const starts = fake.queries.map((query) => query.spec.kind === 'listing' && new Date(query.spec.window.startMs));
  t.same(starts, [
    new Date('2026-03-03T00:00:00Z'),
    new Date(`${YESTERDAY}T00:00:00Z`),
    new Date(`${YESTERDAY}T00:00:00Z`),
    new Date(`${TODAY}T00:00:00Z`),
  ]);
});

t.test('a day outside the window is listed by a query over that day alone, once when final', async (t) => {
  const { fake, listings, advance } = await openStack(t);
  t.same(await listings.hoursOf(app, OLD_DAY), [3, 21]);
  t.same(kinds(fake), ['hours']);
  const spec = fake.queries[0]?.spec;
  t.same(spec?.kind === 'hours' && spec.range, {
    startMs: Date.parse(`${OLD_DAY}T00:00:00Z`),
    endMs: Date.parse('2026-02-02T00:00:00Z'),
  });
  advance(10 * LISTING_TTL_MS);
  t.same(await listings.hoursOf(app, OLD_DAY), [3, 21]);
  t.same(await listings.hoursOf(worker, OLD_DAY), []);
  t.same(kinds(fake), ['hours', 'hours'], 'the final day is not asked again');
});

t.test('a day whose hours are all final in the cache is listed without a query', async (t) => {
  const { fake, listings, store } = await openStack(t);
  t.ok((await store.hours.hour(app, OLD_DAY, 3))?.final);
  // The requested hour comes first; the rest of the day is still being written.
  for (let tries = 0; tries < 200 && !(await store.hours.finalHours(app, OLD_DAY)); tries++) await sleep(5);
  t.same(await store.hours.finalHours(app, OLD_DAY), [3, 21]);
  t.same(await listings.hoursOf(app, OLD_DAY), [3, 21]);
  t.same(kinds(fake), ['sweep'], 'only the sweep that read the day');
  const spec = fake.queries[0]?.spec;
  t.same(spec?.kind === 'sweep' && spec.range, {
    startMs: Date.parse(`${OLD_DAY}T00:00:00Z`),
    endMs: Date.parse('2026-02-02T00:00:00Z'),
  });
});

t.test('days and hours are named in the mount’s time zone', async (t) => {
  const { fake, listings } = await openStack(t, { timeZone: 'Asia/Kolkata' });
  // 18:30 UTC is midnight in Kolkata; 23:59:59.999999 UTC is 05:29 the next day there.
  t.same(await listings.days(nginx), [TODAY]);
  t.same(await listings.hoursOf(nginx, TODAY), [0]);
  t.same(await listings.hoursOf(app, TODAY), [5, 14, 17]);
  t.same(await listings.hoursOf(app, YESTERDAY), [5]);
  const spec = fake.queries[0]?.spec;
  t.equal(spec?.kind === 'listing' && spec.timeZone, 'Asia/Kolkata');
  const zone = new TimeZoneModel('Asia/Kolkata');
  t.equal(spec?.kind === 'listing' && spec.window.startMs, zone.dayRange(WEEK_START).startMs);
});

t.test('a failed listing is not remembered', async (t) => {
  let failing: FailingWarehouse | undefined;
  const { fake, listings } = await openStack(t, {
    wrap: (inner) => (failing = new FailingWarehouse(inner, [{ at: 'start', reason: 'accessDenied' }])),
  });
  t.match(await listings.namespaces().catch((error: unknown) => error), { reason: 'accessDenied' });
  t.same(await listings.namespaces(), ['batch', 'shop']);
  t.equal(failing?.pending, 0);
  t.same(kinds(fake), ['listing'], 'the failed attempt never reached the warehouse');
});

t.test('finding no log tables fails opening the store', async (t) => {
  const failed = await openStack(t, { wrap: (inner) => new FailingWarehouse(inner, [{ at: 'discovery' }]) }).catch(
    (error: unknown) => error,
  );
  t.match(failed, { reason: 'notFound', message: 'Not found: Dataset test-project:logs' });
});

t.test('concurrent listings share one query', async (t) => {
  const { fake, listings } = await openStack(t);
  const gate = fake.hold();
  const listed = Promise.all([listings.namespaces(), listings.pods('shop'), listings.days(app)]);
  await gate.reached();
  t.equal(fake.queries.length, 1);
  gate.open();
  t.same(await listed, [['batch', 'shop'], ['web-1'], [WEEK_START, YESTERDAY, TODAY]]);
  t.equal(fake.queries.length, 1);
});

async function errno(work: Promise<unknown>): Promise<string> {
  try {
    await work;
    return 'no error';
  } catch (error) {
    return error instanceof FsError ? error.errno : String(error);
  }
}

t.test('paths that cannot exist are answered without a query', async (t) => {
  const { fake, tree } = await openStack(t);
  const invalid = [
    '/Bad_NS',
    '/shop/UPPER',
    '/shop/web-1/app_1',
    '/shop/web-1/app/2026-02-30',
    '/shop/web-1/app/2026-3-10',
    `/shop/web-1/app/${TODAY}/24.log`,
    `/shop/web-1/app/${TODAY}/9.log`,
    `/shop/web-1/app/${TODAY}/09.txt`,
    `/shop/web-1/app/${TODAY}/09.log/x`,
    '/shop/web-1/app/current.log/x',
    '/shop//app',
    '/shop/',
    'shop',
  ];
  for (const path of invalid) {
    t.equal(await errno(tree.getattr(path)), 'ENOENT', `getattr ${path}`);
    t.equal(await errno(tree.readdir(path)), 'ENOENT', `readdir ${path}`);
  }
  for (const notBegun of ['/shop/web-1/app/2026-03-12', '/shop/web-1/app/2027-01-01/00.log']) {
    t.equal(await errno(tree.getattr(notBegun)), 'ENOENT', `getattr ${notBegun}`);
  }
  t.equal(await errno(tree.open(`/shop/web-1/app/${TODAY}/24.log`, false)), 'ENOENT');
  t.same(fake.queries, []);
});

t.test('namespaces the mount hides do not exist, and cost nothing', async (t) => {
  const { fake, tree } = await openStack(t, { namespaces: { names: ['shop'] } });
  for (const path of ['/batch', '/batch/report-1', '/batch/report-1/worker', `/batch/report-1/worker/${TODAY}`]) {
    t.equal(await errno(tree.getattr(path)), 'ENOENT', `getattr ${path}`);
    t.equal(await errno(tree.readdir(path)), 'ENOENT', `readdir ${path}`);
  }
  t.equal(await errno(tree.getattr(`/batch/report-1/worker/${TODAY}/01.log`)), 'ENOENT');
  t.equal(await errno(tree.open(`/batch/report-1/worker/${TODAY}/01.log`, false)), 'ENOENT');
  t.same(fake.queries, []);
  t.same(await tree.readdir('/'), ['shop']);
  t.same(
    fake.queries.map((query) => query.source.namespaces),
    [{ names: ['shop'] }],
    'the listing query itself is restricted',
  );
});

t.test('a namespace pattern hides what it does not match whole', async (t) => {
  const { fake, tree } = await openStack(t, { namespaces: { pattern: 'sho' } });
  t.equal(await errno(tree.getattr('/shop')), 'ENOENT');
  t.same(await tree.readdir('/'), []);
  t.equal(fake.queries.length, 1);
});

t.test('refresh budget', async (t) => {
  const warnings: unknown[] = [];
  const log = { warn: (details: unknown) => void warnings.push(details) };

  t.test('allows refreshes while what they billed in the last hour leaves room for one more', async (t) => {
    const budget = new RefreshBudget(100, log);
    t.ok(budget.allows(0), 'nothing spent yet');
    budget.record(0, 40);
    t.ok(budget.allows(1), '40 spent, the next one is guessed at 40');
    budget.record(1, 40);
    t.notOk(budget.allows(2), '80 spent and 40 more would exceed 100');
    t.equal(budget.spentInWindow(2), 80);
    t.notOk(budget.allows(HOUR_MS - 1), 'the first refresh is still within the hour');
    t.equal(budget.spentInWindow(HOUR_MS), 40, 'the first refresh has left the hour window');
    t.ok(budget.allows(HOUR_MS));
  });

  t.test('a cheaper refresh lowers the guess for the next one', async (t) => {
    const budget = new RefreshBudget(100, log);
    budget.record(0, 70);
    t.notOk(budget.allows(1));
    budget.record(2, 10);
    t.ok(budget.allows(3), '80 spent, and the last one billed 10');
  });

  t.test('warns once each time it runs out', async (t) => {
    warnings.length = 0;
    const budget = new RefreshBudget(100, log);
    budget.record(0, 60);
    t.notOk(budget.allows(10));
    t.notOk(budget.allows(20));
    t.equal(warnings.length, 1, 'one warning for one exhaustion');
    t.match(warnings[0], { spentBytes: 60, budgetBytes: 100, resumesAt: new Date(HOUR_MS).toISOString() });
    t.ok(budget.allows(HOUR_MS), 'back once the refresh has left the window');
    budget.record(HOUR_MS, 60);
    t.notOk(budget.allows(HOUR_MS + 1));
    t.equal(warnings.length, 2, 'a new exhaustion warns again');
  });

  t.test('a single refresh that costs more than the budget', async (t) => {
    warnings.length = 0;
    const budget = new RefreshBudget(10, log);
    t.ok(budget.allows(0), 'the first refresh has no guess to go by');
    budget.record(0, 20);
    t.notOk(budget.allows(1));
    t.equal(budget.spentInWindow(2 * HOUR_MS), 0, 'the hour window is empty again');
    t.notOk(budget.allows(2 * HOUR_MS), 'yet the guess alone exceeds the budget, so it never resumes');
    t.equal(warnings.length, 2);
  });
});
