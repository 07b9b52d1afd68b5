// What reading costs: each container-day is billed once, listings re-query only days that can
// still change, and the disk cache stays within its bound.
import t from 'tap';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { mountTemp } from './support/daemon.js';
import { fileEnvironment, fixtureArgs, mountFixtures } from './support/environment.js';
import { shOk } from './support/shell.js';
import { recentQueries, settledStats } from './support/stats.js';

const currentEnvironment = fileEnvironment(t);
// Each test has mounts of its own and spends most of its time waiting on them: they run side by side.
t.jobs = 3;

t.test('all hours of a container-day bill what the first hour billed', async (t) => {
  const { daemon } = await mountFixtures(t, currentEnvironment());
  const day = `shop/web-7d9f8-abcde/app/${currentEnvironment().fixtures.dayBefore}`;
  const hours = (await shOk(`ls ${day}`, daemon.mountpoint)).trim().split('\n');
  t.ok(hours.length > 10, `${hours.length} hour files`);
  const afterListing = await settledStats(daemon.mountpoint);
  await shOk(`cat ${day}/${hours[0]} > /dev/null`, daemon.mountpoint);
  const afterOne = await settledStats(daemon.mountpoint);
  await shOk(`cat ${day}/*.log > /dev/null; grep -c . ${day}/*.log > /dev/null`, daemon.mountpoint);
  const afterAll = await settledStats(daemon.mountpoint);
  const first = afterOne.bytesBilled - afterListing.bytesBilled;
  t.ok(first > 0, `the first hour billed ${first} bytes`);
  t.equal(afterAll.bytesBilled - afterListing.bytesBilled, first, 'the other hours billed nothing more');
  t.equal(afterAll.queries, afterOne.queries, 'and sent no query');
});

t.test('a refreshed listing queries only the days that can still change', async (t) => {
  const { daemon } = await mountFixtures(t, currentEnvironment(), ['--listing-ttl', '1s']);
  await shOk('ls -R > /dev/null', daemon.mountpoint);
  await sleep(1500);
  await shOk('ls > /dev/null', daemon.mountpoint);
  const listings = recentQueries(await settledStats(daemon.mountpoint), 'listing');
  t.ok(listings.length >= 2, 'the listing was queried again after its TTL');
  const first = listings[0];
  const refresh = listings[listings.length - 1];
  t.ok(refresh && first && refresh.bytesProcessed < first.bytesProcessed, 'the refresh scanned less');
});

t.test('the disk cache stays within --cache-size and evicted days are fetched again', async (t) => {
  // The fixtures are small: a cache smaller than any real one evicts.
  const { daemon, cacheDir } = await mountTemp(t, [...fixtureArgs(currentEnvironment()), '--cache-size', '40K']);
  const { fixtures, files } = currentEnvironment();
  const { dayBefore, yesterday } = fixtures;
  const days = ['shop/web-7d9f8-abcde/app', 'shop/web-7d9f8-abcde/nginx', 'batch/report-28391-xk2p9/worker'].flatMap(
    (container) => [`${container}/${dayBefore}`, `${container}/${yesterday}`],
  );
  for (const day of days) {
    await shOk(`cat ${day}/*.log > /dev/null`, daemon.mountpoint);
    await settledStats(daemon.mountpoint);
  }
  const used = Number((await shOk(`find ${cacheDir} -name '*.log' -printf '%s\\n' | paste -sd+ | bc`)).trim());
  const largestDay = Math.max(
    ...days.map((day) =>
      [...files].filter(([path]) => path.startsWith(day)).reduce((sum, [, bytes]) => sum + Buffer.byteLength(bytes), 0),
    ),
  );
  t.ok(used <= 40 * 1024 + largestDay, `cache holds ${used} bytes of log files`);
  const first = days[0] ?? '';
  const cachedHours = async () =>
    (await shOk(`find ${cacheDir} -path '*/${first}/*' -name '*.log'`)).split('\n').filter(Boolean).length;
  t.equal(await cachedHours(), 0, 'the first day was evicted from the disk');
  for (const [path, content] of files) {
    if (!path.startsWith(first)) continue;
    t.equal(await readFile(join(daemon.mountpoint, path), 'utf8'), content, `${path} after eviction`);
  }
  await settledStats(daemon.mountpoint);
  // Read again from the namespace's kept sweep: no new query, but the files come back.
  t.ok((await cachedHours()) > 0, 'the evicted day was fetched again');
});
