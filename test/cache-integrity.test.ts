// A damaged disk cache is never served: a daemon mounts a cache that an earlier daemon filled and
// that was then damaged on disk (a flipped byte, a file cut short, another hour's file of the same
// size in place of the right one), and every hour still reads back exactly as the data says. A
// damaged file is caught by the checksum its day's manifest recorded when the file was written
// (or by its size), removed, fetched again, and the daemon says so in its log.
import t, { type Test } from 'tap';
import { copyFile, readdir, readFile, truncate, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { addBulk, BULK, bulkDayDir, bulkHours } from './support/bulk.js';
import { startDaemon, tempMountDirs } from './support/daemon.js';
import { fileEnvironment, fixtureArgs, type Environment } from './support/environment.js';
import { readAndCompare } from './support/fault-checks.js';
import { readStats, recentQueries } from './support/stats.js';

const currentEnvironment = fileEnvironment(t);
t.before(() => addBulk(currentEnvironment(), ['partitioned']));

async function waitFor(what: string, condition: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

/** Reads every hour of the bulk day through the mount; returns those that did not read back exactly. */
async function wrongHours(environment: Environment, mountpoint: string, first?: string): Promise<string[]> {
  const hours = bulkHours(environment);
  const ordered = first === undefined ? hours : [first, ...hours.filter((path) => path !== first)];
  const wrong: string[] = [];
  for (const path of ordered) {
    const outcome = await readAndCompare(join(mountpoint, path), environment.files.get(path));
    if (outcome.kind !== 'exact') wrong.push(`${path}: ${JSON.stringify(outcome)}`);
  }
  return wrong;
}

/** Where the cache keeps an hour file of the bulk day: `<cacheDir>/<key>/<namespace>/…/<HH>.log`. */
async function cachedPath(cacheDir: string, environment: Environment, hourPath: string): Promise<string> {
  const [key] = await readdir(cacheDir);
  return join(cacheDir, key ?? '', bulkDayDir(environment), basename(hourPath));
}

type Damage = (file: string, environment: Environment, cacheDir: string) => Promise<void>;

/** Fills a cache, damages one hour file of it, and mounts it again: every hour must read back exactly. */
async function servesTheTruth(
  t: Test,
  damage: Damage,
  pickHour: (environment: Environment) => string,
  caughtBy: 'checksum' | 'size',
) {
  const environment = currentEnvironment();
  const { mountpoint, cacheDir } = await tempMountDirs(t);
  const args = [...fixtureArgs(environment), '--cache-dir', cacheDir];
  const first = await startDaemon(args, mountpoint);
  t.same(await wrongHours(environment, mountpoint), [], 'the first daemon reads every hour exactly');
  const manifest = join(await cachedPath(cacheDir, environment, '00.log'), '..', 'manifest.json');
  // The manifest grows hour by hour as the day is written: wait until it records them all.
  const hoursOfDay = bulkHours(environment).length;
  await waitFor('the manifest of the whole day', () =>
    readFile(manifest, 'utf8').then(
      (text) => Object.keys((JSON.parse(text) as { hours: object }).hours).length === hoursOfDay,
      () => false,
    ),
  );
  await first.stop();

  const victim = pickHour(environment);
  const victimFile = await cachedPath(cacheDir, environment, victim);
  const before = await readFile(victimFile);
  await damage(victimFile, environment, cacheDir);
  const after = await readFile(victimFile);
  t.notOk(before.equals(after), `${victim} is damaged in the cache`);

  const second = await startDaemon(args, mountpoint);
  t.teardown(() => second.stop());
  t.same(await wrongHours(environment, mountpoint, victim), [], 'the second daemon reads every hour exactly');
  const sweeps = recentQueries(await readStats(mountpoint), 'sweep').filter((query) =>
    query.subject.startsWith(`${BULK.namespace}/`),
  );
  t.equal(sweeps.length, 1, 'the damaged hour was fetched again, with one query');
  t.same(
    await readFile(victimFile),
    Buffer.from(environment.files.get(victim) ?? ''),
    'the cache holds it whole again',
  );
  const warnings = second
    .logs()
    .split('\n')
    .filter((line) => line.includes('does not match the checksum'));
  if (caughtBy === 'checksum') {
    t.equal(warnings.length, 1, 'the daemon logs the damage once');
    t.match(JSON.parse(warnings[0] ?? '{}'), { level: 40, path: victim });
  } else {
    t.same(warnings, [], 'a size that does not match the manifest already discards the day');
  }
  await second.stop();
}

/** The first of two hours of the bulk day whose files have the same size but different bytes. */
function twinHours(environment: Environment): [string, string] {
  const bySize = new Map<number, string>();
  for (const path of bulkHours(environment)) {
    const size = Buffer.byteLength(environment.files.get(path) ?? '');
    const twin = bySize.get(size);
    if (twin !== undefined) return [twin, path];
    bySize.set(size, path);
  }
  throw new Error('the bulk day has no two hour files of the same size');
}

const middleHour = (environment: Environment) => bulkHours(environment)[12] ?? '';

t.test('a flipped byte is caught by the checksum', (t) =>
  servesTheTruth(
    t,
    async (file) => {
      const bytes = await readFile(file);
      const at = Math.floor(bytes.length / 2);
      bytes.writeUInt8(bytes.readUInt8(at) ^ 0x01, at);
      await writeFile(file, bytes);
    },
    middleHour,
    'checksum',
  ),
);

t.test('a file cut short is caught by its size', (t) =>
  servesTheTruth(t, (file) => truncate(file, 100), middleHour, 'size'),
);

t.test("another hour's file of the same size is caught by the checksum", (t) =>
  servesTheTruth(
    t,
    async (file, environment, cacheDir) => {
      const [, other] = twinHours(environment);
      await copyFile(await cachedPath(cacheDir, environment, other), file);
    },
    (environment) => twinHours(environment)[0],
    'checksum',
  ),
);
