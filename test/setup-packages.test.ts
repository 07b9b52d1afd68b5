// scripts/setup.sh decides which Debian packages to install from what the host has. Each case runs
// the real script with a PATH of stand-ins for what a host may have (fusermount, fusermount3, an
// ldconfig that lists libfuse.so.2 or not, faketime, a compiler): on a host with fuse3 it must never pick
// Debian's `fuse`, which conflicts with fuse3, nor anything that replaces fuse3.
import { execFile } from 'node:child_process';
import { chmod, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import t, { type Test } from 'tap';

const run = promisify(execFile);
const SETUP = resolve(import.meta.dirname, '../scripts/setup.sh');
/** What the script itself needs from PATH. */
const TOOLS = ['dirname', 'grep'];
const LIBFUSE2_LINE = '\tlibfuse.so.2 (libc6,x86-64) => /lib/x86_64-linux-gnu/libfuse.so.2';
const LIBFUSE3_LINE = '\tlibfuse3.so.3 (libc6,x86-64) => /lib/x86_64-linux-gnu/libfuse3.so.3';

interface Host {
  programs: string[];
  libraries: string[];
}

async function fakeHost(t: Test, host: Host): Promise<string> {
  const bin = await mkdtemp(join(tmpdir(), 'bqlogfs-setup-'));
  t.teardown(() => rm(bin, { recursive: true, force: true }));
  for (const tool of TOOLS) {
    const { stdout } = await run('bash', ['-c', `command -v ${tool}`]);
    await symlink(stdout.trim(), join(bin, tool));
  }
  const scripts: Record<string, string> = {
    ldconfig: `printf '%s\\n' ${host.libraries.map((line) => `'${line}'`).join(' ')}`,
  };
  for (const program of host.programs) scripts[program] = 'exit 0';
  for (const [name, body] of Object.entries(scripts)) {
    await writeFile(join(bin, name), `#!/bin/sh\n${body}\n`);
    await chmod(join(bin, name), 0o755);
  }
  return bin;
}

async function packagesFor(t: Test, host: Host, extra: string[] = []): Promise<string[]> {
  const bin = await fakeHost(t, host);
  const { stdout } = await run('/bin/bash', [SETUP, '--print-packages', ...extra], { env: { PATH: bin } });
  return stdout.split('\n').filter((line) => line !== '');
}

const cases: [string, Host, string[]][] = [
  [
    'fuse3 without libfuse 2 (sshfs, flatpak): only libfuse2',
    { programs: ['fusermount3'], libraries: [LIBFUSE3_LINE] },
    ['libfuse2'],
  ],
  ['fuse3 and libfuse 2: nothing', { programs: ['fusermount3'], libraries: [LIBFUSE3_LINE, LIBFUSE2_LINE] }, []],
  ["Debian's fuse (fusermount and libfuse 2): nothing", { programs: ['fusermount'], libraries: [LIBFUSE2_LINE] }, []],
  ['no FUSE at all: libfuse2 and fuse3', { programs: [], libraries: [] }, ['libfuse2', 'fuse3']],
  ['libfuse 2 without any fusermount: fuse3', { programs: [], libraries: [LIBFUSE2_LINE] }, ['fuse3']],
];

for (const [name, host, expected] of cases) {
  t.test(name, async (t) => {
    const packages = await packagesFor(t, host);
    t.same(packages, expected);
    t.notOk(packages.includes('fuse'), "never Debian's fuse, which conflicts with fuse3");
  });
}

t.test('--test adds faketime only when it is missing', async (t) => {
  const host = { programs: ['fusermount3', 'make', 'g++', 'python3'], libraries: [LIBFUSE2_LINE] };
  t.same(await packagesFor(t, host, ['--test']), ['faketime']);
  t.same(await packagesFor(t, { ...host, programs: [...host.programs, 'faketime'] }, ['--test']), []);
});

t.test('--test adds what builds the patched fuse-native only when it is missing', async (t) => {
  const host = { programs: ['fusermount3', 'faketime'], libraries: [LIBFUSE2_LINE] };
  t.same(await packagesFor(t, host, ['--test']), ['make', 'g++', 'python3']);
  t.same(await packagesFor(t, { ...host, programs: [...host.programs, 'make', 'python3'] }, ['--test']), ['g++']);
  t.same(await packagesFor(t, host), [], 'not without --test');
});
