// `bqlogfs mount` run as a user would, without mounting: --help lists every option with its default,
// and command-line mistakes exit 2 with the reason.
import t from 'tap';
import { MOUNT_SETTINGS } from '../src/cli/settings.js';
import { runCli } from './support/cli-process.js';

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
  ];
  for (const [args, pattern] of cases) {
    const run = await runCli(args, { env: { XDG_CONFIG_HOME: '/nonexistent' } });
    t.equal(run.code, 2, args.join(' '));
    t.match(run.output, pattern, args.join(' '));
  }
});
