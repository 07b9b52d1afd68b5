// `bqlogfs doctor` against the local server loaded with the fixtures: every check passes, the
// dry-run estimates are real numbers, and a missing dataset fails with its fix and exit code 1.
// The Storage Read API check creates a read session that reads nothing, and fails with its fix when
// the server refuses read sessions or does not answer.
import t from 'tap';
import { emulatorClient } from '../src/emulator/client.js';
import { checkDataset, estimateCosts } from '../src/doctor/doctor-bigquery.js';
import { runCli, serverArgs } from './support/cli-process.js';
import { datasetFor, fileEnvironment, fixtureArgs, LAYOUTS, PROJECT } from './support/environment.js';
import { serverStats } from './support/stats.js';

const currentEnvironment = fileEnvironment(t);
const emulatorStats = () => serverStats(currentEnvironment().emulator.url);

for (const layout of LAYOUTS) {
  t.test(`${layout}: every check passes, and the dry runs estimate a cost`, async (t) => {
    const statsBefore = await emulatorStats();
    const run = await runCli(['doctor', ...fixtureArgs(currentEnvironment(), layout)]);
    t.equal(run.code, 0, 'exit 0', { output: run.output });
    t.notMatch(run.output, /^FAIL/m, 'no check failed');
    for (const name of ['/dev/fuse', 'libfuse 2', 'fusermount']) t.match(run.output, new RegExp(`^ok +${name}:`, 'm'));
    t.match(run.output, /^skip +credentials: none needed for the local endpoint/m);
    t.match(run.output, new RegExp(`^ok +dataset ${PROJECT}:${datasetFor(layout)}: ${layout} tables`, 'm'));
    t.match(run.output, /^ok +columns of stdout\S*: .*every expected column/m);
    t.match(run.output, /^ok +columns of stderr\S*: .*every expected column/m);
    const storage = `127\\.0\\.0\\.1:${currentEnvironment().emulator.storagePort}`;
    t.match(
      run.output,
      new RegExp(`^ok +Storage Read API: ${storage}: a read session on stdout\\S* was created; no row was read$`, 'm'),
    );
    for (const label of ['listing one day', 'reading one container-day']) {
      const match = new RegExp(
        `^ok +cost of ${label}: \\S+: ([\\d.]+) \\S+ processed, about ([\\d.]+) \\S+ billed`,
        'm',
      );
      const found = match.exec(run.output);
      t.ok(found, `${label} is estimated`, { output: run.output });
      t.ok(Number(found?.[1]) > 0 && Number(found?.[2]) > 0, `${label}: numbers above zero`);
    }
    const statsAfter = await emulatorStats();
    t.equal(statsAfter.bytesBilled, statsBefore.bytesBilled, 'doctor billed nothing');
    t.equal(statsAfter.queries, statsBefore.queries, 'doctor ran dry runs only');
    t.equal(statsAfter.storageReadSessions - statsBefore.storageReadSessions, 1, 'one read session');
    t.equal(statsAfter.storageRowsRead, statsBefore.storageRowsRead, 'no row read through it');
    t.equal(statsAfter.storageBytesRead, statsBefore.storageBytesRead, 'no byte read through it');
  });
}

t.test('the Storage Read API is skipped where the mount would not use it', async (t) => {
  const before = (await emulatorStats()).storageReadSessions;
  const rest = await runCli(['doctor', ...fixtureArgs(currentEnvironment()), '--read-api', 'rest']);
  t.equal(rest.code, 0, { output: rest.output });
  t.match(rest.output, /^skip +Storage Read API: not used: --read-api rest reads query results as REST pages$/m);
  const restOnly = await runCli([
    'doctor',
    ...serverArgs(currentEnvironment().emulator.url, PROJECT, datasetFor('partitioned')),
  ]);
  t.equal(restOnly.code, 0, { output: restOnly.output });
  t.match(restOnly.output, /^skip +Storage Read API: not used: --api-endpoint is set but --read-api-endpoint is not/m);
  t.equal((await emulatorStats()).storageReadSessions, before, 'no read session');
});

