// The daemon's life cycle under stress: killed with SIGKILL in the middle of a fetch, then mounted
// again on the same mountpoint with the same cache; stopped with SIGTERM or SIGINT while reads hang
// on BigQuery; and `bqlogfs unmount` after the daemon is gone. A read gives exactly the true bytes
// or an error, never other bytes and never a hang; the cache never takes a partial file for a whole one.
import t, { type Test } from 'tap';
import { mkdir, readdir, readFile, stat, writeFile, rm } from 'node:fs/promises';
import { basename, join, relative, sep } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { addBulk, BULK, bulkDayDir, bulkHours } from './support/bulk.js';
import { isMounted, runCli, spawnCli, stopCli, stopTheMomentMounted } from './support/cli-process.js';
import { removeDir, startDaemon, tempDir, type Daemon } from './support/daemon.js';
import { fileEnvironment, fixtureArgs, mountFixtures } from './support/environment.js';
import { readAndCompare, type ReadOutcome } from './support/fault-checks.js';
import { sh } from './support/shell.js';
import { readStats, recentQueries } from './support/stats.js';

const currentEnvironment = fileEnvironment(t);
t.before(() => addBulk(currentEnvironment(), ['partitioned']));

async function waitFor(what: string, condition: () => boolean | Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

/** Every file under the cache directory, relative to it. */
async function cacheFiles(cacheDir: string): Promise<string[]> {
  const entries = await readdir(cacheDir, { recursive: true, withFileTypes: true });
  return entries
    .filter((entry) => entry.isFile())
    .map((entry) => relative(cacheDir, join(entry.parentPath, entry.name)));
}

/** A temporary file of an hour being written (not of a manifest being written). */
function isPartialHour(path: string): boolean {
  return /^\.\d\d\.log\..*\.partial$/.test(basename(path));
}

/** The hours a container-day's manifest in the cache records, with their sizes; none before it is written. */
async function recordedHours(cacheDir: string): Promise<Record<string, number>> {
  const path = (await cacheFiles(cacheDir)).find((file) => basename(file) === 'manifest.json');
  if (path === undefined) return {};
  return (JSON.parse(await readFile(join(cacheDir, path), 'utf8')) as { hours: Record<string, number> }).hours;
}

/**
 * Waits until the manifest records `hour`: a read can reach an hour's end (from the file being
 * written) a moment before the hour is recorded.
 */
async function untilRecorded(cacheDir: string, hour: string): Promise<void> {
  await waitFor(`hour ${hour} in the manifest`, async () => (await recordedHours(cacheDir))[hour] !== undefined);
}

/** `<key>/<ns>/<pod>/<container>/<day>/<HH>.log` → `<ns>/<pod>/<container>/<day>/<HH>.log`. */
function logicalPath(cachePath: string): string {
  return cachePath.split(sep).slice(1).join('/');
}

/** Hour files under their real names whose bytes are not exactly the expected ones. */
async function wrongWholeFiles(cacheDir: string, files: Map<string, string>): Promise<string[]> {
  const wrong: string[] = [];
  for (const path of await cacheFiles(cacheDir)) {
    if (!path.endsWith('.log')) continue;
    const expected = files.get(logicalPath(path));
    const actual = await readFile(join(cacheDir, path));
    if (expected === undefined || !actual.equals(Buffer.from(expected))) {
      wrong.push(
        `${path}: ${actual.length} bytes, expected ${expected === undefined ? 'none' : Buffer.byteLength(expected)}`,
      );
    }
  }
  return wrong;
}

/** A read of the mount that must end within `limitMs`; a hang counts as wrong. */
async function boundedRead(path: string, expected: string | undefined, limitMs: number): Promise<ReadOutcome> {
  const hung: ReadOutcome = { kind: 'wrong', detail: `${path}: still blocked after ${limitMs} ms` };
  return Promise.race([readAndCompare(path, expected), sleep(limitMs).then(() => hung)]);
}

async function killHard(daemon: Daemon): Promise<void> {
  const exited = new Promise((resolve) => daemon.process.once('exit', resolve));
  daemon.process.kill('SIGKILL');
  await exited;
}

t.test('kill -9 in the middle of a fetch, then mount again with the same cache', async (t) => {
  const environment = currentEnvironment();
  const { files } = environment;
  const { daemon: first, cacheDir } = await mountFixtures(t, environment, ['--query-timeout', '60s']);
  const mountpoint = first.mountpoint;
  const day = bulkDayDir(environment);
  // Each page of the day's result (2 000 rows of 7 000) takes 1.5 s: the requested hour comes on the
  // first page, the rest of the day on later ones.
  environment.emulator.faults.set({ rules: [{ endpoint: 'jobs.getQueryResults', kind: 'latency', ms: 1_500 }] });
  const requested = `${day}/12.log`;
  t.same(await readAndCompare(join(mountpoint, requested), files.get(requested)), { kind: 'exact' }, 'requested hour');
  await untilRecorded(cacheDir, '12');
  const lastHour = `${day}/23.log`;
  const blocked = boundedRead(join(mountpoint, lastHour), files.get(lastHour), 10_000);
  // The first page ends inside an hour, whose lines wait in a temporary file for the next page.
  await waitFor('a temporary file of the half-fetched hour', async () =>
    (await cacheFiles(cacheDir)).some(isPartialHour),
  );
  await killHard(first);

  // The hour's end may come early, from its last entries (a small hour is all end): then the read
  // is exact; a read still waiting for the fetch fails. Never other bytes, never a hang.
  const blockedOutcome = await blocked;
  t.ok(
    blockedOutcome.kind === 'error' || blockedOutcome.kind === 'exact',
    `a read of an hour not fetched yet is exact or fails: ${JSON.stringify(blockedOutcome)}`,
  );
  const stale = await sh(`stat '${mountpoint}'`);
  t.match(stale.stderr, /Transport endpoint is not connected/, 'the killed daemon left a stale mount');

  const leftAfterCrash = await cacheFiles(cacheDir);
  const partials = leftAfterCrash.filter((path) => path.endsWith('.partial'));
  // Usually an hour is half written when the kill lands; a page can also have just ended on an hour
  // boundary. Either way nothing under a real name may be partial, and everything reads back whole.
  t.comment(`the crash left temporary files: ${partials.map((path) => basename(path)).join(', ') || 'none'}`);
  // Each final hour goes into the manifest as soon as it is written: the requested one is there,
  // and every hour it records has its true size.
  const manifestAfterCrash = leftAfterCrash.find((path) => basename(path) === 'manifest.json');
  const recorded = manifestAfterCrash
    ? (JSON.parse(await readFile(join(cacheDir, manifestAfterCrash), 'utf8')) as { hours: Record<string, number> })
        .hours
    : {};
  t.equal(recorded['12'], Buffer.byteLength(files.get(requested) ?? ''), 'the manifest records the requested hour');
  t.same(
    Object.entries(recorded).filter(
      ([hour, size]) => Buffer.byteLength(files.get(`${day}/${hour.padStart(2, '0')}.log`) ?? '') !== size,
    ),
    [],
    'every hour the manifest records has its true size',
  );
  t.same(await wrongWholeFiles(cacheDir, files), [], 'every hour file under its real name is whole and true');
  const halfFetched = [...new Set(partials.map((path) => /^\.(\d\d)\.log\./.exec(basename(path))?.[1]))];
  t.ok(halfFetched.length <= 1, `at most one hour was being written: ${halfFetched.join(', ')}`);

  environment.emulator.faults.set({ rules: [{ endpoint: 'jobs.getQueryResults', kind: 'latency', ms: 100 }] });
  const second = await startDaemon(first.args, mountpoint);
  t.teardown(() => second.stop());
  // The stale mount is still in /proc/mounts, so startDaemon cannot tell; the daemon says when it has mounted.
  await waitFor(
    'the new daemon to mount',
    () => /"msg":"mounted"/.test(second.logs()) || second.process.exitCode !== null,
  );
  t.equal(second.process.exitCode, null, `the new daemon runs:\n${second.logs()}`);
  t.match(second.logs(), /recovering a stale mount left by a crashed daemon/);

  const half = `${day}/${halfFetched[0] ?? '23'}.log`;
  t.same(await readAndCompare(join(mountpoint, half), files.get(half)), { kind: 'exact' }, `half-fetched ${half}`);
  const outcomes = await Promise.all(
    bulkHours(environment).map((path) => readAndCompare(join(mountpoint, path), files.get(path))),
  );
  t.same(
    outcomes.filter((outcome) => outcome.kind !== 'exact'),
    [],
    `all ${outcomes.length} hours of the day read back exactly`,
  );
  // An hour can be read to its end (from the file being written) a moment before it is in the
  // manifest; the day's fetch ends after its last hour is recorded.
  const findManifest = async () => (await cacheFiles(cacheDir)).find((path) => basename(path) === 'manifest.json');
  await waitFor(
    'every hour in the manifest',
    async () => Object.keys(await recordedHours(cacheDir)).length === bulkHours(environment).length,
  );
  const manifestPath = (await findManifest()) ?? '';
  // Read for the first time now, so the kernel has no stale attributes of it.
  const sweeps = recentQueries(await readStats(mountpoint), 'sweep').filter((query) =>
    query.subject.startsWith(`${BULK.namespace}/`),
  );
  t.equal(sweeps.length, 1, 'the day was fetched again, once');

  const manifest = JSON.parse(await readFile(join(cacheDir, manifestPath), 'utf8')) as {
    hours: Record<string, number>;
  };
  const expectedSizes = Object.fromEntries(
    bulkHours(environment).map((path) => [
      String(Number(basename(path, '.log'))),
      Buffer.byteLength(files.get(path) ?? ''),
    ]),
  );
  t.same(manifest.hours, expectedSizes, 'the manifest records every hour with its true size');
  const after = await cacheFiles(cacheDir);
  t.same(await wrongWholeFiles(cacheDir, files), [], 'every hour file in the cache is whole and true');
  t.same(
    after.filter((path) => path.endsWith('.partial') && !partials.includes(path)),
    [],
    'the new daemon left no temporary file of its own',
  );
  t.same(
    after.filter((path) => path.endsWith('.partial')),
    [],
    'the temporary files of the killed daemon were removed by the new one at once',
  );
  // Before the first daemon's teardown, which would unmount whatever is mounted here.
  await second.stop();
});

t.test('SIGTERM while a fetch goes on in the background leaves no temporary file', async (t) => {
  const environment = currentEnvironment();
  const { files } = environment;
  const { daemon, cacheDir } = await mountFixtures(t, environment, ['--query-timeout', '60s']);
  environment.emulator.faults.set({ rules: [{ endpoint: 'jobs.getQueryResults', kind: 'latency', ms: 1_000 }] });
  const requested = `${bulkDayDir(environment)}/12.log`;
  t.same(await readAndCompare(join(daemon.mountpoint, requested), files.get(requested)), { kind: 'exact' });
  await untilRecorded(cacheDir, '12');
  // The rest of the day is still being fetched, page by page, into a temporary file.
  await waitFor('a temporary file of the background fetch', async () =>
    (await cacheFiles(cacheDir)).some(isPartialHour),
  );
  await daemon.stop();
  t.same(
    (await cacheFiles(cacheDir)).filter((path) => path.endsWith('.partial')),
    [],
    'the stopped daemon removed its temporary files',
  );
  t.same(await wrongWholeFiles(cacheDir, files), [], 'every hour file it left is whole and true');

  // The hour read before the stop is in the manifest already: a new daemon serves it without a query.
  environment.emulator.faults.set({ rules: [] });
  const second = await startDaemon(daemon.args, daemon.mountpoint);
  t.teardown(() => second.stop());
  t.same(await readAndCompare(join(daemon.mountpoint, requested), files.get(requested)), { kind: 'exact' });
  const sweeps = recentQueries(await readStats(daemon.mountpoint), 'sweep');
  t.same(sweeps, [], 'the new daemon served the hour from the cache, without a sweep');
  await second.stop();
});

t.test('a stale mount on a path with a space is recovered too', async (t) => {
  const parent = await tempDir('spaced');
  const mountpoint = join(parent, 'my logs');
  await mkdir(mountpoint);
  const environment = currentEnvironment();
  const args = fixtureArgs(environment);
  const first = await startDaemon(args, mountpoint);
  await killHard(first);
  t.match((await sh(`ls '${mountpoint}'`)).stderr, /Transport endpoint is not connected/, 'stale');
  const second = await startDaemon(args, mountpoint);
  t.teardown(async () => {
    await second.stop();
    await removeDir(parent);
  });
  await waitFor(
    'the new daemon to mount',
    () => /"msg":"mounted"/.test(second.logs()) || second.process.exitCode !== null,
  );
  t.match(second.logs(), /recovering a stale mount/, 'the new daemon cleared it');
  const edge = `shop/web-7d9f8-abcde/app/${environment.fixtures.yesterday}/10.log`;
  t.same(await readAndCompare(join(mountpoint, edge), environment.files.get(edge)), { kind: 'exact' }, 'and serves it');
});

t.test('bqlogfs unmount works after kill -9 and leaves the directory usable', async (t) => {
  const environment = currentEnvironment();
  const { daemon } = await mountFixtures(t, environment);
  const mountpoint = daemon.mountpoint;
  const edge = `shop/web-7d9f8-abcde/app/${environment.fixtures.yesterday}/10.log`;
  t.same(await readAndCompare(join(mountpoint, edge), environment.files.get(edge)), { kind: 'exact' });
  await killHard(daemon);
  t.match((await sh(`ls '${mountpoint}'`)).stderr, /Transport endpoint is not connected/, 'stale');

  const result = await runCli(['unmount', mountpoint]);
  t.equal(result.code, 0, `bqlogfs unmount exits 0: ${result.output}`);
  t.equal(await isMounted(mountpoint), false, 'no longer in /proc/mounts');
  t.ok((await stat(mountpoint)).isDirectory(), 'the mountpoint is a directory again');
  t.same(await readdir(mountpoint), [], 'and empty');
  await writeFile(join(mountpoint, 'probe'), 'x');
  await rm(join(mountpoint, 'probe'));
  t.pass('and writable');
});

/** Reads that hang on BigQuery, a signal, and how long until the mount is gone and the daemon has exited. */
async function stopWhileReading(t: Test, signal: 'SIGTERM' | 'SIGINT'): Promise<void> {
  const environment = currentEnvironment();
  const { files } = environment;
  const { daemon } = await mountFixtures(t, environment, ['--log-level', 'warn']);
  const mountpoint = daemon.mountpoint;
  const { yesterday, dayBefore } = environment.fixtures;
  environment.emulator.faults.set({ rules: [{ endpoint: 'jobs.getQueryResults', kind: 'hang' }] });
  const paths = [
    `shop/web-7d9f8-abcde/app/${yesterday}/10.log`,
    [...files.keys()].find((path) => path.startsWith(`batch/report-28391-xk2p9/worker/${dayBefore}/`)) ?? '',
    [...files.keys()].find((path) => path.startsWith(`kube-system/dns.node-1/dnsmasq/${yesterday}/`)) ?? '',
  ];
  const reads = paths.map((path) => boundedRead(join(mountpoint, path), files.get(path), 10_000));
  const listing = sh(`timeout 10 ls '${mountpoint}/shop'`);
  // Every lookup waits for the window's listing, which is stuck on its first page.
  await waitFor('the listing to hang', () => (environment.emulator.faults.stats().byKind.hang ?? 0) >= 1);
  await sleep(300);

  const exited = new Promise<number | null>((resolve) => daemon.process.once('exit', (code) => resolve(code)));
  const startedAt = performance.now();
  daemon.process.kill(signal);
  let unmountedMs: number | undefined;
  let exitedMs: number | undefined;
  let exitCode: number | null = null;
  void exited.then((code) => {
    exitedMs = performance.now() - startedAt;
    exitCode = code;
  });
  while ((unmountedMs === undefined || exitedMs === undefined) && performance.now() - startedAt < 10_000) {
    if (unmountedMs === undefined && !(await isMounted(mountpoint))) unmountedMs = performance.now() - startedAt;
    await sleep(5);
  }
  t.comment(
    `${signal} with ${paths.length + 1} reads in flight: unmounted after ${unmountedMs?.toFixed(0)} ms, ` +
      `daemon exited after ${exitedMs?.toFixed(0)} ms with code ${exitCode}`,
  );
  t.ok(unmountedMs !== undefined && unmountedMs < 2_000, `unmounted within 2 s (${unmountedMs?.toFixed(0)} ms)`);
  t.ok(exitedMs !== undefined && exitedMs < 2_000, `the daemon exited within 2 s (${exitedMs?.toFixed(0)} ms)`);
  t.equal(exitCode, 0, 'a clean exit');

  const outcomes = await Promise.all(reads);
  t.same(
    outcomes.map((outcome) => outcome.kind),
    paths.map(() => 'error'),
    `the reads in flight ended with an error: ${JSON.stringify(outcomes)}`,
  );
  const listed = await listing;
  t.not(listed.code, 0, `the listing in flight ended with an error: ${listed.stderr.trim()}`);
  t.not(listed.code, 124, 'and did not hang');
  t.same(await readdir(mountpoint), [], 'the mountpoint is an empty directory again');
}

t.test('SIGTERM the moment the mount is up unmounts it, every time', async (t) => {
  const environment = currentEnvironment();
  const mountpoint = await tempDir('mnt');
  t.teardown(() => removeDir(mountpoint));
  for (let attempt = 1; attempt <= 5; attempt++) {
    const run = spawnCli(['mount', mountpoint, ...fixtureArgs(environment), '--log-level', 'warn']);
    t.equal(
      await stopTheMomentMounted(run, mountpoint),
      '0',
      `attempt ${attempt}: the daemon ended with a clean exit, not killed by the signal`,
    );
    t.notOk(await isMounted(mountpoint), `attempt ${attempt}: and left no mount behind`);
    await stopCli(run, [mountpoint]);
  }
});

t.test('SIGTERM unmounts within 2 s while reads are in flight', (t) => stopWhileReading(t, 'SIGTERM'));
t.test('SIGINT unmounts within 2 s while reads are in flight', (t) => stopWhileReading(t, 'SIGINT'));
