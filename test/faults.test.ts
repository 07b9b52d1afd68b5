// Faults of the local BigQuery server, one kind at a time, against a real mount: a read gives
// exactly the true bytes (the retry worked) or EIO (it gave up), never other bytes; the daemon
// stays up; the cache holds no partial file. Plus the fault plan's own HTTP surface. Which failures
// count as transient, and the waits between attempts, are in retry-policy.test.ts.
import t, { type Test } from 'tap';
import { join } from 'node:path';
import { datasetFor, environmentPool, mountFixtures, PROJECT, type Environment } from './support/environment.js';
import type { TempMount } from './support/daemon.js';
import { cacheProblems, readAndCompare, type ReadOutcome } from './support/fault-checks.js';
import type { FaultPlan } from '../src/emulator/fault-plan.js';
import { addBulk, bulkHours } from './support/bulk.js';
import { serverStats } from './support/stats.js';

// Most of a case's time goes to starting a daemon and to the waits of its retries. The cases of the
// larger groups run two at a time, each with a server of its own, so that its fault plan and query
// counts are its alone. Tests that time how long giving up takes run alone.
const RUNNING_AT_ONCE = 2;
const serverFor = environmentPool(t, RUNNING_AT_ONCE, (environment) => addBulk(environment, ['partitioned']));

function edgeFile(environment: Environment): string {
  return `shop/web-7d9f8-abcde/app/${environment.fixtures.yesterday}/10.log`;
}

async function queriesRun(environment: Environment): Promise<number> {
  return (await serverStats(environment.emulator.url)).queries;
}

/**
 * With a short --query-timeout, a loaded machine can make the daemon's own start-up queries time out:
 * it then exits saying so, as it should. That is not what these tests are about, so start it again.
 */
async function mountTolerantOfSlowStart(mount: () => Promise<TempMount>): Promise<TempMount> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await mount();
    } catch (error) {
      if (attempt === 3 || !/query timed out/.test(String(error))) throw error;
    }
  }
}

/** Mounts, sets the plan, reads `paths`; checks the daemon and the cache afterwards. */
async function readUnder(
  t: Test,
  environment: Environment,
  plan: FaultPlan,
  paths: string[],
  queryTimeout = '20s',
  extraArgs: string[] = [],
): Promise<{ outcomes: ReadOutcome[]; elapsedMs: number; mount: TempMount }> {
  const { files } = environment;
  const mount = await mountTolerantOfSlowStart(() =>
    mountFixtures(t, environment, ['--query-timeout', queryTimeout, '--log-level', 'debug', ...extraArgs]),
  );
  environment.emulator.faults.set(plan);
  const startedAt = Date.now();
  const outcomes: ReadOutcome[] = [];
  for (const path of paths) outcomes.push(await readAndCompare(join(mount.daemon.mountpoint, path), files.get(path)));
  const elapsedMs = Date.now() - startedAt;
  t.same(
    outcomes.filter((outcome) => outcome.kind === 'wrong'),
    [],
    'no read returned other bytes than the truth',
  );
  t.equal(mount.daemon.process.exitCode, null, 'daemon still running');
  t.same(await cacheProblems(mount.cacheDir, files), [], 'the cache holds only whole, true files');
  return { outcomes, elapsedMs, mount };
}

const exact: ReadOutcome = { kind: 'exact' };

