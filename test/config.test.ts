// Where settings come from: flags > environment > the named mount's table > [defaults] > built-in
// defaults, and errors that name the bad key and where it was written. No FUSE, no server.
import t, { type Test } from 'tap';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { environmentLayer, layerOf } from '../src/cli/config.js';
import { loadConfigFile, parseConfig } from '../src/cli/config-file.js';
import { parseByteSize } from '../src/cli/byte-size.js';
import { planMounts, type MountRequest } from '../src/cli/mount-config.js';
import { MOUNT_SETTINGS, type RawValue } from '../src/cli/settings.js';
import { UsageError } from '../src/model/usage-error.js';
import { testDir } from './support/daemon.js';

const FILE = '/etc/bqlogfs/config.toml';

const CONFIG = `
[defaults]
project = "from-defaults"
cache-size = "1G"
lookback = "3d"
refresh = "30s"
max-concurrent-queries = 2

[mounts.prod]
mountpoint = "/logs/prod"
dataset = "prod_logs"
lookback = "14d"
timestamps = true

[mounts.staging]
mountpoint = "staging"
project = "staging-project"
dataset = "staging_logs"
tz = "Europe/Berlin"
format = "json"
`;

function flags(values: Record<string, RawValue> = {}) {
  return layerOf(new Map(Object.entries(values)), (key) => `--${key}`);
}

function request(overrides: Partial<MountRequest> = {}): MountRequest {
  return {
    positionals: [],
    all: false,
    flags: flags(),
    env: environmentLayer(MOUNT_SETTINGS, {}),
    config: parseConfig(CONFIG, FILE, MOUNT_SETTINGS),
    ...overrides,
  };
}

function usageError(t: Test, work: () => unknown, pattern: RegExp, name: string): void {
  let caught: unknown;
  try {
    work();
  } catch (error) {
    caught = error;
  }
  t.ok(caught instanceof UsageError, `${name}: a usage error`);
  t.match((caught as Error | undefined)?.message, pattern, name);
}

t.test('a named mount: its table over [defaults] over built-in defaults', async (t) => {
  const { mounts, process } = planMounts(request({ positionals: ['prod'] }));
  t.equal(mounts.length, 1);
  const [mount] = mounts;
  t.equal(mount?.name, 'prod');
  t.match(mount?.options, {
    mountpoint: '/logs/prod',
    projectId: 'from-defaults',
    datasetId: 'prod_logs',
    cacheMaxBytes: 2 ** 30,
    lookbackMs: 14 * 86_400_000,
    refreshMs: 30_000,
    sealAfterMs: 15 * 60_000,
    maxConcurrentQueries: 2,
    timestamps: true,
    timeZone: 'UTC',
    format: 'text',
  });
  t.same(process, { logLevel: 'info' });
});

t.test('environment over the table, flags over the environment', async (t) => {
  const env = environmentLayer(MOUNT_SETTINGS, {
    BQLOGFS_LOOKBACK: '2d',
    BQLOGFS_DATASET: 'env_dataset',
    BQLOGFS_TIMESTAMPS: 'false',
    BQLOGFS_MAX_BYTES_BILLED: '5G',
    BQLOGFS_UNRELATED: 'ignored',
  });
  const plan = planMounts(request({ positionals: ['prod'], env, flags: flags({ lookback: '1d', timestamps: true }) }));
  t.match(plan.mounts[0]?.options, {
    lookbackMs: 86_400_000,
    datasetId: 'env_dataset',
    timestamps: true,
    maxBytesBilled: 5 * 2 ** 30,
  });
});

t.test('no config: the mountpoint argument and flags, as before', async (t) => {
  const plan = planMounts(
    request({ config: undefined, positionals: ['/mnt/x'], flags: flags({ project: 'p', dataset: 'd' }) }),
  );
  t.match(plan.mounts[0], { name: '/mnt/x', options: { mountpoint: '/mnt/x', projectId: 'p', datasetId: 'd' } });
  t.equal(plan.mounts[0]?.options.lookbackMs, 7 * 86_400_000, 'built-in default');
  t.equal(plan.mounts[0]?.options.cacheMaxBytes, 10 * 2 ** 30, 'built-in default');
  usageError(
    t,
    () => planMounts(request({ config: undefined, positionals: ['/mnt/x'] })),
    /--project is required/,
    'project',
  );
});

