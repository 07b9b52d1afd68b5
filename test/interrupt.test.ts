// A reader killed while its request waits for BigQuery exits at once, not when the query ends:
// the patched fuse-native answers the kernel's interrupt (patches/README.md). A reader that was not
// killed still gets the exact bytes once the query answers, and the daemon goes on serving.
import t from 'tap';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fileEnvironment, mountFixtures } from './support/environment.js';
import { readAndCompare } from './support/fault-checks.js';
import { mountedInterruptible, startCat, waitsOnFuse } from './support/readers.js';

const environment = fileEnvironment(t);

/** How long the fetch stalls: long enough that only an interrupt can let a reader go before it ends. */
const STALL_MS = 30_000;
/** The goal is 1 s; the bound leaves room for a loaded machine. */
const EXIT_BOUND_MS = 5_000;

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
