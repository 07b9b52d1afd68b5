// --namespaces and --namespace-regex: other namespaces are invisible and unreadable, and no query
// is sent for them.
import t from 'tap';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileEnvironment, mountFixtures } from './support/environment.js';
import { sh, shOk } from './support/shell.js';
import { readStats } from './support/stats.js';

const currentEnvironment = fileEnvironment(t);
// Each test has mounts of its own and spends most of its time waiting on them: they run side by side.
t.jobs = 2;

for (const [name, args, visible] of [
  ['--namespaces', ['--namespaces', 'shop,batch'], ['batch', 'shop']],
  ['--namespace-regex', ['--namespace-regex', 'kube-.*|sh.p'], ['kube-system', 'shop']],
] as const) {
  t.test(name, async (t) => {
    const environment = currentEnvironment();
    const { daemon } = await mountFixtures(t, environment, [...args]);
    t.same((await shOk('ls', daemon.mountpoint)).trim().split('\n'), visible, 'ls shows only the allowed namespaces');
    const hidden = ['batch', 'kube-system', 'shop'].find((namespace) => !visible.includes(namespace as never)) ?? '';
    const before = (await readStats(daemon.mountpoint)).queries;
    const [hiddenFile] = [...environment.files.keys()].filter((path) => path.startsWith(`${hidden}/`));
    const result = await sh(`cat ${hiddenFile}; ls ${hidden}`, daemon.mountpoint);
    t.match(result.stderr, /No such file or directory/, `${hidden} is not there`);
    t.equal((await readStats(daemon.mountpoint)).queries, before, 'and nothing was queried for it');
    const [allowedFile] = [...environment.files.keys()].filter(
      (path) => path.startsWith(`${visible[1]}/`) && !path.includes(environment.fixtures.oldDay),
    );
    t.equal(
      await readFile(join(daemon.mountpoint, allowedFile ?? ''), 'utf8'),
      environment.files.get(allowedFile ?? ''),
    );
  });
}
