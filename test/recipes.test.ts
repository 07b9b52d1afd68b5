// The recipes in contrib/ and the Dockerfile. There is no container engine, systemd as PID 1 or
// Kubernetes here, so what can be run is run for real (the unit's commands, the health check, on a
// real mount); the rest is read for the properties docs/operations.md promises, and what needs an
// engine is listed there as a manual check.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { isMounted, ranToEnd, shebangFlags, spawnCommand, unmountIfMounted } from './support/cli-process.js';
import { cliExecutable } from './support/cli-executable.js';
import { mountTemp, testDir } from './support/daemon.js';
import { fileEnvironment, fixtureArgs } from './support/environment.js';
import { sh } from './support/shell.js';
import { expandCommand, parseEnvironmentFile, parseUnit, values } from './support/systemd-unit.js';

const ROOT = join(import.meta.dirname, '..');
const read = (path: string) => readFile(join(ROOT, path), 'utf8');
const currentEnvironment = fileEnvironment(t);

interface Instruction {
  keyword: string;
  args: string;
}

/** The Dockerfile's instructions (continuation lines joined), grouped by stage. */
async function dockerStages(): Promise<Instruction[][]> {
  const text = (await read('Dockerfile')).replace(/\\\n/g, ' ');
  const stages: Instruction[][] = [];
  for (const line of text.split('\n')) {
    const match = /^([A-Z]+)\s+(.*)$/.exec(line.trim());
    if (!match) continue;
    const instruction = { keyword: match[1] ?? '', args: (match[2] ?? '').replace(/\s+/g, ' ') };
    if (instruction.keyword === 'FROM') stages.push([]);
    stages.at(-1)?.push(instruction);
  }
  return stages;
}

const runs = (stage: Instruction[]) => stage.filter((i) => i.keyword === 'RUN').map((i) => i.args);
const stageName = (stage: Instruction[]) => / AS (\S+)$/i.exec(stage[0]?.args ?? '')?.[1];

t.test('Dockerfile: fuse-native is patched and compiled on every architecture', async (t) => {
  const stages = await dockerStages();
  const deps = stages.find((stage) => runs(stage).some((run) => run.includes('npm rebuild')));
  if (!deps) throw new Error('no stage runs npm rebuild');
  const [install, npm] = runs(deps);
  for (const tool of ['python3', 'make', 'g++', 'libfuse-dev']) t.match(install, ` ${tool}`, `installs ${tool}`);
  t.match(npm, /npm ci --omit=dev --ignore-scripts .*npm rebuild/, 'install scripts run after the relink');
  const relink = /ln -sf "\$\(gcc -print-file-name=libfuse\.so\)" (\S+);/.exec(npm ?? '');
  t.ok(relink, 'links the system libfuse in place of the bundled one on other architectures');
  // Why it must: the library the binding would link against is x86-64 whatever the machine.
  const bundled = await readFile(join(ROOT, relink?.[1] ?? 'missing'));
  t.equal(bundled.readUInt16LE(18), 0x3e, 'the bundled libfuse.so is an x86-64 ELF (e_machine 62)');
  t.same(
    (await sh('ls node_modules/fuse-native/prebuilds', ROOT)).stdout.trim().split('\n').sort(),
    ['darwin-x64', 'linux-x64'],
    'prebuilt bindings exist only for x64',
  );
  t.match(
    npm,
    /npm rebuild .*&& node scripts\/patch-fuse-native\.js --require &&/,
    'then patches fuse-native and builds it, failing the image if the binding lacks fuse_native_interrupts',
  );
  t.match(npm, /node -e "require\('fuse-native'\)"$/, 'the build fails if the binding does not load');
  const depsCopies = deps.filter((i) => i.keyword === 'COPY').map((i) => i.args);
  t.ok(depsCopies.includes('scripts/apply-patch.js scripts/patch-fuse-native.js ./scripts/'), 'with the script');
  t.ok(depsCopies.includes('patches ./patches'), 'and the patch');

  const final = stages.at(-1) ?? [];
  t.equal(stageName(final), undefined, 'the last stage is the image');
  const copies = final.filter((i) => i.keyword === 'COPY').map((i) => i.args);
  t.ok(copies.includes(`--from=${stageName(deps)} /opt/bqlogfs/node_modules ./node_modules`), 'image takes those');
  t.notOk(
    runs(final).some((run) => /npm (ci|install)/.test(run)),
    'and installs no package itself (no compiler)',
  );
  const packages = runs(final)
    .join(' ')
    .match(/apt-get install -y --no-install-recommends ([^&]+)/)?.[1]
    ?.trim()
    .split(' ');
  t.same(packages?.sort(), ['fuse3', 'jq', 'less', 'libfuse2'], 'libfuse2, fuse3, less and jq; never Debian fuse');
  for (const copy of [...depsCopies, ...copies].filter((args) => !args.startsWith('--from'))) {
    for (const source of copy.split(' ').slice(0, -1)) {
      t.equal((await sh(`test -e ${source}`, ROOT)).code, 0, `COPY ${source} exists`);
    }
  }
});

