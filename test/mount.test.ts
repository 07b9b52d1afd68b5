// The core promise: through the mount, the usual tools print exactly what they print on plain files
// holding the same lines. Runs against both table layouts a sink can produce.
import t, { type Test } from 'tap';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { removeDir, startDaemon, tempDir } from './support/daemon.js';
import { fileEnvironment, LAYOUTS, mountFixtures } from './support/environment.js';
import { sh, shOk } from './support/shell.js';
import { readStats, recentQueries, settledStats } from './support/stats.js';

const currentEnvironment = fileEnvironment(t);
// Each test has mounts of its own and spends most of its time waiting on them: they run side by side.
t.jobs = 2;

for (const layout of LAYOUTS) {
  t.test(`${layout} tables`, async (t) => {
    let { daemon } = await mountFixtures(t, currentEnvironment(), ['--log-level', 'warn'], layout);
    // A restart replaces the daemon; whichever serves the mount at the end is stopped.
    t.teardown(() => daemon.stop());
    const { mountpoint } = daemon;
    const { fixtures, files, plainRoot } = currentEnvironment();
    const app = 'shop/web-7d9f8-abcde/app';
    const edgeFile = `${app}/${fixtures.yesterday}/10.log`;

    /** Runs a command in the mount and in the plain tree; both must print the same. */
    const same = async (t: Test, command: string) => {
      const mounted = await sh(command, mountpoint);
      const plain = await sh(command, plainRoot);
      t.same({ stdout: mounted.stdout, code: mounted.code }, { stdout: plain.stdout, code: plain.code }, `${command}`);
    };

    await t.test('listings come from the data', async (t) => {
      await same(t, 'ls');
      await same(t, 'ls shop');
      await same(t, 'ls shop/web-7d9f8-abcde kube-system/dns.node-1');
      await same(t, `ls ${app}`);
      await same(t, `ls ${app}/${fixtures.yesterday} ${app}/${fixtures.dayBefore}`);
      await same(t, 'find . -type f | sort');
      await same(t, 'ls -R batch');
    });

    await t.test('every file holds exactly the expected bytes', async (t) => {
      for (const [path, content] of files) {
        if (path.includes(`/${fixtures.oldDay}/`)) continue;
        const bytes = await readFile(join(mountpoint, path), 'utf8');
        t.equal(bytes === content, true, `${path} (${content.length} bytes)`);
      }
    });

    await t.test('the usual tools print what they print on plain files', async (t) => {
      await same(t, `tail -n 5 ${edgeFile}`);
      await same(t, `head -n 3 ${edgeFile}`);
      await same(t, `wc -l ${edgeFile}`);
      await same(t, `wc -c ${edgeFile}`);
      await same(t, `wc ${app}/*/*.log`);
      await same(t, `grep -c ERROR ${app}/${fixtures.yesterday}/*.log`);
      await same(t, `cat */*/*/${fixtures.yesterday}/*.log | awk '{print $1}' | sort | uniq -c`);
      await same(t, `grep -h 'action=checkout' shop/*/*/${fixtures.dayBefore}/*.log | sort | uniq -c | sort -rn`);
      await same(t, `stat -c '%n %s %F' ${app}/${fixtures.yesterday}/*.log`);
      await same(t, `tail -c 100 ${edgeFile} | od -c | tail -n 3`);
      await same(t, `grep -c '' ${edgeFile}; grep -n 'UTF-8' ${edgeFile}`);
      const copy = await tempDir('copy');
      await shOk(`cp ${join(mountpoint, edgeFile)} ${copy}/copied.log`);
      t.equal(await readFile(join(copy, 'copied.log'), 'utf8'), files.get(edgeFile), 'cp copies the exact bytes');
      await removeDir(copy);
    });

    await t.test('a day outside the listing window opens but is not listed', async (t) => {
      const old = `batch/report-28391-xk2p9/worker/${fixtures.oldDay}/03.log`;
      t.equal(await readFile(join(mountpoint, old), 'utf8'), files.get(old));
      const listed = await shOk('ls batch/report-28391-xk2p9/worker', mountpoint);
      t.notMatch(listed, fixtures.oldDay);
    });

    await t.test('the hour that is still filling reads correctly', async (t) => {
      const live = [...files.keys()].find((path) => path.includes(`/${fixtures.today}/`)) ?? '';
      t.equal(await readFile(join(mountpoint, live), 'utf8'), files.get(live));
    });

    await t.test('current.log links to the hour that is filling now', async (t) => {
      const nginx = 'shop/web-7d9f8-abcde/nginx';
      const hourOf = (ms: number) =>
        `${new Date(ms).toISOString().slice(0, 10)}/${new Date(ms).toISOString().slice(11, 13)}.log`;
      const before = hourOf(Date.now());
      const target = (await shOk(`readlink ${nginx}/current.log`, mountpoint)).trim();
      // The hour may end between the two clock readings.
      t.ok([before, hourOf(Date.now())].includes(target), `${target} is the hour filling now`);
      t.equal(await readFile(join(mountpoint, nginx, 'current.log'), 'utf8'), files.get(`${nginx}/${target}`));
    });

    await t.test('bad paths are ENOENT and send no query', async (t) => {
      // The good parts of the bad paths are looked up first, so only the bad parts are counted.
      await shOk(
        `ls . shop ${app} ${app}/${fixtures.yesterday} > /dev/null && stat ${edgeFile} > /dev/null`,
        mountpoint,
      );
      const before = (await settledStats(mountpoint)).queries;
      for (const bad of [
        'Shop',
        "sh'op",
        'shop/web`x`',
        'shop/web-7d9f8-abcde/app/2026-02-30',
        `${app}/${fixtures.yesterday}/24.log`,
        `${app}/${fixtures.yesterday}/1.log`,
        `${app}/${fixtures.yesterday}/10.txt`,
        `${'a'.repeat(64)}`,
        'shop/-web',
        `${app}/${fixtures.yesterday}/10.log/more`,
      ]) {
        const result = await sh(`cat -- '${bad.replaceAll("'", "'\\''")}'`, mountpoint);
        t.match(result.stderr, /No such file or directory|Not a directory/, `cat ${bad}`);
      }
      t.equal((await settledStats(mountpoint)).queries, before, 'no query was sent');
    });

    await t.test('writes fail with "Read-only file system"', async (t) => {
      for (const command of [
        `echo x > ${edgeFile}`,
        `echo x >> ${edgeFile}`,
        `touch ${app}/new.log`,
        `mkdir ${app}/newdir`,
        `rm -f ${edgeFile}`,
        `mv ${edgeFile} ${app}/moved.log`,
        `chmod 777 ${edgeFile}`,
        `truncate -s 0 ${edgeFile}`,
      ]) {
        const result = await sh(command, mountpoint);
        t.match(result.stderr, /Read-only file system/, command);
      }
    });

    await t.test('one query reads every container of a namespace-day', async (t) => {
      const sweepsBefore = recentQueries(await settledStats(mountpoint), 'sweep').length;
      await shOk(`cat shop/*/*/${fixtures.dayBefore}/*.log > /dev/null`, mountpoint);
      const stats = await settledStats(mountpoint);
      t.ok(
        recentQueries(stats, 'sweep').length - sweepsBefore <= 1,
        'every container of the day was read with one query at most',
      );
      t.same(recentQueries(stats, 'entries'), [], 'and no query per container');
    });

    await t.test('after a restart, cached hours are served without any query', async (t) => {
      await shOk(`cat ${edgeFile} ${app}/${fixtures.dayBefore}/*.log > /dev/null`, mountpoint);
      // The days' fetches end, and their files are complete in the cache, before the restart.
      await settledStats(mountpoint);
      await daemon.stop();
      daemon = await startDaemon(daemon.args, mountpoint);
      const edge = await readFile(join(mountpoint, edgeFile), 'utf8');
      t.equal(edge, files.get(edgeFile));
      await shOk(`cat ${app}/${fixtures.dayBefore}/*.log > /dev/null`, mountpoint);
      t.equal((await readStats(mountpoint)).queries, 0, 'no query after restart');
    });
  });
}
