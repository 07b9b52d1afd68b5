// Bad input and failed queries: a clear error for the one call, a log line that says why and what
// to do, and a daemon that stays up.
import t from 'tap';
import { setTimeout as sleep } from 'node:timers/promises';
import { serverArgs } from './support/cli-process.js';
import { mountTemp } from './support/daemon.js';
import { fileEnvironment, loadFixtures, mountFixtures, PROJECT } from './support/environment.js';
import { sh } from './support/shell.js';
import { metricsUrl, sample, scrape } from './support/metrics.js';
import { readStats } from './support/stats.js';

const currentEnvironment = fileEnvironment(t);
// Each test has mounts of its own and spends most of its time waiting on them: they run side by side.
t.jobs = 2;

t.test('a query over --max-bytes-billed fails the read with EIO and says how to raise it', async (t) => {
  const environment = currentEnvironment();
  const { daemon } = await mountFixtures(t, environment, ['--max-bytes-billed', '1M', '--metrics-port', '0']);
  const file = `shop/web-7d9f8-abcde/app/${environment.fixtures.yesterday}/10.log`;
  const result = await sh(`cat ${file}`, daemon.mountpoint);
  t.match(result.stderr, /Input\/output error/);
  t.match(daemon.logs(), /bytesBilledLimitExceeded/);
  t.match(daemon.logs(), /raise --max-bytes-billed/);
  // The first lookup that needs a query is the day's, which the window's listing answers.
  t.match(daemon.logs(), new RegExp(`"path":"/${file.split('/').slice(0, 4).join('/')}`));
  const stats = await readStats(daemon.mountpoint);
  t.equal(stats.bytesBilled, 0, 'nothing was billed');
  t.ok(stats.failedQueries >= 1);
  t.same(stats.failureReasons, { bytesBilledLimitExceeded: stats.failedQueries }, 'failures by reason');
  const metrics = await scrape(metricsUrl(daemon.logs()));
  t.equal(
    sample(metrics, 'bqlogfs_query_failures_total', 'reason="bytesBilledLimitExceeded"'),
    stats.failedQueries,
    'the metrics have the reason as a label',
  );
});

t.test('a missing table gives EIO, a hint, and the daemon stays up', async (t) => {
  const environment = currentEnvironment();
  // A dataset of its own, since this test deletes one of its tables.
  const dataset = 'logs_missing_table';
  await loadFixtures(environment.client, environment.fixtures, dataset, 'partitioned');
  const { daemon } = await mountTemp(t, serverArgs(environment.emulator, PROJECT, dataset));
  const file = `batch/report-28391-xk2p9/worker/${environment.fixtures.dayBefore}/05.log`;
  await environment.client.dataset(dataset).table('stderr').delete();
  const result = await sh(`cat ${file}`, daemon.mountpoint);
  t.match(result.stderr, /Input\/output error/);
  // The log line is written as the error is answered; give the pipe a moment.
  for (let waited = 0; !/notFound/.test(daemon.logs()) && waited < 3_000; waited += 100) await sleep(100);
  t.match(daemon.logs(), /notFound/);
  t.match(daemon.logs(), /check --project and --dataset/);
  t.equal(daemon.process.exitCode, null, 'daemon still running');
  const stats = await sh('cat .bqlogfs/stats', daemon.mountpoint);
  t.equal(stats.code, 0, 'mount still answers');
});
