// `bqlogfs doctor` against the local server loaded with the fixtures: every check passes, the
// dry-run estimates are real numbers, and a missing dataset fails with its fix and exit code 1.
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
  });
}

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