t.test('a name and a mountpoint; a path that is no mount name is a mountpoint', async (t) => {
  const named = planMounts(request({ positionals: ['prod', '/elsewhere'] }));
  t.equal(named.mounts[0]?.options.mountpoint, '/elsewhere');
  const plain = planMounts(request({ positionals: ['/mnt/y'], flags: flags({ dataset: 'd' }) }));
  t.match(plain.mounts[0]?.options, { mountpoint: '/mnt/y', projectId: 'from-defaults', datasetId: 'd' });
  usageError(t, () => planMounts(request({ positionals: ['nope', '/x'] })), /no mount named "nope"/, 'unknown name');
});

t.test('--all: every mount, relative paths from the config file’s directory', async (t) => {
  const plan = planMounts(request({ all: true, flags: flags({ 'log-level': 'warn' }) }));
  t.same(
    plan.mounts.map((mount) => [mount.name, mount.options.mountpoint, mount.options.projectId]),
    [
      ['prod', '/logs/prod', 'from-defaults'],
      ['staging', '/etc/bqlogfs/staging', 'staging-project'],
    ],
  );
  t.match(plan.mounts[1]?.options, { timeZone: 'Europe/Berlin', format: 'json', timestamps: false });
  t.equal(plan.process.logLevel, 'warn');
  usageError(t, () => planMounts(request({ all: true, config: undefined })), /--all needs a config file/, 'no file');
  usageError(t, () => planMounts(request({ all: true, positionals: ['prod'] })), /--all takes no/, 'positional');
  const clash = parseConfig('[mounts.a]\nmetrics-port = 9100\n', FILE, MOUNT_SETTINGS);
  usageError(
    t,
    () => planMounts(request({ all: true, config: clash })),
    /metrics-port in \[mounts\.a\] of \/etc\/bqlogfs\/config\.toml: .*set metrics-port in \[defaults\]/,
    'process setting in a mount table',
  );
  const same = parseConfig(
    '[defaults]\nproject="p"\ndataset="d"\n[mounts.a]\nmountpoint="/m"\n[mounts.b]\nmountpoint="/m"\n',
    FILE,
    MOUNT_SETTINGS,
  );
  usageError(t, () => planMounts(request({ all: true, config: same })), /mounts a and b both use/, 'same mountpoint');
});

t.test('errors name the key and the file, or the flag or variable', async (t) => {
  usageError(
    t,
    () => parseConfig('[mounts.a]\ncache_size = "1G"\n', FILE, MOUNT_SETTINGS),
    /config file \/etc\/bqlogfs\/config\.toml: unknown key "cache_size" in \[mounts\.a\]/,
    'unknown key in a mount',
  );
  usageError(
    t,
    () => parseConfig('[default]\n', FILE, MOUNT_SETTINGS),
    /\/etc\/bqlogfs\/config\.toml: unknown key "default"/,
    'unknown table',
  );
  usageError(t, () => parseConfig('[defaults\n', FILE, MOUNT_SETTINGS), /config\.toml: /, 'TOML syntax');
  usageError(
    t,
    () => parseConfig('[defaults]\ntimestamps = "yes"\n', FILE, MOUNT_SETTINGS),
    /timestamps must be true or false/,
    'type',
  );
  usageError(
    t,
    () => planMounts(request({ positionals: ['staging'], flags: flags({ tz: 'Mars/Olympus_Mons' }) })),
    /--tz: unknown time zone "Mars\/Olympus_Mons"/,
    'time zone',
  );
  usageError(
    t,
    () => planMounts(request({ positionals: ['prod'], flags: flags({ format: 'xml' }) })),
    /--format: takes text or json, not "xml"/,
    'format',
  );
  usageError(
    t,
    () =>
      planMounts(
        request({ positionals: ['prod'], env: environmentLayer(MOUNT_SETTINGS, { BQLOGFS_CACHE_SIZE: 'lots' }) }),
      ),
    /BQLOGFS_CACHE_SIZE: not a size: "lots"/,
    'variable',
  );
  usageError(
    t,
    () =>
      planMounts(
        request({
          positionals: ['prod'],
          config: parseConfig(
            '[mounts.prod]\nmountpoint = "/m"\nproject = "p"\ndataset = "d"\nrefresh = "soon"\n',
            FILE,
            MOUNT_SETTINGS,
          ),
        }),
      ),
    /refresh in \[mounts\.prod\] of \/etc\/bqlogfs\/config\.toml: not a duration/,
    'file value',
  );
  usageError(t, () => environmentLayer(MOUNT_SETTINGS, { BQLOGFS_TIMESTAMPS: 'maybe' }), /BQLOGFS_TIMESTAMPS/, 'bool');
});

