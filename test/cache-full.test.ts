// A cache directory that fills up: the read that cannot be cached gets EIO, the cache is not
// corrupted, and reads resume once space is freed.
import t from 'tap';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { removeDir, startDaemon, tempDir } from './support/daemon.js';
import { fileEnvironment, fixtureArgs } from './support/environment.js';
import { sh, shOk } from './support/shell.js';

const currentEnvironment = fileEnvironment(t);

t.test('a full cache gives EIO, stays whole, and recovers', async (t) => {
  const environment = currentEnvironment();
  const cacheDir = await tempDir('small-cache');
  // A 64 KiB file system: room for small hours, not for the hour with the 200 KB line.
  await shOk(`mount -t tmpfs -o size=64k tmpfs ${cacheDir}`);
  t.teardown(async () => {
    await sh(`umount -l ${cacheDir}`);
    await removeDir(cacheDir);
  });
  const mountpoint = await tempDir('mnt');
  const daemon = await startDaemon([...fixtureArgs(environment), '--cache-dir', cacheDir], mountpoint);
  t.teardown(async () => {
    await daemon.stop();
    await removeDir(mountpoint);
  });
  const big = `shop/web-7d9f8-abcde/app/${environment.fixtures.yesterday}/10.log`;
  const failed = await sh(`cat ${big} > /dev/null`, mountpoint);
  t.match(failed.stderr, /Input\/output error/, 'the read that cannot be cached fails');
  t.match(daemon.logs(), /ENOSPC|no space/i, 'and the log says why');

  const leftovers = (await readdir(cacheDir, { recursive: true })).filter((name) => String(name).endsWith('.partial'));
  t.same(leftovers, [], 'no partial file is left behind');
  for (const name of await readdir(cacheDir, { recursive: true })) {
    const path = String(name);
    if (!path.endsWith('.log')) continue;
    const relative = path.split('/').slice(1).join('/');
    t.equal(
      await readFile(join(cacheDir, path), 'utf8'),
      environment.files.get(relative),
      `cached ${relative} is whole`,
    );
  }

  await shOk(`mount -o remount,size=8m ${cacheDir}`);
  t.equal(
    await readFile(join(mountpoint, big), 'utf8'),
    environment.files.get(big),
    'reads resume once space is freed',
  );
});
