// Google's endpoint on a machine with no Application Default Credentials: no key file, no gcloud
// login under an empty HOME, and no metadata server (outside Google Cloud none answers). mount,
// fetch and doctor each say so in one sentence with the fix, in bounded time, instead of a DNS
// error after google-auth-library's raw MetadataLookupWarning.
import t, { type Test } from 'tap';
import { runCli } from './support/cli-process.js';
import { testDir } from './support/daemon.js';

const FIX = 'run gcloud auth application-default login, or set GOOGLE_APPLICATION_CREDENTIALS';

async function noCredentials(t: Test): Promise<NodeJS.ProcessEnv> {
  const home = await testDir(t, 'empty-home');
  return {
    HOME: home,
    XDG_CONFIG_HOME: home,
    XDG_CACHE_HOME: home,
    GOOGLE_APPLICATION_CREDENTIALS: undefined,
    CLOUDSDK_CONFIG: undefined,
  };
}

const target = ['--project', 'my-project', '--dataset', 'gke_logs'];

t.test('mount and fetch stop at once with the fix', async (t) => {
  const env = await noCredentials(t);
  const mountpoint = await testDir(t, 'mnt');
  const out = await testDir(t, 'out');
  const runs: [string, string[]][] = [
    ['mount', [mountpoint, ...target]],
    ['fetch', ['app', '--out', out, ...target]],
  ];
  for (const [command, rest] of runs) {
    const args = [command, ...rest];
    const started = Date.now();
    const run = await runCli(args, { env });
    t.equal(run.code, 1, command);
    t.equal(run.stderr, `bqlogfs: no Application Default Credentials: ${FIX} to a service account key file\n`, command);
    t.notMatch(run.output, /MetadataLookupWarning|ENOTFOUND/, `${command}: no raw warning or DNS error`);
    t.ok(Date.now() - started < 30_000, `${command}: within 30 s`);
  }
});

t.test('doctor fails the credentials check with the same fix', async (t) => {
  const run = await runCli(['doctor', ...target], { env: await noCredentials(t) });
  t.equal(run.code, 1);
  t.match(run.stdout, new RegExp(`^FAIL +credentials: no Application Default Credentials\\n +fix: ${FIX}`, 'm'));
  t.notMatch(run.output, /MetadataLookupWarning/);
});
