// Bad input and failed queries: a clear error for the one call, a log line that says why and what
// to do, and a daemon that stays up.
import t from 'tap';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createEnvironment, datasetFor, mountFixtures, type Environment } from './support/environment.js';
import { sh } from './support/shell.js';

let environment: Environment;
t.before(async () => {
  environment = await createEnvironment();
});
t.teardown(() => environment.close());

async function mounted(t: { teardown(fn: () => Promise<void>): void }, extra: string[]) {
  return (await mountFixtures(t, environment, extra)).daemon;
}

t.test('a query over --max-bytes-billed fails the read with EIO and says how to raise it', async (t) => {
  const daemon = await mounted(t, ['--max-bytes-billed', '1M']);
  const file = `shop/web-7d9f8-abcde/app/${environment.fixtures.yesterday}/10.log`;
  const result = await sh(`cat ${file}`, daemon.mountpoint);
  t.match(result.stderr, /Input\/output error/);
  t.match(daemon.logs(), /bytesBilledLimitExceeded/);
  t.match(daemon.logs(), /raise --max-bytes-billed/);
  t.match(daemon.logs(), new RegExp(file.replaceAll('.', '\\.')));
  const stats = JSON.parse(await readFile(join(daemon.mountpoint, '.bqlogfs/stats'), 'utf8'));
  t.equal(stats.bytesBilled, 0, 'nothing was billed');
  t.ok(stats.failedQueries >= 1);
});

t.test('a missing table gives EIO, a hint, and the daemon stays up', async (t) => {
  const dataset = datasetFor('partitioned');
  const daemon = await mounted(t, []);
  const file = `batch/report-28391-xk2p9/worker/${environment.fixtures.dayBefore}/05.log`;
  await environment.client.dataset(dataset).table('stderr').delete();
  const result = await sh(`cat ${file}`, daemon.mountpoint);
  t.match(result.stderr, /Input\/output error/);
  t.match(daemon.logs(), /notFound/);
  t.match(daemon.logs(), /check --project and --dataset/);
  t.equal(daemon.process.exitCode, null, 'daemon still running');
  const stats = await sh('cat .bqlogfs/stats', daemon.mountpoint);
  t.equal(stats.code, 0, 'mount still answers');
});
