// Who can see what: only the mounting user by default; --allow-other lets others in, with the
// kernel checking --uid, --gid and --mode.
import t from 'tap';
import { fileEnvironment, mountFixtures } from './support/environment.js';
import { sh } from './support/shell.js';

const currentEnvironment = fileEnvironment(t);
// Each test has mounts of its own and spends most of its time waiting on them: they run side by side.
t.jobs = 2;
const asNobody = (command: string) => `runuser -u nobody -- bash -c ${JSON.stringify(command)}`;

t.test('without --allow-other, other users cannot enter the mount', async (t) => {
  const environment = currentEnvironment();
  const { daemon } = await mountFixtures(t, environment);
  const result = await sh(asNobody(`ls ${daemon.mountpoint}`));
  t.not(result.code, 0);
  t.match(result.stderr, /Permission denied/);
});

t.test('with --allow-other the modes decide', async (t) => {
  const environment = currentEnvironment();
  const file = `shop/web-7d9f8-abcde/app/${environment.fixtures.yesterday}/10.log`;
  const open = await mountFixtures(t, environment, [
    '--allow-other',
    '--uid',
    '4242',
    '--gid',
    '4343',
    '--mode',
    '0444',
  ]);
  const stat = await sh(`stat -c '%u %g %a' ${file} shop`, open.daemon.mountpoint);
  t.equal(stat.stdout, '4242 4343 444\n4242 4343 555\n', 'owner, group and modes as given');
  const read = await sh(asNobody(`md5sum < ${open.daemon.mountpoint}/${file}`));
  const expected = await sh(`md5sum < ${open.daemon.mountpoint}/${file}`);
  t.equal(read.code, 0, 'another user reads it');
  t.equal(read.stdout, expected.stdout);

  const ownerOnly = await mountFixtures(t, environment, ['--allow-other', '--mode', '0440', '--gid', '4343']);
  const denied = await sh(asNobody(`cat ${ownerOnly.daemon.mountpoint}/${file}`));
  t.match(denied.stderr, /Permission denied/, 'mode 0440 keeps others out');
});