t.test('faults that a retry gets past give the true bytes', async (t) => {
  const cases: { name: string; plan: FaultPlan; kind: string }[] = [
    { name: 'latency', plan: { rules: [{ endpoint: '*', kind: 'latency', ms: 150 }] }, kind: 'latency' },
    {
      name: '500 backendError on getQueryResults',
      plan: { rules: [{ endpoint: 'jobs.getQueryResults', kind: 'error', status: 500, count: 2 }] },
      kind: 'error',
    },
    {
      name: '503 backendError on jobs.insert',
      plan: { rules: [{ endpoint: 'jobs.insert', kind: 'error', status: 503, count: 2 }] },
      kind: 'error',
    },
    {
      name: '403 rateLimitExceeded',
      plan: { rules: [{ endpoint: '*', kind: 'error', status: 403, count: 2 }] },
      kind: 'error',
    },
    { name: '429', plan: { rules: [{ endpoint: '*', kind: 'error', status: 429, count: 2 }] }, kind: 'error' },
    {
      name: 'jobComplete: false for 3 polls',
      plan: { rules: [{ endpoint: 'jobs.getQueryResults', kind: 'jobIncomplete', count: 3 }] },
      kind: 'jobIncomplete',
    },
    {
      name: 'connection reset in the middle of a page',
      plan: { rules: [{ endpoint: 'jobs.getQueryResults', kind: 'reset', fraction: 0.3, count: 1 }] },
      kind: 'reset',
    },
    {
      name: 'a job that fails after it started',
      plan: { rules: [{ endpoint: 'jobs.getQueryResults', kind: 'jobFailure', count: 1 }] },
      kind: 'jobFailure',
    },
    {
      name: 'a job that fails as it is created',
      plan: { rules: [{ endpoint: 'jobs.insert', kind: 'jobFailure', count: 1 }] },
      kind: 'jobFailure',
    },
  ];
  t.jobs = RUNNING_AT_ONCE;
  for (const { name, plan, kind } of cases) {
    t.test(name, async (t) => {
      const environment = await serverFor(t);
      const { outcomes } = await readUnder(t, environment, plan, [edgeFile(environment)]);
      t.same(outcomes, [exact], 'true bytes');
      t.ok((environment.emulator.faults.stats().byKind[kind] ?? 0) >= 1, `a ${kind} fault was injected`);
    });
  }
});

t.test('an insert whose answer is lost is not run twice', async (t) => {
  const environment = await serverFor(t);
  const before = await queriesRun(environment);
  const plan: FaultPlan = { rules: [{ endpoint: 'jobs.insert', kind: 'reset', count: 1 }] };
  const { outcomes } = await readUnder(t, environment, plan, [edgeFile(environment)]);
  t.same(outcomes, [exact], 'true bytes');
  t.equal(environment.emulator.faults.stats().byKind.reset, 1);
  // The window's listing and the namespace's sweep, each run once.
  t.equal((await queriesRun(environment)) - before, 2, 'the retried insert found the job the lost one created');
});

t.test('a page that never arrives is asked for again', async (t) => {
  const environment = await serverFor(t);
  // --query-timeout 12s: each request may take 3 s, which leaves room for another attempt.
  const { outcomes, elapsedMs } = await readUnder(
    t,
    environment,
    { rules: [{ endpoint: 'jobs.getQueryResults', kind: 'hang', count: 1 }] },
    [edgeFile(environment)],
    '12s',
  );
  t.same(outcomes, [exact], 'true bytes');
  t.ok(elapsedMs >= 2_500 && elapsedMs < 12_000, `gave up on the hung request after its limit (${elapsedMs} ms)`);
});

