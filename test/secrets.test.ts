// Nothing sensitive is ever logged. The daemon, `fetch` and `doctor` run with real Application
// Default Credentials (an external_account file whose token exchange is served here) at the most
// verbose log level, through successful reads, reads under every kind of fault, reads that fail
// for good, and a refused token exchange. Their whole output must hold no token, no secret of the
// credentials file and no Authorization header value, while holding the error lines expected.
import t, { type Test } from 'tap';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { sha256Hex, type AuthorizationCounters } from '../src/emulator/authorization.js';
import type { FaultPlan } from '../src/emulator/fault-plan.js';
import { isMounted, runCli, spawnCli, stopCli, waitForMounts, type CliProcess } from './support/cli-process.js';
import { removeDir, tempDir, tempMountDirs, testDir } from './support/daemon.js';
import { fileEnvironment, fixtureArgs, PROJECT } from './support/environment.js';
import { readAndCompare, type ReadOutcome } from './support/fault-checks.js';
import { sh } from './support/shell.js';
import { startTokenExchange, type TokenExchange } from './support/token-exchange.js';

const currentEnvironment = fileEnvironment(t);
let exchange: TokenExchange;
let workDir: string;
/** Everything the commands run with credentials wrote on stdout and stderr, by what they did. */
const outputs: { label: string; text: string }[] = [];
let faultsInjected = 0;

t.before(async () => {
  workDir = await tempDir('secrets');
  exchange = await startTokenExchange(workDir);
});
t.teardown(async () => {
  await exchange.close();
  await removeDir(workDir);
});
t.afterEach(() => {
  const { faults } = currentEnvironment().emulator;
  faultsInjected += faults.stats().injected;
  // An empty plan zeroes the counters, so a fault is counted once however deep its test is.
  faults.set({ rules: [] });
  faults.clear();
  exchange.setRefusing(false);
});

/** The variables that give a command the credentials, and keep any config file of this machine out. */
function credentialsEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return { GOOGLE_APPLICATION_CREDENTIALS: exchange.credentialsFile, XDG_CONFIG_HOME: workDir, ...extra };
}

function storeArgs(): string[] {
  return fixtureArgs(currentEnvironment());
}

async function authorization(): Promise<AuthorizationCounters> {
  const url = `${currentEnvironment().emulator.url}/emulator/authorization`;
  return (await (await fetch(url)).json()) as AuthorizationCounters;
}

/** Requests the server received since `before`, and how many carried the exchanged access token. */
async function requestsSince(before: AuthorizationCounters): Promise<{ requests: number; withToken: number }> {
  const after = await authorization();
  const key = sha256Hex(exchange.secrets.accessToken);
  return {
    requests: after.requests - before.requests,
    withToken: (after.bearerBySha256[key] ?? 0) - (before.bearerBySha256[key] ?? 0),
  };
}

function edgeFile(): string {
  return `shop/web-7d9f8-abcde/app/${currentEnvironment().fixtures.yesterday}/10.log`;
}

/** Starts a mount with `--auth adc` and trace logging, on a new mountpoint and cache directory. */
async function spawnMount(t: Test, extra: string[] = []): Promise<{ run: CliProcess; mountpoint: string }> {
  const { mountpoint, cacheDir } = await tempMountDirs(t);
  const args = ['mount', mountpoint, ...storeArgs(), '--auth', 'adc', '--log-level', 'trace', '--cache-dir', cacheDir];
  return { run: spawnCli([...args, ...extra], { env: credentialsEnv() }), mountpoint };
}

/** Mounts with `--auth adc` and trace logging, runs `work`, unmounts; keeps the daemon's output. */
async function withDaemon(
  t: Test,
  label: string,
  extra: string[],
  work: (mountpoint: string) => Promise<void>,
): Promise<string> {
  const { run, mountpoint } = await spawnMount(t, extra);
  try {
    await waitForMounts(run, [mountpoint]);
    await work(mountpoint);
    t.equal(run.child.exitCode, null, 'the daemon is still running');
  } finally {
    await stopCli(run, [mountpoint]);
    outputs.push({ label, text: run.output() });
  }
  return run.output();
}