t.test('Dockerfile and npm scripts: the heap flags of bin/bqlogfs.cjs', async (t) => {
  const final = (await dockerStages()).at(-1) ?? [];
  const entrypoint = JSON.parse(final.find((i) => i.keyword === 'ENTRYPOINT')?.args ?? '[]') as string[];
  const flags = shebangFlags();
  t.ok(flags.length >= 3, `flags in the #! line: ${flags.join(' ')}`);
  t.same(entrypoint, ['node', ...flags, '/opt/bqlogfs/bin/bqlogfs.cjs']);
  const { scripts } = JSON.parse(await read('package.json')) as { scripts: Record<string, string> };
  for (const name of ['bqlogfs', 'start']) {
    t.match(scripts[name], `node ${flags.join(' ')} --import tsx src/cli/main.ts`, `npm run ${name}`);
  }
});

t.test('Dockerfile: the health check passes on a working mount and fails without one', async (t) => {
  const final = (await dockerStages()).at(-1) ?? [];
  const check = /CMD (.*)$/.exec(final.find((i) => i.keyword === 'HEALTHCHECK')?.args ?? '')?.[1] ?? '';
  const mountDir = /mkdir -p (\/\S+)/.exec(runs(final).join(' '))?.[1] ?? '';
  t.match(check, `${mountDir}/.bqlogfs/stats`, `reads the stats file of the mount at ${mountDir}`);
  const { daemon } = await mountTemp(t, fixtureArgs(currentEnvironment()));
  const here = check.replaceAll(mountDir, daemon.mountpoint);
  t.equal((await sh(here)).code, 0, 'healthy while mounted');
  await daemon.stop();
  t.not((await sh(here)).code, 0, 'unhealthy once the mount is gone');
});

// Settings that FUSE rules out for a mount the host must see, as docs/operations.md explains.
const OWN_MOUNT_NAMESPACE = [
  'ProtectSystem',
  'ProtectHome',
  'PrivateTmp',
  'PrivateDevices',
  'PrivateMounts',
  'ProtectKernelTunables',
  'ProtectKernelModules',
  'ProtectKernelLogs',
  'ProtectControlGroups',
  'ProtectProc',
  'ReadOnlyPaths',
  'ReadWritePaths',
  'InaccessiblePaths',
  'TemporaryFileSystem',
  'BindPaths',
  'DynamicUser',
];
const NO_NEW_PRIVILEGES = [
  'NoNewPrivileges',
  'SystemCallFilter',
  'SystemCallArchitectures',
  'RestrictAddressFamilies',
  'RestrictNamespaces',
  'MemoryDenyWriteExecute',
  'LockPersonality',
  'RestrictRealtime',
  'RestrictSUIDSGID',
  'ProtectClock',
  'CapabilityBoundingSet',
];

t.test('systemd unit: a dedicated user, --allow-other, a cache directory, hardening FUSE allows', async (t) => {
  const text = await read('contrib/bqlogfs@.service');
  const unit = parseUnit(text);
  const service = (key: string) => values(unit, 'Service', key);
  t.same(service('User'), ['bqlogfs']);
  t.same(service('Type'), ['exec'], 'no systemd-notify from a process that is not the main one');
  t.same(service('CacheDirectory'), ['bqlogfs/%i']);
  t.same(service('Environment'), ['BQLOGFS_CACHE_DIR=/var/cache/bqlogfs/%i'], 'the daemon uses that directory');
  t.match(service('ExecStart')[0], / --allow-other /);
  t.same(service('DeviceAllow'), ['/dev/fuse rw']);
  t.same(service('DevicePolicy'), ['closed']);
  t.match(values(unit, 'Unit', 'Description')[0], /%i/);
  const docs = await read('docs/operations.md');
  for (const key of [...OWN_MOUNT_NAMESPACE, ...NO_NEW_PRIVILEGES]) {
    t.notOk(unit.get('Service')?.has(key), `no ${key}=`);
    t.match(docs, `\`${key}=\``, `docs/operations.md says why not ${key}=`);
  }
});

const hasSystemdAnalyze = spawnSync('sh', ['-c', 'command -v systemd-analyze']).status === 0;

t.test(
  'systemd unit: systemd-analyze verify finds nothing to say',
  { skip: !hasSystemdAnalyze && 'no systemd-analyze (Debian: systemd)' },
  async (t) => {
    const dir = await testDir(t, 'unit');
    // An instance, so that %i has a value; the file is the template itself.
    await sh(`cp ${join(ROOT, 'contrib/bqlogfs@.service')} ${dir}/bqlogfs@logs.service`);
    const verified = await sh(`systemd-analyze verify ${dir}/bqlogfs@logs.service 2>&1`);
    t.equal(verified.code, 0);
    t.equal(verified.stdout, '', 'no warning (unknown keys, bad specifiers, missing programs)');
  },
);

