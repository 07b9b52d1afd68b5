// What reading costs: each container-day is billed once, listings re-query only days that can
// still change, and the disk cache stays within its bound.
import t from 'tap';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Daemon } from './support/daemon.js';
import { createEnvironment, mountFixtures, type Environment } from './support/environment.js';
import { shOk } from './support/shell.js';

interface Stats {
  queries: number;
  queriesRunning: number;
  bytesProcessed: number;
  bytesBilled: number;
  recentQueries: { purpose: string; bytesProcessed: number; bytesBilled: number }[];
}

let environment: Environment;
t.before(async () => {
  environment = await createEnvironment();
});
t.teardown(() => environment.close());

async function mount(t: { teardown(fn: () => Promise<void>): void }, extra: string[]): Promise<Daemon> {
  return (await mountFixtures(t, environment, extra)).daemon;
}

/** Statistics once every query the mount started has ended. */
async function settledStats(daemon: Daemon): Promise<Stats> {
  for (;;) {
    await sleep(1100); // the kernel keeps a file's attributes for a second
    const stats = JSON.parse(await readFile(join(daemon.mountpoint, '.bqlogfs/stats'), 'utf8')) as Stats;
    if (stats.queriesRunning === 0) return stats;
  }
}

t.test('all hours of a container-day bill what the first hour billed', async (t) => {
  const daemon = await mount(t, []);
  const day = `shop/web-7d9f8-abcde/app/${environment.fixtures.dayBefore}`;
  const hours = (await shOk(`ls ${day}`, daemon.mountpoint)).trim().split('\n');
  t.ok(hours.length > 10, `${hours.length} hour files`);
  const afterListing = await settledStats(daemon);
  await shOk(`cat ${day}/${hours[0]} > /dev/null`, daemon.mountpoint);
  const afterOne = await settledStats(daemon);
  await shOk(`cat ${day}/*.log > /dev/null; grep -c . ${day}/*.log > /dev/null`, daemon.mountpoint);
  const afterAll = await settledStats(daemon);
  const first = afterOne.bytesBilled - afterListing.bytesBilled;
  t.ok(first > 0, `the first hour billed ${first} bytes`);
  t.equal(afterAll.bytesBilled - afterListing.bytesBilled, first, 'the other hours billed nothing more');
  t.equal(afterAll.queries, afterOne.queries, 'and sent no query');
});

t.test('a refreshed listing queries only the days that can still change', async (t) => {
  const daemon = await mount(t, ['--listing-ttl', '1s']);
  await shOk('ls -R > /dev/null', daemon.mountpoint);
  await sleep(1500);
  await shOk('ls > /dev/null', daemon.mountpoint);
  const listings = (await settledStats(daemon)).recentQueries.filter((query) => query.purpose === 'listing');
  t.ok(listings.length >= 2, 'the listing was queried again after its TTL');
  const first = listings[0];
  const refresh = listings[listings.length - 1];
  t.ok(refresh && first && refresh.bytesProcessed < first.bytesProcessed, 'the refresh scanned less');
});

t.test('the disk cache stays within --cache-size and evicted days are fetched again', async (t) => {
  const daemon = await mount(t, ['--cache-size', '40K']);
  const cacheDir = daemon.args[daemon.args.indexOf('--cache-dir') + 1] ?? '';
  const { dayBefore, yesterday } = environment.fixtures;
  const days = ['shop/web-7d9f8-abcde/app', 'shop/web-7d9f8-abcde/nginx', 'batch/report-28391-xk2p9/worker'].flatMap(
    (container) => [`${container}/${dayBefore}`, `${container}/${yesterday}`],
  );
  for (const day of days) {
    await shOk(`cat ${day}/*.log > /dev/null`, daemon.mountpoint);
    await settledStats(daemon);
  }
  const used = Number((await shOk(`find ${cacheDir} -name '*.log' -printf '%s\\n' | paste -sd+ | bc`)).trim());
  const largestDay = Math.max(
    ...days.map((day) =>
      [...environment.files]
        .filter(([path]) => path.startsWith(day))
        .reduce((sum, [, bytes]) => sum + Buffer.byteLength(bytes), 0),
    ),
  );
  t.ok(used <= 40 * 1024 + largestDay, `cache holds ${used} bytes of log files`);
  const before = (await settledStats(daemon)).queries;
  const first = days[0] ?? '';
  for (const [path, content] of environment.files) {
    if (!path.startsWith(first)) continue;
    t.equal(await readFile(join(daemon.mountpoint, path), 'utf8'), content, `${path} after eviction`);
  }
  t.ok((await settledStats(daemon)).queries > before, 'the evicted day was fetched again');
});