async function readOne(mountpoint: string, path: string): Promise<ReadOutcome> {
  return readAndCompare(join(mountpoint, path), currentEnvironment().files.get(path));
}

// The last subtest reads what all the others wrote, so they run in one test, in this order.
t.test('commands run with credentials, and what they wrote', async (t) => {
  await t.test('the daemon authenticates with the exchanged token, and successful reads log it nowhere', async (t) => {
    const before = await authorization();
    const exchangesBefore = exchange.requests().accepted;
    const { files, fixtures } = currentEnvironment();
    const paths = [...files.keys()]
      .filter((path) => path.includes(`/${fixtures.yesterday}/`))
      .sort()
      .slice(0, 4);
    const logs = await withDaemon(t, 'successful reads', [], async (mountpoint) => {
      t.equal((await sh(`ls -R '${mountpoint}/shop'`)).code, 0, 'listings work');
      for (const path of paths) t.same(await readOne(mountpoint, path), { kind: 'exact' }, path);
    });
    const seen = await requestsSince(before);
    t.ok(exchange.requests().accepted > exchangesBefore, 'the daemon exchanged its subject token at the stub');
    t.ok(seen.requests > 0, `the server got ${seen.requests} requests`);
    t.equal(seen.withToken, seen.requests, 'every request carried the exchanged access token as a bearer token');
    t.match(logs, /"level":20,.*"msg":"query done"/, 'debug lines are logged');
    t.match(logs, /"msg":"mounted"/);
  });

  await t.test('reads under faults that a retry gets past', async (t) => {
    const cases: { name: string; plan: FaultPlan; logged: RegExp }[] = [
      {
        name: 'HTTP 500 on getQueryResults',
        plan: { rules: [{ endpoint: 'jobs.getQueryResults', kind: 'error', status: 500, count: 2 }] },
        logged: /"reason":"backendError".*"msg":"retrying"/,
      },
      {
        name: 'HTTP 503 on jobs.insert',
        plan: { rules: [{ endpoint: 'jobs.insert', kind: 'error', status: 503, count: 2 }] },
        logged: /"reason":"backendError".*"msg":"retrying"/,
      },
      {
        name: '403 rateLimitExceeded',
        plan: { rules: [{ endpoint: '*', kind: 'error', status: 403, count: 2 }] },
        logged: /"reason":"rateLimitExceeded".*"msg":"retrying"/,
      },
      {
        name: 'a job that fails after it started',
        plan: { rules: [{ endpoint: 'jobs.getQueryResults', kind: 'jobFailure', count: 1 }] },
        logged: /"msg":"the query job failed after it started; running it again"/,
      },
      {
        name: 'a connection reset in the middle of a page',
        plan: { rules: [{ endpoint: 'jobs.getQueryResults', kind: 'reset', fraction: 0.3, count: 1 }] },
        logged: /"reason":"ECONNRESET".*"msg":"retrying"/,
      },
    ];
    for (const { name, plan, logged } of cases) {
      await t.test(name, async (t) => {
        const before = await authorization();
        const logs = await withDaemon(t, name, ['--query-timeout', '20s'], async (mountpoint) => {
          currentEnvironment().emulator.faults.set(plan);
          t.same(await readOne(mountpoint, edgeFile()), { kind: 'exact' }, 'true bytes');
          t.ok(currentEnvironment().emulator.faults.stats().injected >= 1, 'the fault was injected');
        });
        const seen = await requestsSince(before);
        t.equal(seen.withToken, seen.requests, `all ${seen.requests} requests carried the bearer token`);
        t.match(logs, logged, 'the retry is logged');
      });
    }
  });

  await t.test('reads that fail for good: EIO and an error line', async (t) => {
    const cases: { name: string; plan: FaultPlan; timeout: string; logged: RegExp[] }[] = [
      {
        name: 'BigQuery keeps failing',
        plan: { rules: [{ endpoint: 'jobs.getQueryResults', kind: 'error', status: 503 }] },
        // Long enough for the daemon's start-up queries on a loaded machine (the plan is set after).
        timeout: '10s',
        logged: [/"level":50,.*"reason":"backendError".*"msg":"read failed: gave up after \d+ attempts/],
      },
      {
        name: 'access denied',
        plan: { rules: [{ endpoint: 'jobs.insert', kind: 'error', status: 403, reason: 'accessDenied' }] },
        timeout: '20s',
        logged: [/"level":50,.*"reason":"accessDenied".*grant the mounting identity/],
      },
    ];
    for (const { name, plan, timeout, logged } of cases) {
      await t.test(name, async (t) => {
        const logs = await withDaemon(t, name, ['--query-timeout', timeout], async (mountpoint) => {
          currentEnvironment().emulator.faults.set(plan);
          t.same(await readOne(mountpoint, edgeFile()), { kind: 'error', code: 'EIO' });
        });
        for (const pattern of logged) t.match(logs, pattern);
      });
    }
  });

  await t.test('a refused token exchange: the mount fails and says why', async (t) => {
    exchange.setRefusing(true);
    const before = exchange.requests().total;
    const { run, mountpoint } = await spawnMount(t);
    try {
      const code = await Promise.race([run.exited, sleep(60_000).then(() => 'timeout' as const)]);
      t.not(code, 0, `the daemon exits with an error (${String(code)})`);
      t.notOk(await isMounted(mountpoint), 'nothing is mounted');
    } finally {
      if (run.child.exitCode === null) await stopCli(run, [mountpoint]);
      outputs.push({ label: 'refused token exchange', text: run.output() });
    }
    t.ok(exchange.requests().total > before, 'the stub was asked');
    t.match(run.output(), /invalid_grant/, 'the reason is shown');
  });

  await t.test('doctor with the same credentials', async (t) => {
    const env = credentialsEnv({ BQLOGFS_AUTH: 'adc' });
    await t.test('every check passes', async (t) => {
      const before = await authorization();
      const run = await runCli(['doctor', ...storeArgs()], { env });
      outputs.push({ label: 'doctor', text: run.output });
      t.equal(run.code, 0, 'exit 0', { output: run.output });
      t.match(run.output, /^ok +credentials: Application Default Credentials give an access token/m);
      const seen = await requestsSince(before);
      t.ok(seen.requests > 0 && seen.withToken === seen.requests, `all ${seen.requests} requests had the token`);
    });
    await t.test('dry runs denied', async (t) => {
      currentEnvironment().emulator.faults.set({
        rules: [{ endpoint: 'jobs.insert', kind: 'error', status: 403, reason: 'accessDenied' }],
      });
      const run = await runCli(['doctor', ...storeArgs()], { env });
      outputs.push({ label: 'doctor, dry runs denied', text: run.output });
      t.equal(run.code, 1);
      t.match(run.output, /^FAIL +cost of listing one day: .*\n +fix: grant the mounting identity/m);
    });
    await t.test('a refused token exchange', async (t) => {
      exchange.setRefusing(true);
      const run = await runCli(['doctor', ...storeArgs()], { env });
      outputs.push({ label: 'doctor, refused token exchange', text: run.output });
      t.equal(run.code, 1);
      t.match(run.output, /^FAIL +credentials: .*invalid_grant/m);
    });
  });

  await t.test('fetch with --auth adc sends the token', async (t) => {
    const out = await testDir(t, 'secrets-out');
    const cacheDir = await testDir(t, 'secrets-cache');
    const before = await authorization();
    const fetchArgs = ['fetch', 'app', '--namespace', 'shop', '--since', '3d', '--out', out, '--cache-dir', cacheDir];
    const run = await runCli([...fetchArgs, '--auth', 'adc', ...storeArgs()], { env: credentialsEnv() });
    outputs.push({ label: 'fetch', text: run.output });
    t.equal(run.code, 0, 'exit 0', { output: run.output });
    const seen = await requestsSince(before);
    t.ok(seen.requests > 0 && seen.withToken === seen.requests, `all ${seen.requests} requests had the token`);
  });

  await t.test('auto and none send no credentials to the local server', async (t) => {
    for (const mode of ['auto', 'none']) {
      const before = await authorization();
      const exchanges = exchange.requests().total;
      const out = await tempDir('secrets-out');
      const run = await runCli(
        ['fetch', 'app', '--namespace', 'shop', '--since', '3d', '--out', out, '--auth', mode, ...storeArgs()],
        { env: credentialsEnv({ BQLOGFS_CACHE_DIR: join(out, '.cache') }) },
      );
      await removeDir(out);
      t.equal(run.code, 0, `${mode}: exit 0`, { output: run.output });
      const after = await authorization();
      t.ok(after.requests > before.requests, `${mode}: the server was asked`);
      t.equal(after.bearer - before.bearer + after.otherScheme - before.otherScheme, 0, `${mode}: no Authorization`);
      t.equal(exchange.requests().total, exchanges, `${mode}: no token exchange`);
    }
    const doctor = await runCli(['doctor', ...storeArgs()], { env: credentialsEnv({ BQLOGFS_AUTH: 'none' }) });
    t.match(doctor.output, /^skip +credentials: none sent \(--auth none\)/m);
    for (const [args, pattern] of [
      [['--auth', 'none'], /--auth: none needs --api-endpoint/],
      [
        ['--auth', 'bogus', '--api-endpoint', 'http://bq.local:9050'],
        /--auth: takes one of auto, adc, none, not "bogus"/,
      ],
    ] as const) {
      const run = await runCli(['mount', join(workDir, 'unused'), '--project', PROJECT, '--dataset', 'd', ...args], {
        env: { XDG_CONFIG_HOME: workDir },
      });
      t.equal(run.code, 2, args.join(' '));
      t.match(run.output, pattern);
    }
  });

  await t.test('no output holds a token, a secret of the credentials file or an Authorization value', async (t) => {
    const { secrets } = exchange;
    const forbidden = new Map<string, string>([
      ['access token', secrets.accessToken],
      ['subject token', secrets.subjectToken],
      ['client secret', secrets.clientSecret],
      ['client id', secrets.clientId],
      ['Basic credentials', Buffer.from(`${secrets.clientId}:${secrets.clientSecret}`).toString('base64')],
      ['credentials file', await readFile(exchange.credentialsFile, 'utf8')],
    ]);
    // The random part of each secret, so a shortened or re-quoted copy is found too.
    for (const [name, value] of Object.entries(secrets)) {
      forbidden.set(`part of the ${name}`, /[0-9a-f]{36}$/.exec(value)?.[0].slice(0, 16) ?? value);
    }
    const headerValues: [string, RegExp][] = [
      ['a Bearer value', /\bbearer\s+[\w.~+/-]{8,}/i],
      ['a Basic value', /\bbasic\s+[A-Za-z0-9+/]{8,}/i],
      ['an authorization header', /authorization["']?\s*[:=]\s*["']?(?!\[Redacted\])[^\s"',}]{4,}/i],
    ];

    t.ok(outputs.length >= 12, `${outputs.length} outputs collected`);
    let lines = 0;
    for (const { label, text } of outputs) {
      t.ok(text.trim().length > 0, `${label}: output is not empty`);
      lines += text.split('\n').filter((line) => line.trim() !== '').length;
      for (const [name, value] of forbidden) t.notOk(text.includes(value), `${label}: no ${name}`);
      for (const [name, pattern] of headerValues) t.notMatch(text, pattern, `${label}: no ${name}`);
    }
    const all = outputs.map((output) => output.text).join('\n');
    t.match(all, /"level":50,/, 'error lines are among them');
    t.match(all, /"level":40,/, 'warnings are among them');
    t.ok(lines >= 50, `${lines} lines checked`);
    t.ok(faultsInjected >= 7, `${faultsInjected} faults injected`);
    const total = await authorization();
    const withToken = total.bearerBySha256[sha256Hex(secrets.accessToken)] ?? 0;
    t.ok(withToken > 0, `${withToken} requests carried the bearer token`);
    t.equal(total.bearer, withToken, 'no other bearer token reached the server');
    t.comment(
      `${outputs.length} outputs, ${lines} lines checked; ${faultsInjected} faults injected; ` +
        `${withToken} of ${total.requests} requests with the bearer token; ` +
        `${exchange.requests().accepted} token exchanges accepted, ${exchange.requests().total} asked`,
    );
  });
});
