// A host with fuse3 has `fusermount3` and no `fusermount`. These runs give the daemon and
// `bqlogfs unmount` a PATH whose only program is `fusermount3` (this machine's fusermount under that
// name; both take the same arguments): the mount must come up, serve, and go away again, and
// `bqlogfs unmount` must use fusermount3.
import { mkdtemp, readlink, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { isMounted, runCli, spawnCli, stopCli, waitForMounts } from './support/cli-process.js';
import { tempMountDirs } from './support/daemon.js';
import { fileEnvironment, fixtureArgs } from './support/environment.js';
import { shOk } from './support/shell.js';

const currentEnvironment = fileEnvironment(t);

/** A directory holding `fusermount3` and nothing else, removed when the test ends. */
async function fuse3OnlyPath(t: Test): Promise<{ dir: string; fusermount: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'bqlogfs-fuse3-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const fusermount = (await shOk('command -v fusermount')).trim();
  await symlink(fusermount, join(dir, 'fusermount3'));
  return { dir, fusermount };
}

t.test('the daemon mounts, serves and unmounts with only fusermount3 on PATH', async (t) => {
  const environment = currentEnvironment();
  const { dir } = await fuse3OnlyPath(t);
  const { mountpoint, cacheDir } = await tempMountDirs(t);
  const args = ['mount', mountpoint, ...fixtureArgs(environment), '--cache-dir', cacheDir];
  const run = spawnCli(args, { env: { PATH: dir } });
  t.teardown(() => stopCli(run, [mountpoint]).then(() => undefined));
  await waitForMounts(run, [mountpoint]);
  t.equal(await readlink(join(cacheDir, 'bin', 'fusermount')), join(dir, 'fusermount3'), 'fusermount links to it');
  t.match(run.output(), /no fusermount on PATH: libfuse 2 and fuse-native run this one through a link/);

  const path = `shop/web-7d9f8-abcde/app/${environment.fixtures.yesterday}/10.log`;
  t.equal(await shOk(`cat '${join(mountpoint, path)}'`), environment.files.get(path), 'serves the hour file');

  run.child.kill('SIGTERM');
  t.equal(await run.exited, 0, `exits 0 after unmounting: ${run.output()}`);
  t.equal(await isMounted(mountpoint), false, 'the mount is gone');
});

t.test('bqlogfs unmount uses fusermount3 when that is what the host has', async (t) => {
  const environment = currentEnvironment();
  const { dir } = await fuse3OnlyPath(t);
  const { mountpoint, cacheDir } = await tempMountDirs(t);
  const daemon = spawnCli(['mount', mountpoint, ...fixtureArgs(environment), '--cache-dir', cacheDir]);
  t.teardown(() => stopCli(daemon, [mountpoint]).then(() => undefined));
  await waitForMounts(daemon, [mountpoint]);

  const result = await runCli(['unmount', mountpoint], { env: { PATH: dir } });
  t.equal(result.code, 0, result.output);
  t.equal(await isMounted(mountpoint), false, 'no longer mounted');
});

t.test('bqlogfs unmount on a directory that is not mounted says so', async (t) => {
  const { mountpoint } = await tempMountDirs(t);
  const result = await runCli(['unmount', mountpoint]);
  t.equal(result.code, 1);
  t.match(result.stderr, new RegExp(`^bqlogfs: ${mountpoint} is not mounted\\n$`));
});