t.test('systemd unit: its commands mount, wait for the mount, and unmount (run as root, here)', async (t) => {
  const unit = parseUnit(await read('contrib/bqlogfs@.service'));
  const dir = await testDir(t, 'unit-run');
  const mountpoint = join(dir, 'logs');
  await sh(`mkdir ${mountpoint}`);
  await cliExecutable(dir);
  t.teardown(() => unmountIfMounted(mountpoint));
  const example = parseEnvironmentFile(await read('contrib/logs.env.example'));
  const [, project, , dataset, ...server] = fixtureArgs(currentEnvironment());
  const environment: Record<string, string> = {
    ...example,
    BQLOGFS_CACHE_DIR: join(dir, 'cache'),
    BQLOGFS_MOUNTPOINT: mountpoint,
    BQLOGFS_PROJECT: project ?? '',
    BQLOGFS_DATASET: dataset ?? '',
    BQLOGFS_OPTIONS: `${example.BQLOGFS_OPTIONS ?? ''} ${server.join(' ')}`,
    PATH: `${dir}:${process.env.PATH ?? ''}`,
    XDG_CONFIG_HOME: '/nonexistent',
  };
  const command = (key: string) => values(unit, 'Service', key).map((line) => expandCommand(line, 'logs', environment));

  // ExecStartPre: the unmount of a stale mount may fail; the "+" one creates the mountpoint for the
  // user bqlogfs, which needs that user (not here).
  for (const { prefixes, argv } of command('ExecStartPre').filter((c) => !c.prefixes.includes('+'))) {
    t.equal(prefixes, '-', `${argv.join(' ')}: a failure is ignored`);
  }
  const [start] = command('ExecStart');
  t.same(start?.argv.slice(0, 4), ['/usr/bin/env', 'bqlogfs', 'mount', mountpoint]);
  const daemon = spawnCommand(start?.argv ?? [], environment);
  const [post] = command('ExecStartPost');
  const ready = spawnCommand(post?.argv ?? [], environment);
  const first = await Promise.race([ready.exited, daemon.exited.then(() => 'the daemon exited')]);
  t.equal(first, 0, 'ExecStartPost returns', { output: daemon.output() });
  t.ok(await isMounted(mountpoint), 'once the mount is there');
  const options = (await sh(`grep " ${mountpoint} " /proc/mounts`)).stdout;
  t.match(options, /allow_other/, 'with allow_other');
  t.match(daemon.output(), `"cacheDir":"${join(dir, 'cache')}`, 'the cache where the unit says');
  daemon.child.kill('SIGTERM'); // KillSignal
  t.equal(await daemon.exited, 0, 'SIGTERM ends the daemon with 0');
  t.notOk(await isMounted(mountpoint), 'having unmounted');
  for (const { prefixes, argv } of command('ExecStopPost')) {
    t.equal(prefixes, '-', `${argv.join(' ')}: "not mounted" is fine`);
    t.match((await ranToEnd(spawnCommand(argv, environment))).stderr, /is not mounted/);
  }

  // A daemon that exits before mounting: ExecStartPost would wait until TimeoutStartSec; systemd
  // then fails the start (main process gone). Here: it is still waiting after a while.
  const waiting = spawnCommand(post?.argv ?? [], environment);
  await sleep(1_000);
  t.equal(waiting.child.exitCode, null, 'without a mount ExecStartPost keeps waiting');
  waiting.child.kill();
});

t.test('Kubernetes recipe: default container, resources, a shell that is not root, --allow-other', async (t) => {
  const text = await read('contrib/kubernetes-bastion.yaml');
  t.match(text, /annotations:\n\s+kubectl\.kubernetes\.io\/default-container: shell\n/);
  const podContainers = text.slice(text.indexOf('      containers:'), text.indexOf('      volumes:'));
  const containers = podContainers.split(/\n\s+- name: /).slice(1);
  const [bqlogfs, shell] = containers;
  t.equal(containers.length, 2, 'two containers');
  t.match(bqlogfs, /^bqlogfs\n/);
  t.match(bqlogfs, /- --allow-other\n/);
  t.match(bqlogfs, /mountPropagation: Bidirectional/);
  t.match(shell, /^shell\n/);
  t.match(shell, /runAsNonRoot: true/);
  t.match(shell, /allowPrivilegeEscalation: false/);
  t.match(shell, /mountPropagation: HostToContainer/);
  for (const container of containers) {
    t.match(container, /requests: \{ cpu: \S+, memory: \S+ \}/, 'requests');
    t.match(container, /limits: \{ memory: \S+ \}/, 'a memory limit');
  }
  // The cache must stay below the cache volume's sizeLimit, or the kubelet evicts the pod.
  const cacheSize = /--cache-size=(\d+)G\n/.exec(bqlogfs ?? '')?.[1];
  const sizeLimit = /emptyDir: \{ sizeLimit: (\d+)Gi \}/.exec(text)?.[1];
  t.ok(Number(cacheSize) < Number(sizeLimit), `--cache-size ${cacheSize}G < sizeLimit ${sizeLimit}Gi`);
});
