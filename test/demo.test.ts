// The demo runs a stable cluster: the pods a user lists keep logging, `tail -F current.log` shows
// their new lines as the demo inserts them, and pods come and go only with a deployment's rollout.
// Ctrl-C or SIGTERM unmounts it, also when it comes while the mount is being set up.
import t from 'tap';
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { isMounted, spawnNode, stopCli, stopTheMomentMounted, waitForMounts } from './support/cli-process.js';
import { testDir } from './support/daemon.js';
import { shOk } from './support/shell.js';

const RUN_DEMO = resolve(import.meta.dirname, 'support/run-demo.ts');
const TICK_MS = 500;

async function names(dir: string): Promise<string[]> {
  return (await shOk(`ls -1 '${dir}'`)).split('\n').filter((name) => name !== '');
}

/** `namespace/pod` of every pod the mount lists. */
async function podsListed(mountpoint: string): Promise<Set<string>> {
  const pods = new Set<string>();
  for (const namespace of await names(mountpoint))
    for (const pod of await names(`${mountpoint}/${namespace}`)) pods.add(`${namespace}/${pod}`);
  return pods;
}

/** `deployment-templatehash` of a pod name. */
const replicaSet = (pod: string) => pod.replace(/-[^-]+$/, '');

t.test('tail -F of current.log shows the same pods logging, tick after tick', async (t) => {
  const mountpoint = await testDir(t, 'demo-mnt');
  const options = { historyHours: 1, liveEveryMs: TICK_MS, refreshMs: 1_000 };
  const demo = spawnNode([RUN_DEMO, mountpoint, JSON.stringify(options)]);
  t.teardown(() => stopCli(demo, [mountpoint]).then(() => undefined));
  await waitForMounts(demo, [mountpoint], 120_000);

  const before = await podsListed(mountpoint);
  t.ok(before.size >= 8, `the cluster has ${before.size} pods`);
  const followed: { container: string; lines: string }[] = [];
  for (const pod of before)
    for (const container of await names(`${mountpoint}/${pod}`)) {
      const tail = spawn('tail', ['-F', '-n', '0', '-s', '0.5', `${pod}/${container}/current.log`], {
        cwd: mountpoint,
        stdio: ['ignore', 'pipe', 'ignore'],
      });
      t.teardown(() => void tail.kill());
      const entry = { container: `${pod}/${container}`, lines: '' };
      tail.stdout.on('data', (chunk: Buffer) => (entry.lines += chunk.toString()));
      followed.push(entry);
    }

  const limitMs = 60_000;
  const started = Date.now();
  let listings = 0;
  const added = new Set<string>();
  const logging = () => followed.filter((entry) => entry.lines.endsWith('\n'));
  const enough = () => logging().length >= 3 && listings >= 5 && Date.now() - started >= 10 * TICK_MS;
  while (!enough() && Date.now() - started < limitMs) {
    await sleep(TICK_MS);
    for (const pod of await podsListed(mountpoint)) if (!before.has(pod)) added.add(pod);
    listings++;
  }
  const seen = logging();
  t.ok(
    seen.length >= 3,
    `${seen.length} of ${followed.length} containers printed new lines within ${Date.now() - started} ms`,
  );
  t.ok(new Set(seen.map((entry) => entry.container.split('/')[1])).size >= 2, 'from more than one pod');
  for (const entry of seen) t.notMatch(entry.lines, /^\n|\n\n/, `${entry.container}: whole lines`);
  t.ok(listings >= 5, `pods listed ${listings} times, over ${Math.round((Date.now() - started) / TICK_MS)} ticks`);
  // A rollout may begin while the test runs (once in many hours): its new pods share one template hash.
  t.ok(added.size === 0 || new Set([...added].map(replicaSet)).size === 1, `no pods invented: ${[...added].join(' ')}`);
});

t.test('SIGTERM the moment the mount is up unmounts it, every time', async (t) => {
  const mountpoint = await testDir(t, 'demo-mnt');
  // The demo's own temporary files (its disk cache) go here, to be counted once it has stopped.
  const temporary = await testDir(t, 'demo-tmp');
  const options = { historyHours: 1, liveEveryMs: 60_000, refreshMs: 1_000 };
  for (let attempt = 1; attempt <= 3; attempt++) {
    const demo = spawnNode([RUN_DEMO, mountpoint, JSON.stringify(options)], { env: { TMPDIR: temporary } });
    t.equal(
      await stopTheMomentMounted(demo, mountpoint),
      '0',
      `attempt ${attempt}: the demo ended with a clean exit, not killed by the signal`,
    );
    t.notOk(await isMounted(mountpoint), `attempt ${attempt}: and left no mount behind`);
    const caches = (await names(temporary)).filter((name) => name.startsWith('bqlogfs-demo-cache-'));
    t.same(caches, [], `attempt ${attempt}: nor its disk cache`);
    await stopCli(demo, [mountpoint]);
  }
});