t.test('schema: a kind anywhere, a described table in the config file; --cluster', async (t) => {
  const text = `${CONFIG}
[mounts.agents]
mountpoint = "/logs/agents"
dataset = "agent_logs"
cluster = "prod-eu"

[mounts.agents.schema]
kind = "custom"
table = "fluentbit_logs"
namespace = "k8s_namespace"
pod = "k8s_pod"
container = "k8s_container"
timestamp = "time"
message = "log"
stream = "kubernetes.stream"
`;
  const config = parseConfig(text, FILE, MOUNT_SETTINGS);
  const agents = planMounts(request({ config, positionals: ['agents'] })).mounts[0]?.options;
  t.same(agents?.schema, {
    kind: 'custom',
    table: 'fluentbit_logs',
    namespace: 'k8s_namespace',
    pod: 'k8s_pod',
    container: 'k8s_container',
    timestamp: 'time',
    message: 'log',
    stream: 'kubernetes.stream',
  });
  t.equal(agents?.cluster, 'prod-eu');
  const prod = planMounts(request({ config, positionals: ['prod'] })).mounts[0]?.options;
  t.same(prod?.schema, { kind: 'auto' }, 'auto by default');
  t.equal(prod?.cluster, undefined);
  const flagged = planMounts(request({ config, positionals: ['agents'], flags: flags({ schema: 'log-analytics' }) }));
  t.same(flagged.mounts[0]?.options.schema, { kind: 'log-analytics' }, 'a flag overrides the table');
  usageError(
    t,
    () => planMounts(request({ config, positionals: ['prod'], flags: flags({ schema: 'custom' }) })),
    /--schema: custom needs its columns/,
    'custom as a flag',
  );
});

t.test('schema tables: bad column paths and unknown keys name the file', async (t) => {
  const withSchema = (table: string) =>
    parseConfig(
      `[mounts.a]\nmountpoint = "/m"\nproject = "p"\ndataset = "d"\n[mounts.a.schema]\n${table}`,
      FILE,
      MOUNT_SETTINGS,
    );
  const plan = (table: string) => planMounts(request({ config: withSchema(table), positionals: ['a'] }));
  const complete = 'kind = "custom"\ntable = "t"\nnamespace = "n"\npod = "p"\ncontainer = "c"\ntimestamp = "ts"\n';
  usageError(
    t,
    () => plan(`${complete}message = "log\\"x"`),
    /schema in \[mounts\.a\] of .*message "log"x" is not a column path/,
    'path',
  );
  usageError(t, () => plan(complete), /also needs message/, 'missing role');
  usageError(
    t,
    () => withSchema(`${complete}message = "m"\ncolour = "x"`),
    /unknown key "colour" in \[mounts\.a\] schema/,
    'unknown key',
  );
  usageError(t, () => withSchema(`${complete}message = 3`), /schema message must be a string/, 'not a string');
  usageError(t, () => plan('kind = "sink"\ntable = "t"'), /table is only for kind = "custom"/, 'sink takes no columns');
});

