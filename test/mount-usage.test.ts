// `bqlogfs mount` run as a user would, without mounting: --help lists every option with its default,
// and command-line mistakes exit 2 with the reason.
import t from 'tap';
import { MOUNT_SETTINGS } from '../src/cli/settings.js';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runCli } from './support/cli-process.js';
import { testDir } from './support/daemon.js';

t.test('mount --help shows every option with its default, and the precedence', async (t) => {
  const run = await runCli(['mount', '--help']);
  t.equal(run.code, 0);
  const text = run.output.replace(/\s+/g, ' ');
  const options = text.split(/ (?=--[a-z])/);
  for (const spec of MOUNT_SETTINGS) {
    const described = options.find((option) => option.startsWith(`--${spec.key} `));
    t.match(described, /\(default: [^)]+\)/, spec.key);
  }
  t.match(text, /flags > environment \(BQLOGFS_<OPTION>/);
});

t.test('command-line mistakes exit 2 with the reason', async (t) => {
  const cases: [string[], RegExp][] = [
    [
      ['mount', '/tmp/x', '--project', 'p', '--dataset', 'd', '--tz', 'Nowhere/Town'],
      /unknown time zone "Nowhere\/Town"/,
    ],
    [['mount', '/tmp/x', '--bogus'], /Unknown option '--bogus'/],
    [['mount', '--config', '/nonexistent/bqlogfs.toml', '--all'], /bqlogfs\.toml: ENOENT/],
    [
      ['mount', '/tmp/x', '--project', 'p', '--dataset', 'd', '--cache-size', '10'],
      /--cache-size: 10 is 10 bytes, too small: .*at least 64MiB/,
    ],
    [['mount', '/tmp/x', '--project', 'p', '--dataset', 'd', '--lookback', '1y'], /--lookback: not a duration: "1y"/],
  ];
  for (const [args, pattern] of cases) {
    const run = await runCli(args, { env: { XDG_CONFIG_HOME: '/nonexistent' } });
    t.equal(run.code, 2, args.join(' '));
    t.match(run.output, pattern, args.join(' '));
  }
});

t.test('a mount name the config file does not have is refused with the names it has', async (t) => {
  const dir = await testDir(t, 'config');
  const config = join(dir, 'config.toml');
  await writeFile(config, '[mounts.prod]\nmountpoint = "/logs/prod"\nproject = "p"\ndataset = "d"\n');
  const run = await runCli(['mount', '--config', config, 'prd']);
  t.equal(run.code, 2, run.output);
  t.match(run.stderr, `bqlogfs: no mount named "prd" in ${config}; its mounts: prod (to mount on a directory`);
});

t.test('a mountpoint that is missing or no directory is refused before BigQuery is asked', async (t) => {
  const dir = await testDir(t, 'mountpoint');
  const file = join(dir, 'file');
  await writeFile(file, '');
  // Nothing listens on port 9: asking it anything would fail with a connection error instead.
  const server = ['--project', 'p', '--dataset', 'd', '--api-endpoint', 'http://127.0.0.1:9'];
  const cases: [string, string][] = [
    [join(dir, 'missing'), `mountpoint ${join(dir, 'missing')} does not exist: create it first`],
    [file, `mountpoint ${file} is not a directory`],
    [join(file, 'below'), `mountpoint ${join(file, 'below')} is not a directory`],
  ];
  for (const [mountpoint, message] of cases) {
    const run = await runCli(['mount', mountpoint, ...server]);
    t.equal(run.code, 1, mountpoint);
    t.match(run.stderr, message, mountpoint);
    t.notMatch(run.output, /ECONNREFUSED|127\.0\.0\.1:9/, 'no request was sent');
  }
});