t.test('read sessions refused: a warning with the fix, exit 0 (the mount works over REST)', async (t) => {
  const { emulator } = currentEnvironment();
  emulator.faults.set({
    rules: [{ endpoint: 'storage.createReadSession', kind: 'error', status: 403, reason: 'accessDenied' }],
  });
  const run = await runCli(['doctor', ...fixtureArgs(currentEnvironment())]);
  t.equal(run.code, 0, 'exit 0', { output: run.output });
  t.match(
    run.output,
    /^warn +Storage Read API: \S+: 7 PERMISSION_DENIED: Access Denied.*REST pages \(slower\)\n +fix: enable the BigQuery Storage API .*roles\/bigquery\.readSessionUser; or pass --read-api rest/m,
  );
  t.match(run.output, /^ok +cost of reading one container-day/m, 'the other checks still run');
  t.equal(emulator.faults.stats().byEndpoint['storage.createReadSession'], 1, 'the fault fired once');
});

t.test('nothing listening at --read-api-endpoint: a warning with the fix', async (t) => {
  const args = fixtureArgs(currentEnvironment());
  args[args.indexOf('--read-api-endpoint') + 1] = '127.0.0.1:9';
  const run = await runCli(['doctor', ...args]);
  t.equal(run.code, 0, 'exit 0', { output: run.output });
  t.match(run.output, /^warn +Storage Read API: 127\.0\.0\.1:9: 14 UNAVAILABLE: .*\n +fix: enable the BigQuery/m);
});

t.test('the estimates are the dry runs of the mount’s own queries', async (t) => {
  const client = emulatorClient(currentEnvironment().emulator.url, PROJECT);
  const target = { projectId: PROJECT, datasetId: datasetFor('partitioned') };
  const { source } = await checkDataset(target, client);
  if (!source) throw new Error('no source');
  const before = (await emulatorStats()).dryRuns;
  const estimate = await estimateCosts(source, client, Date.now());
  t.equal((await emulatorStats()).dryRuns - before, 2, 'two dry runs');
  t.ok((estimate.listingDay?.processed ?? 0) > 0);
  t.ok((estimate.containerDay?.processed ?? 0) > (estimate.listingDay?.processed ?? 0), 'payloads cost more');
  t.ok((estimate.containerDay?.billed ?? 0) >= 2 * 10 * 2 ** 20, 'at least 10 MB per table');
});

t.test('a missing dataset: FAIL with the fix, exit 1', async (t) => {
  const run = await runCli(['doctor', ...serverArgs(currentEnvironment().emulator, PROJECT, 'no_such_dataset')]);
  t.equal(run.code, 1, 'exit 1', { output: run.output });
  t.match(
    run.output,
    new RegExp(`^FAIL +dataset ${PROJECT}:no_such_dataset: .+\\n +fix: check --project and --dataset`, 'm'),
  );
  t.notMatch(run.output, /cost of/, 'no estimate without a dataset');
});

t.test('an endpoint that does not answer fails in bounded time', async (t) => {
  const started = Date.now();
  const run = await runCli(['doctor', ...serverArgs('http://127.0.0.1:9', PROJECT, 'x')]);
  t.equal(run.code, 1, 'exit 1', { output: run.output });
  t.match(run.output, /^FAIL +dataset/m);
  t.ok(Date.now() - started < 30_000, 'within 30 s');
});

t.test('without a project and dataset only this machine is checked', async (t) => {
  const run = await runCli(['doctor'], { env: { XDG_CONFIG_HOME: '/nonexistent' } });
  t.equal(run.code, 0, { output: run.output });
  t.match(run.output, /^skip +BigQuery: no --project and --dataset given/m);
  const half = await runCli(['doctor', '--project', PROJECT], { env: { XDG_CONFIG_HOME: '/nonexistent' } });
  t.equal(half.code, 2);
  t.match(half.output, /both --project and --dataset/);
});