t.test('the config file: --config must exist, the default one may not', async (t) => {
  const dir = await testDir(t, 'config');
  const env = { XDG_CONFIG_HOME: dir };
  t.equal(await loadConfigFile(undefined, env, MOUNT_SETTINGS), undefined, 'no default file: no config');
  await t.rejects(loadConfigFile(join(dir, 'missing.toml'), env, MOUNT_SETTINGS), /missing\.toml: ENOENT/);
  await mkdir(join(dir, 'bqlogfs'));
  await writeFile(join(dir, 'bqlogfs', 'config.toml'), CONFIG);
  const found = await loadConfigFile(undefined, env, MOUNT_SETTINGS);
  t.same([...(found?.mounts.keys() ?? [])], ['prod', 'staging'], 'the default file');
  const viaEnv = await loadConfigFile(
    undefined,
    { BQLOGFS_CONFIG: join(dir, 'bqlogfs', 'config.toml') },
    MOUNT_SETTINGS,
  );
  t.ok(viaEnv, 'BQLOGFS_CONFIG');
});

t.test('sizes: K, M, G, T and KiB… (and Ki…) are powers of 1024, KB, MB, GB, TB powers of 1000', async (t) => {
  const cases: [string, number][] = [
    ['1048576', 1_048_576],
    ['10G', 10 * 2 ** 30],
    ['10g', 10 * 2 ** 30],
    ['10GiB', 10 * 2 ** 30],
    ['10Gi', 10 * 2 ** 30],
    ['10GB', 10 * 10 ** 9],
    ['512M', 512 * 2 ** 20],
    ['2TB', 2 * 10 ** 12],
    ['1.5K', 1536],
    ['64 MiB', 64 * 2 ** 20],
  ];
  for (const [text, bytes] of cases) t.equal(parseByteSize(text), bytes, text);
  for (const text of ['', 'lots', '10X', '10GiBB', '-1G']) t.throws(() => parseByteSize(text), /not a size/, text);
});

t.test('a cache size that is a bare number below 64 MiB is refused as missing its unit', async (t) => {
  const withCache = (size: string) => request({ positionals: ['prod'], flags: flags({ 'cache-size': size }) });
  const bytesOf = (size: string) => planMounts(withCache(size)).mounts[0]?.options.cacheMaxBytes;
  usageError(t, () => planMounts(withCache('10')), /--cache-size: 10 is 10 bytes, too small: .*at least 64MiB/, '10');
  usageError(t, () => planMounts(withCache('40960')), /is a unit missing\?/, '40960');
  t.equal(bytesOf(String(64 * 2 ** 20)), 64 * 2 ** 20, 'a bare 64 MiB is enough');
  t.equal(bytesOf('64M'), 64 * 2 ** 20, '64M');
  t.equal(bytesOf('40K'), 40 * 1024, 'a size with its unit is taken as written');
  t.equal(bytesOf('60MB'), 60 * 10 ** 6, 'also in decimal units');
});

t.test('a word that names no mount of the config file is a mistake, not a mountpoint', async (t) => {
  usageError(
    t,
    () => planMounts(request({ positionals: ['prd'] })),
    /^no mount named "prd" in \/etc\/bqlogfs\/config\.toml; its mounts: prod, staging \(to mount on a directory of that name, write \.\/prd\)$/,
    'typo',
  );
  const plan = planMounts(request({ positionals: ['./prd'], flags: flags({ dataset: 'd' }) }));
  t.equal(plan.mounts[0]?.options.mountpoint, './prd', 'written as a path it is a mountpoint');
  const here = planMounts(request({ positionals: ['.'], flags: flags({ dataset: 'd' }) }));
  t.equal(here.mounts[0]?.options.mountpoint, '.', '. is a path too');
  const noConfig = planMounts(
    request({ config: undefined, positionals: ['prd'], flags: flags({ project: 'p', dataset: 'd' }) }),
  );
  t.equal(noConfig.mounts[0]?.options.mountpoint, 'prd', 'without a config file a word is a mountpoint');
});
