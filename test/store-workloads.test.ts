// Workload directories in process, over the fake warehouse: the merge reads its pods' rows from the
// namespace-day's sweep, and a namespace-day too big to sweep fails the workload instead of
// querying each pod.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { pino } from 'pino';
import t, { type Test } from 'tap';
import type { LogWarehouse } from '../src/bigquery/log-warehouse.js';
import { LogTree } from '../src/fs/log-tree.js';
import { namespacePolicy } from '../src/model/namespace-policy.js';
import { MountStats } from '../src/model/stats.js';
import { Listings } from '../src/store/listings.js';
import { openLogStore } from '../src/store/log-store.js';
import { FailingWarehouse } from './support/failing-warehouse.js';
import { FakeWarehouse, micros, type FakeEntry } from './support/fake-warehouse.js';

const DAY = '2026-03-09';
const NOW_MS = Date.parse('2026-03-10T12:30:00Z');

function entry(pod: string, time: string, insertId: string, textPayload: string, day = DAY): FakeEntry {
  return {
    namespace: 'shop',
    pod,
    container: 'app',
    stream: 'stdout',
    timestamp: micros(`${day}T${time}Z`),
    insertId,
    textPayload,
    labels: { logging_gke_io_top_level_controller_name: 'web', logging_gke_io_top_level_controller_type: 'Deployment' },
  };
}

async function openTree(
  t: Test,
  wrap: (fake: FakeWarehouse) => LogWarehouse = (fake) => fake,
  clock = { nowMs: NOW_MS },
) {
  const fake = new FakeWarehouse();
  fake.insert([
    entry('web-a', '10:00:01.000000', 'a1', 'a first'),
    entry('web-b', '10:00:01.000000', 'b1', 'b at the same time'),
    entry('web-a', '10:00:02.000000', 'a2', 'a second\nand its second line'),
  ]);
  const cacheDir = await mkdtemp(join(tmpdir(), 'bqlogfs-workloads-'));
  const stats = new MountStats();
  const now = () => clock.nowMs;
  const store = await openLogStore(
    {
      projectId: 'test-project',
      datasetId: 'logs',
      cacheDir,
      cacheMaxBytes: 1 << 30,
      sealAfterMs: 300_000,
      refreshMs: 10_000,
      queryTimeoutMs: 10_000,
      maxConcurrentQueries: 4,
    },
    pino({ level: 'silent' }),
    stats,
    now,
    wrap(fake),
  );
  t.teardown(async () => {
    for (let waited = 0; store.hours.fetchesRunning > 0 && waited < 5_000; waited += 10) await sleep(10);
    await rm(cacheDir, { recursive: true, force: true });
  });
  const options = { lookbackMs: 7 * 86_400_000, listingTtlMs: 30_000, sealAfterMs: 300_000, now, zone: store.zone };
  const listings = new Listings(store.warehouse, store.source, store.hours, options);
  store.workloads.useMembership(listings);
  const tree = new LogTree(listings, store.hours, stats, {
    mountedAtMs: NOW_MS,
    now,
    zone: store.zone,
    allowsNamespace: namespacePolicy(undefined),
    refreshMs: 10_000,
  });
  t.teardown(() => tree.closeAll());
  return { tree, fake, store };
}

async function contentOf(tree: LogTree, path: string): Promise<string> {
  const handle = await tree.open(path, false);
  try {
    const chunk = await tree.read(handle, 1 << 16, 0);
    const text = chunk.data.toString('utf8');
    chunk.done();
    return text;
  } finally {
    await tree.release(handle);
  }
}

t.test('a workload hour merges its pods from the one sweep', async (t) => {
  const { tree, fake } = await openTree(t);
  t.same(await tree.readdir('/shop'), ['@web', 'web-a', 'web-b']);
  t.equal(
    await contentOf(tree, `/shop/@web/app/${DAY}/10.log`),
    'web-a a first\nweb-b b at the same time\nweb-a a second\nweb-a and its second line\n',
  );
  t.equal(await contentOf(tree, `/shop/web-b/app/${DAY}/10.log`), 'b at the same time\n');
  t.equal(fake.queriesOf('sweep').length, 1, 'one sweep for the workload and its pods');
  t.equal(fake.queriesOf('entries').length, 0);
});

t.test('a namespace-day too big to sweep fails the workload, not its pods', async (t) => {
  const { tree, fake } = await openTree(
    t,
    (fake) =>
      new FailingWarehouse(fake, [
        { at: 'start', reason: 'responseTooLarge', times: 100, match: (query) => query.spec.kind === 'sweep' },
      ]),
  );
  t.match(await tree.open(`/shop/@web/app/${DAY}/10.log`, false).catch((error: unknown) => error), {
    reason: 'workloadTooBig',
    hint: /pods' own directories/,
  });
  t.equal(fake.queriesOf('entries').length, 0, 'no query per pod');
  t.equal(await contentOf(tree, `/shop/web-a/app/${DAY}/10.log`), 'a first\na second\nand its second line\n');
  t.equal(fake.queriesOf('entries').length, 1, 'a pod’s day is read alone');
});

t.test('a live workload hour appends late entries of any pod once, in arrival order', async (t) => {
  const today = '2026-03-10';
  const clock = { nowMs: NOW_MS };
  const { tree, fake, store } = await openTree(t, undefined, clock);
  /** Moves the clock once the fetch a read began has also written the rest of its day. */
  const later = async (nowMs: number) => {
    while (store.hours.fetchesRunning > 0) await sleep(10);
    clock.nowMs = nowMs;
  };
  fake.insert([
    entry('web-a', '12:10:00.000000', 'a1', 'a one', today),
    entry('web-b', '12:20:00.000000', 'b1', 'b one', today),
  ]);
  const path = `/shop/@web/app/${today}/12.log`;
  const first = 'web-a a one\nweb-b b one\n';
  t.equal(await contentOf(tree, path), first, 'the live hour');

  fake.insert([
    entry('web-a', '12:25:00.000000', 'a3', 'a new', today),
    entry('web-a', '12:20:00.000000', 'a2', 'a late, same time as b one', today),
    entry('web-b', '12:05:00.000000', 'b0', 'b late', today),
  ]);
  await later(clock.nowMs + 10_001);
  const grown = `${first}web-b b late\nweb-a a late, same time as b one\nweb-a a new\n`;
  t.equal(await contentOf(tree, path), grown, 'the late ones appended in merge order, before the new one');
  await later(clock.nowMs + 10_001);
  t.equal(await contentOf(tree, path), grown, 'and only once');

  await later(Date.parse(`${today}T13:05:01Z`));
  t.equal(
    await contentOf(tree, path),
    'web-b b late\nweb-a a one\nweb-a a late, same time as b one\nweb-b b one\nweb-a a new\n',
    'sealed: in order',
  );
});
