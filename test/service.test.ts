// Running as a service: Prometheus metrics, readiness and stopping told to systemd, and several
// mounts from one config file in one daemon. Real FUSE mounts.
import t from 'tap';
import { chmod, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { isMounted, spawnCli, stopCli, unmountIfMounted, waitForMounts } from './support/cli-process.js';
import { cliExecutable } from './support/cli-executable.js';
import { mountTemp, removeDir, tempDir, testDir, tempMountDirs } from './support/daemon.js';
import { fileEnvironment, datasetFor, fixtureArgs, LAYOUTS, PROJECT } from './support/environment.js';
import { sh } from './support/shell.js';
import { metricsUrl, sample, scrape } from './support/metrics.js';
import { readStats } from './support/stats.js';

const currentEnvironment = fileEnvironment(t);

/** Keeps whatever the user's own config file says out of these daemons. */
const isolatedEnv = (extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv => ({
  XDG_CONFIG_HOME: '/nonexistent',
  ...extra,
});

t.test('--metrics-port serves counters that follow the reads', async (t) => {
  const { daemon } = await mountTemp(t, [...fixtureArgs(currentEnvironment()), '--metrics-port', '0']);
  const { mountpoint } = daemon;
  const url = metricsUrl(daemon.logs());

  const file = `shop/web-7d9f8-abcde/app/${currentEnvironment().fixtures.yesterday}/10.log`;
  const read = await sh(`cat ${file} | wc -c`, mountpoint);
  t.equal(
    Number(read.stdout.trim()),
    Buffer.byteLength(currentEnvironment().files.get(file) ?? ''),
    'the file reads whole',
  );
  await sh('cat shop/Not_A_Pod 2>/dev/null', mountpoint);
  // A read the JS thread answers, whatever the binding serves itself.
  await sh('cat .bqlogfs/stats > /dev/null', mountpoint);

  let metrics = '';
  for (let attempt = 0; attempt < 50; attempt++) {
    metrics = await scrape(url);
    if (sample(metrics, 'bqlogfs_cache_size_bytes') > 0) break;
    await sleep(100);
  }
  const mount = `mount="${mountpoint}"`;
  const stats = await readStats(mountpoint);
  for (const name of [
    'bqlogfs_reads_total',
    'bqlogfs_read_bytes_total',
    'bqlogfs_read_duration_seconds_count',
    'bqlogfs_queries_total',
    'bqlogfs_bytes_billed_total',
    'bqlogfs_bytes_processed_total',
    'bqlogfs_query_duration_seconds_count',
    'bqlogfs_cache_misses_total',
    'bqlogfs_cache_size_bytes',
  ]) {
    t.ok(sample(metrics, name, mount) > 0, `${name} > 0`, {
      metrics: metrics.split('\n').filter((l) => l.includes(name)),
    });
  }
  t.ok(sample(metrics, 'bqlogfs_errors_total', 'errno="ENOENT"') > 0, 'ENOENT counted by errno');
  t.match(metrics, /bqlogfs_query_duration_seconds_count\{mount="[^"]+",kind="sweep"\} \d/, 'queries by kind');
  const { version } = JSON.parse(await readFile(join(import.meta.dirname, '../package.json'), 'utf8')) as {
    version: string;
  };
  t.equal(sample(metrics, 'bqlogfs_build_info', `version="${version}"`, `node="${process.version}"`), 1, 'build_info');
  for (const name of [
    'bqlogfs_refreshes_total',
    'bqlogfs_refresh_bytes_billed_total',
    'bqlogfs_refreshes_skipped_total',
  ]) {
    t.equal(sample(metrics, name, mount), 0, `${name}: no live hour was read`);
  }
  t.equal(sample(metrics, 'bqlogfs_queries_running_peak', mount), stats.peakQueriesRunning, 'peak queries running');
  t.match(metrics, /^# TYPE bqlogfs_reads_total counter$/m);
  t.match(metrics, /^# TYPE bqlogfs_read_duration_seconds histogram$/m);
  t.equal(
    sample(metrics, 'bqlogfs_read_duration_seconds_count', mount) +
      sample(metrics, 'bqlogfs_direct_reads_total', mount),
    sample(metrics, 'bqlogfs_reads_total', mount),
    'every read is timed, or counted as answered by the FUSE binding',
  );
  t.equal(
    sample(metrics, 'bqlogfs_bytes_billed_total', mount),
    stats.bytesBilled,
    'the same numbers as the stats file',
  );
});

t.test('systemd: READY once the mount is up, STOPPING on SIGTERM', async (t) => {
  const { mountpoint, cacheDir } = await tempMountDirs(t);
  const stubDir = await tempDir('stub');
  const calls = join(stubDir, 'calls');
  t.teardown(() => removeDir(stubDir));
  // Records its arguments, and whether the mount was in the mount table when it was called.
  await writeFile(
    join(stubDir, 'systemd-notify'),
    '#!/bin/sh\n' +
      'state=unmounted\n' +
      'grep -q " $STUB_MOUNTPOINT " /proc/mounts && state=mounted\n' +
      'echo "$* [$state]" >> "$STUB_CALLS"\n',
  );
  await chmod(join(stubDir, 'systemd-notify'), 0o755);
  const run = spawnCli(
    ['mount', mountpoint, ...fixtureArgs(currentEnvironment(), 'sharded'), '--cache-dir', cacheDir],
    {
      env: isolatedEnv({
        PATH: `${stubDir}:${process.env.PATH ?? ''}`,
        NOTIFY_SOCKET: '/run/systemd/notify-stub',
        STUB_MOUNTPOINT: mountpoint,
        STUB_CALLS: calls,
      }),
    },
  );
  await waitForMounts(run, [mountpoint]);
  const pid = run.child.pid;
  let recorded = '';
  for (let waited = 0; waited < 10_000 && !recorded.includes('--ready'); waited += 50) {
    recorded = await readFile(calls, 'utf8').catch(() => '');
    await sleep(50);
  }
  t.match(recorded, new RegExp(`^--pid=${pid} --ready \\[mounted\\]$`, 'm'), 'READY, after the mount was visible');
  t.notMatch(recorded, /STOPPING/, 'not stopping yet');

  const code = await stopCli(run, [mountpoint]);
  t.equal(code, 0, 'exit 0', { output: run.output() });
  recorded = await readFile(calls, 'utf8');
  t.match(recorded, new RegExp(`^--pid=${pid} STOPPING=1 `, 'm'), 'STOPPING on SIGTERM');
  t.equal(recorded.trim().split('\n').length, 2, 'two notifications');
});

t.test('without systemd-notify on PATH: a warning, and the mount still runs', async (t) => {
  const { mountpoint, cacheDir } = await tempMountDirs(t);
  const run = spawnCli(['mount', mountpoint, ...fixtureArgs(currentEnvironment()), '--cache-dir', cacheDir], {
    // The fusermount the mount needs stays reachable by its full path through fuse-native.
    env: isolatedEnv({ NOTIFY_SOCKET: '/run/systemd/notify-stub', PATH: '/nonexistent' }),
  });
  await waitForMounts(run, [mountpoint]);
  for (let waited = 0; waited < 10_000 && !run.output().includes('systemd-notify'); waited += 50) await sleep(50);
  t.match(run.output(), /systemd-notify is not on PATH/);
  t.equal(run.child.exitCode, null, 'still running');
  await stopCli(run, [mountpoint]);
});

t.test('a config file with two mounts: --all mounts both, SIGTERM unmounts both', async (t) => {
  const dir = await tempDir('all');
  const cacheDir = await tempDir('cache');
  const mountpoints = LAYOUTS.map((layout) => join(dir, layout));
  await sh(`mkdir ${mountpoints.join(' ')}`);
  t.teardown(async () => {
    for (const mountpoint of mountpoints) await unmountIfMounted(mountpoint);
    await removeDir(dir);
    await removeDir(cacheDir);
  });
  const config = join(dir, 'config.toml');
  await writeFile(
    config,
    [
      '[defaults]',
      `project = "${PROJECT}"`,
      `api-endpoint = "${currentEnvironment().emulator.url}"`,
      `cache-dir = "${cacheDir}"`,
      '',
      ...LAYOUTS.flatMap((layout) => [
        `[mounts.${layout}]`,
        `mountpoint = "${layout}"`,
        `dataset = "${datasetFor(layout)}"`,
        '',
      ]),
    ].join('\n'),
  );
  const run = spawnCli(['mount', '--config', config, '--all'], { env: isolatedEnv() });
  await waitForMounts(run, mountpoints);
  const file = `batch/report-28391-xk2p9/worker/${currentEnvironment().fixtures.yesterday}`;
  const expectedDay = [...currentEnvironment().files.keys()].filter((path) => path.startsWith(`${file}/`));
  t.ok(expectedDay.length > 0, 'the fixtures have that day');
  for (const mountpoint of mountpoints) {
    const listed = await sh(`ls ${file}`, mountpoint);
    t.same(
      listed.stdout.trim().split('\n'),
      expectedDay.map((path) => path.split('/').pop()).sort(),
      `ls in ${mountpoint}`,
    );
    const first = expectedDay[0] ?? '';
    const content = await sh(`cat ${first}`, mountpoint);
    t.equal(content.stdout, currentEnvironment().files.get(first), `cat in ${mountpoint}`);
  }
  t.match(run.output(), /"mount":"partitioned"/, 'log lines say which mount');

  const code = await stopCli(run, []);
  t.equal(code, 0, 'exit 0', { output: run.output() });
  for (const mountpoint of mountpoints) t.notOk(await isMounted(mountpoint), `${mountpoint} unmounted`);
});

t.test('the mount(8) helper turns NAME MOUNTPOINT -o OPTIONS into a background daemon', async (t) => {
  const dir = await tempDir('helper');
  const cacheDir = await tempDir('cache');
  const mountpoint = join(dir, 'logs');
  await sh(`mkdir ${mountpoint}`);
  const config = join(dir, 'config.toml');
  const log = join(dir, 'daemon.log');
  await writeFile(
    config,
    [
      '[mounts.prod]',
      `project = "${PROJECT}"`,
      `dataset = "${datasetFor('partitioned')}"`,
      `api-endpoint = "${currentEnvironment().emulator.url}"`,
      'mountpoint = "/not/this/one"',
      '',
    ].join('\n'),
  );
  let pid: number | undefined;
  t.teardown(async () => {
    if (pid !== undefined) process.kill(pid, 'SIGTERM');
    await sleep(500);
    await unmountIfMounted(mountpoint);
    await removeDir(dir);
    await removeDir(cacheDir);
  });
  const helper = join(import.meta.dirname, '../contrib/mount.fuse.bqlogfs');
  const options =
    `rw,_netdev,nofail,default_permissions,noatime,config=${config},log=${log},cache-dir=${cacheDir},` +
    'timestamps,x-systemd.automount';
  const mounted = await sh(
    `BQLOGFS_BIN=${await cliExecutable(dir)} XDG_CONFIG_HOME=/nonexistent ` +
      `sh ${helper} prod ${mountpoint} -n -o ${options}`,
  );
  t.equal(mounted.code, 0, 'the helper exits 0', { stderr: mounted.stderr });
  t.ok(await isMounted(mountpoint), 'mounted at the fstab mountpoint when the helper returns');
  pid = Number((await sh(`pgrep -f 'mount --config ${config}'`)).stdout.trim().split('\n')[0]);
  t.ok(pid > 0, 'the daemon runs in the background');
  const file = `shop/web-7d9f8-abcde/app/${currentEnvironment().fixtures.yesterday}/10.log`;
  const content = await sh(`cat ${file}`, mountpoint);
  t.equal(content.code, 0, 'readable');
  t.match(await readFile(log, 'utf8'), /"msg":"mounted"/, 'the daemon logs to log=FILE');

  t.equal((await sh(`umount ${mountpoint}`)).code, 0, 'umount, as for an fstab mount');
  let alive = true;
  for (let waited = 0; alive && waited < 10_000; waited += 100) {
    await sleep(100);
    alive = (await sh(`kill -0 ${pid}`)).code === 0;
  }
  t.notOk(alive, 'the daemon ends once its mount is gone');
  pid = undefined;

  await sh(`mkdir ${join(dir, 'other')}`);
  const failing = await sh(`BQLOGFS_BIN=/bin/false sh ${helper} prod ${join(dir, 'other')} -o log=${log}`);
  t.not(failing.code, 0, 'a daemon that does not mount fails the helper');
});

t.test('the mount(8) helper: which options reach bqlogfs, and how', async (t) => {
  const dir = await testDir(t, 'helper-options');
  const recorded = join(dir, 'argv');
  // Stands in for bqlogfs: records its arguments, one a line, and exits without mounting.
  const stub = join(dir, 'bqlogfs');
  await writeFile(stub, `#!/bin/sh\nprintf '%s\\n' "$@" > ${recorded}\necho "no mount: a stand-in" >&2\nexit 1\n`);
  await chmod(stub, 0o755);
  await sh(`mkdir ${join(dir, 'logs')}`);
  const helper = join(import.meta.dirname, '../contrib/mount.fuse.bqlogfs');
  const generic = 'defaults,rw,nosuid,nodev,noexec,relatime,nodiratime,_netdev,nofail,noauto,user,x-systemd.automount';
  const own = `config=${dir}/c.toml,log=${dir}/d.log,credentials=/etc/bqlogfs/sa.json`;
  const passed = 'default_permissions,allow_other,uid=1000,cache-size=20G,timestamps';
  const run = await sh(`BQLOGFS_BIN=${stub} sh ${helper} prod ${join(dir, 'logs')} -n -o ${generic},${own},${passed}`);
  t.not(run.code, 0, 'the helper fails when bqlogfs does not mount');
  t.match(run.stderr, /did not mount .*\n.*no mount: a stand-in/, 'and shows the end of the log');
  t.same(
    (await readFile(recorded, 'utf8')).trim().split('\n'),
    [
      'mount',
      '--config',
      `${dir}/c.toml`,
      '--allow-other',
      '--uid',
      '1000',
      '--cache-size',
      '20G',
      '--timestamps',
      'prod',
      join(dir, 'logs'),
    ],
    'generic options and default_permissions dropped, allow_other spelled as bqlogfs spells it',
  );
});