t.test('a failure on a later page: that page again, or the whole job again', async (t) => {
  const cases: { name: string; plan: FaultPlan; reruns: number }[] = [
    {
      name: 'reset on page 2 asks for page 2 again',
      plan: { rules: [{ endpoint: 'jobs.getQueryResults', kind: 'reset', after: 1, count: 1 }] },
      reruns: 0,
    },
    {
      name: '503 on page 2 asks for page 2 again',
      plan: { rules: [{ endpoint: 'jobs.getQueryResults', kind: 'error', status: 503, after: 1, count: 2 }] },
      reruns: 0,
    },
    {
      name: 'a job failing on page 2 runs again, and what was received is dropped',
      // The listing's page, the sweep's first page and its index come first: the job fails while the
      // day's rows are being read from its result, after some were handed over.
      plan: { rules: [{ endpoint: 'jobs.getQueryResults', kind: 'jobFailure', after: 4, count: 1 }] },
      reruns: 1,
    },
  ];
  t.jobs = RUNNING_AT_ONCE;
  for (const { name, plan, reruns } of cases) {
    t.test(name, async (t) => {
      const environment = await serverFor(t);
      const before = await queriesRun(environment);
      // The first read starts the day's fetch; the last hours come on the last page. The kept
      // result is read as REST pages here; the Storage Read API's own faults are tested below.
      const { outcomes, mount } = await readUnder(t, environment, plan, bulkHours(environment), '20s', [
        '--read-api',
        'rest',
      ]);
      t.same(
        outcomes.filter((outcome) => outcome.kind !== 'exact'),
        [],
        'every hour of the day has its true bytes',
      );
      t.equal(environment.emulator.faults.stats().injected, plan.rules[0]?.count);
      // The window's listing, the namespace's sweep, and the sweep again for each job that failed.
      t.equal((await queriesRun(environment)) - before, 2 + reruns, `${reruns} re-runs of the query`);
      if (reruns > 0) t.match(mount.daemon.logs(), /"discarded":[1-9]\d*,"msg":"the query job failed after it started/);
    });
  }
});

t.test(
  'the Storage Read API: a stream that breaks, ends early or is refused is read again from where it stopped',
  async (t) => {
    const cases: { name: string; plan: FaultPlan; kind: string }[] = [
      {
        name: 'a stream reset after its first batch',
        plan: { rules: [{ endpoint: 'storage.readRows', kind: 'streamReset', afterBatches: 1, count: 2 }] },
        kind: 'streamReset',
      },
      {
        name: 'a stream that ends early with status OK',
        plan: { rules: [{ endpoint: 'storage.readRows', kind: 'streamEnd', afterBatches: 1, count: 2 }] },
        kind: 'streamEnd',
      },
      {
        name: 'a stream refused with RESOURCE_EXHAUSTED',
        plan: { rules: [{ endpoint: 'storage.readRows', kind: 'error', status: 429, after: 1, count: 2 }] },
        kind: 'error',
      },
      {
        name: 'a read session refused with UNAVAILABLE',
        plan: { rules: [{ endpoint: 'storage.createReadSession', kind: 'error', status: 503, count: 1 }] },
        kind: 'error',
      },
    ];
    t.jobs = RUNNING_AT_ONCE;
    for (const { name, plan, kind } of cases) {
      t.test(name, async (t) => {
        const environment = await serverFor(t);
        const before = await queriesRun(environment);
        const { outcomes, mount } = await readUnder(t, environment, plan, bulkHours(environment));
        t.same(
          outcomes.filter((outcome) => outcome.kind !== 'exact'),
          [],
          'every hour of the day has its true bytes',
        );
        t.ok((environment.emulator.faults.stats().byKind[kind] ?? 0) >= 1, `a ${kind} fault was injected`);
        t.equal(
          (await queriesRun(environment)) - before,
          2,
          'the kept result is read again, the query is not run again',
        );
        t.notMatch(mount.daemon.logs(), /Storage Read API cannot be used/);
      });
    }

    t.test('a Storage Read API the identity may not use: REST pages, said once', async (t) => {
      const environment = await serverFor(t);
      const before = await queriesRun(environment);
      const plan: FaultPlan = {
        rules: [{ endpoint: 'storage.createReadSession', kind: 'error', status: 403, reason: 'accessDenied' }],
      };
      const { outcomes, mount } = await readUnder(t, environment, plan, bulkHours(environment));
      t.same(
        outcomes.filter((outcome) => outcome.kind !== 'exact'),
        [],
        'every hour of the day has its true bytes',
      );
      t.equal((await queriesRun(environment)) - before, 2, 'no query runs again');
      const fallbacks = mount.daemon.logs().match(/Storage Read API cannot be used/g) ?? [];
      t.equal(fallbacks.length, 1, 'the fallback is logged once');
      t.match(mount.daemon.logs(), /roles\/bigquery\.readSessionUser/);
    });
  },
);

t.test('giving up: EIO, one clear log line, and the daemon stays up', async (t) => {
  await t.test('BigQuery keeps failing', async (t) => {
    const environment = await serverFor(t);
    const { outcomes, elapsedMs, mount } = await readUnder(
      t,
      environment,
      { rules: [{ endpoint: 'jobs.getQueryResults', kind: 'error', status: 503 }] },
      [edgeFile(environment)],
      '4s',
    );
    t.same(outcomes, [{ kind: 'error', code: 'EIO' }]);
    t.ok(elapsedMs < 9_000, `gave up within the query timeout (${elapsedMs} ms)`);
    t.match(mount.daemon.logs(), /read failed: gave up after \d+ attempts/);
    t.match(mount.daemon.logs(), /"reason":"backendError"/);
  });
  await t.test('every page hangs', async (t) => {
    const environment = await serverFor(t);
    const { outcomes, elapsedMs, mount } = await readUnder(
      t,
      environment,
      { rules: [{ endpoint: 'jobs.getQueryResults', kind: 'hang' }] },
      [edgeFile(environment)],
      '4s',
    );
    t.same(outcomes, [{ kind: 'error', code: 'EIO' }]);
    t.ok(elapsedMs < 9_000, `gave up within the query timeout (${elapsedMs} ms)`);
    t.match(mount.daemon.logs(), /"reason":"timeout"/);
  });
  await t.test('a final error is not retried', async (t) => {
    const environment = await serverFor(t);
    const { outcomes, mount } = await readUnder(
      t,
      environment,
      { rules: [{ endpoint: 'jobs.insert', kind: 'error', status: 403, reason: 'accessDenied' }] },
      [edgeFile(environment)],
    );
    t.same(outcomes, [{ kind: 'error', code: 'EIO' }]);
    t.equal(environment.emulator.faults.stats().injected, 1, 'asked once');
    t.match(mount.daemon.logs(), /grant the mounting identity/);
    environment.emulator.faults.clear();
    const edge = edgeFile(environment);
    const again = await readAndCompare(join(mount.daemon.mountpoint, edge), environment.files.get(edge));
    t.same(again, exact, 'the next read tries again and succeeds');
  });
});

/** The address of the partitioned dataset's tables.list. */
function tablesUrl(environment: Environment): string {
  return `${environment.emulator.url}/bigquery/v2/projects/${PROJECT}/datasets/${datasetFor('partitioned')}/tables`;
}

t.test('the fault plan over HTTP', async (t) => {
  const environment = await serverFor(t);
  const url = `${environment.emulator.url}/emulator/faults`;
  const tables = tablesUrl(environment);
  const set = await fetch(url, {
    method: 'POST',
    body: JSON.stringify({ rules: [{ endpoint: 'tables.list', kind: 'error', status: 503, count: 1 }] }),
  });
  t.equal(set.status, 200);
  const failed = await fetch(tables);
  t.equal(failed.status, 503);
  t.same(await failed.json(), {
    error: {
      code: 503,
      message: 'The service is currently unavailable. Please retry the request.',
      errors: [
        {
          message: 'The service is currently unavailable. Please retry the request.',
          domain: 'global',
          reason: 'backendError',
        },
      ],
      status: 'UNAVAILABLE',
    },
  });
  t.equal((await fetch(tables)).status, 200, 'count 1: the next request passes');
  const counters = (await (await fetch(url)).json()) as { injected: number; byEndpoint: Record<string, number> };
  t.equal(counters.injected, 1);
  t.same(counters.byEndpoint, { 'tables.list': 1 });

  await fetch(url, { method: 'POST', body: JSON.stringify({ rules: [{ endpoint: 'tables.list', kind: 'reset' }] }) });
  await t.rejects(
    fetch(tables).then((response) => response.text()),
    'a reset cuts the body short',
  );
  t.equal((await fetch(url, { method: 'DELETE' })).status, 204);
  t.equal((await fetch(tables)).status, 200, 'cleared');

  const invalid = await fetch(url, {
    method: 'POST',
    body: JSON.stringify({ rules: [{ endpoint: 'x', kind: 'hang' }] }),
  });
  t.equal(invalid.status, 400);
});

t.test('probabilistic faults follow the seed', async (t) => {
  const environment = await serverFor(t);
  const tables = tablesUrl(environment);
  const pattern = async (seed: number): Promise<string> => {
    environment.emulator.faults.set({
      seed,
      rules: [{ endpoint: 'tables.list', kind: 'error', status: 500, probability: 0.5 }],
    });
    let statuses = '';
    for (let n = 0; n < 40; n++) statuses += (await fetch(tables)).status === 200 ? '.' : 'x';
    return statuses;
  };
  const first = await pattern(7);
  t.equal(await pattern(7), first, 'same seed, same faults');
  t.not(await pattern(8), first, 'another seed, other faults');
  t.ok(first.includes('x') && first.includes('.'), `about half fail: ${first}`);
});
