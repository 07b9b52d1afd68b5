// A reader killed while its request waits for BigQuery exits at once, not when the query ends:
// the patched fuse-native answers the kernel's interrupt (patches/README.md). A reader that was not
// killed still gets the exact bytes once the query answers, and the daemon goes on serving.
import t from 'tap';
import { readdir, readFile, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { SHARED_READER_IDLE_MS } from '../src/store/shared-readers.js';
import { fileEnvironment, mountFixtures } from './support/environment.js';
import { readAndCompare } from './support/fault-checks.js';
import { mountedInterruptible, startCat, waitsOnFuse } from './support/readers.js';

const environment = fileEnvironment(t);

/** How long the fetch stalls: long enough that only an interrupt can let a reader go before it ends. */
const STALL_MS = 30_000;
/** The goal is 1 s; the bound leaves room for a loaded machine. */
const EXIT_BOUND_MS = 5_000;
/** How long the refresh an open waits for stalls in the last test. */
const OPEN_STALL_MS = 4_000;
/** Longer than a final file's shared descriptor stays open after its last reader. */
const SHARED_IDLE_WAIT_MS = SHARED_READER_IDLE_MS + 1_000;

t.test('a reader killed while its query stalls exits at once; the others get the exact bytes', async (t) => {
  const { files, fixtures, emulator } = environment();
  const mount = await mountFixtures(t, environment(), ['--query-timeout', '60s']);
  const root = mount.daemon.mountpoint;
  t.equal(await mountedInterruptible(mount.daemon), true, 'the patched fuse-native is loaded (its mounted line)');

  // Three hours in three directories of one namespace, which one fetch of the day serves. (With
  // libfuse 2 the kernel lets one lookup at a time into a directory: the others would queue there.)
  const day = fixtures.yesterday;
  const interruptedPath = `shop/web-7d9f8-abcde/app/${day}/09.log`;
  const killedPath = `shop/web-7d9f8-fghij/nginx/${day}/11.log`;
  const path = `shop/web-7d9f8-abcde/nginx/${day}/10.log`;
  // The listings first, so that the day's fetch is the first request the stall holds.
  for (const file of [interruptedPath, killedPath, path]) await readdir(join(root, file, '..'));
  emulator.faults.set({ rules: [{ endpoint: '*', kind: 'latency', ms: STALL_MS, count: 1 }] });

  const interrupted = startCat(join(root, interruptedPath));
  const killed = startCat(join(root, killedPath));
  const survivor = startCat(join(root, path));
  for (const reader of [interrupted, killed, survivor]) {
    t.ok(await waitsOnFuse(reader.child.pid ?? 0), `reader ${reader.child.pid} waits on the mount`);
  }

  for (const [reader, signal] of [
    [interrupted, 'SIGINT'],
    [killed, 'SIGKILL'],
  ] as const) {
    const sentAt = Date.now();
    reader.child.kill(signal);
    const waitedMs = (await reader.exited) - sentAt;
    t.ok(waitedMs <= EXIT_BOUND_MS, `${signal}: the reader exited after ${waitedMs} ms`);
    t.equal(reader.child.signalCode, signal, `${signal} ended it`);
    t.equal(survivor.child.exitCode, null, 'the other reader still waits for the query');
  }

  await survivor.exited;
  t.equal(survivor.child.exitCode, 0, 'the reader that was not killed succeeded');
  t.ok(Buffer.concat(survivor.output).equals(Buffer.from(files.get(path) ?? '')), 'and got the exact bytes');
  t.equal(emulator.faults.stats().byKind.latency, 1, 'the stall happened');

  t.equal(mount.daemon.process.exitCode, null, 'the daemon is still running');
  const other = [...files.keys()].find((file) => file.includes(`/${fixtures.dayBefore}/`)) ?? '';
  t.same(await readAndCompare(join(root, other), files.get(other)), { kind: 'exact' }, `${other} is served`);
  t.same(await readAndCompare(join(root, path), files.get(path)), { kind: 'exact' }, `${path} is served again`);
});

/** The daemon's open descriptors of files in its cache directory. */
async function cacheDescriptors(pid: number, cacheDir: string): Promise<string[]> {
  const fds = await readdir(`/proc/${pid}/fd`);
  const targets = await Promise.all(fds.map((fd) => readlink(`/proc/${pid}/fd/${fd}`).catch(() => '')));
  return targets.filter((target) => target.startsWith(cacheDir)).sort();
}

t.test('an open answered after its reader was killed is let go: no reader or descriptor left behind', async (t) => {
  const { emulator } = environment();
  const mount = await mountFixtures(t, environment(), ['--query-timeout', '60s', '--refresh', '1s']);
  const root = mount.daemon.mountpoint;
  const pid = mount.daemon.process.pid ?? 0;
  t.equal(await mountedInterruptible(mount.daemon), true, 'the patched fuse-native is loaded (its mounted line)');
  // The hour still filling: its open fetches it again once its snapshot is older than --refresh.
  const live = join(root, 'shop/web-7d9f8-abcde/nginx/current.log');
  t.match(await readFile(live, 'utf8'), /from the hour that is still filling/, 'the live hour is read once');
  await sleep(SHARED_IDLE_WAIT_MS);
  const before = await cacheDescriptors(pid, mount.cacheDir);

  emulator.faults.set({ rules: [{ endpoint: '*', kind: 'latency', ms: OPEN_STALL_MS, count: 1 }] });
  const killed = startCat(live);
  // Only the open refreshes the hour: once its query stalls, the open is what the reader waits on.
  // (Killed any earlier, on a lookup that a busy machine made slow, it would never open.)
  const stalled = async () => emulator.faults.stats().byKind.latency === 1;
  for (let waited = 0; !(await stalled()) && waited < OPEN_STALL_MS; waited += 20) await sleep(20);
  t.ok(await stalled(), 'the open waits for the refresh, which stalls');
  t.ok(await waitsOnFuse(killed.child.pid ?? 0), 'the reader waits on its open');
  const sentAt = Date.now();
  killed.child.kill('SIGKILL');
  t.ok((await killed.exited) - sentAt <= EXIT_BOUND_MS, 'and exits at once when killed');

  // The refresh ends after the stall, the daemon's open then answers, too late for the kernel.
  await sleep(OPEN_STALL_MS + SHARED_IDLE_WAIT_MS);
  t.same(await cacheDescriptors(pid, mount.cacheDir), before, 'the daemon holds no more cache files than before');
  t.match(await readFile(live, 'utf8'), /from the hour that is still filling/, 'and serves the live hour again');
  t.equal(mount.daemon.process.exitCode, null, 'the daemon is still running');
});
