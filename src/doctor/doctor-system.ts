// Doctor's checks of this machine: what mounting with FUSE needs.
import { execFile } from 'node:child_process';
import { constants } from 'node:fs';
import { access, readFile, stat } from 'node:fs/promises';
import { promisify } from 'node:util';
import { fail, ok, warn, within, type CheckResult } from './doctor-checks.js';
import { findFusermount, FUSERMOUNT_FIX } from '../model/fusermount.js';

const run = promisify(execFile);
const SETUID_BIT = 0o4000;
const LOCAL_TIMEOUT_MS = 5_000;
const LIBFUSE_FIX =
  'apt-get install libfuse2 (Debian, Ubuntu; it sits next to fuse3), dnf install fuse-libs; ' +
  "not Debian's fuse package, which conflicts with fuse3 and would remove sshfs, flatpak and the like";
const LIBFUSE_PATHS = [
  '/lib/x86_64-linux-gnu/libfuse.so.2',
  '/usr/lib/x86_64-linux-gnu/libfuse.so.2',
  '/lib/aarch64-linux-gnu/libfuse.so.2',
  '/usr/lib/aarch64-linux-gnu/libfuse.so.2',
  '/usr/lib64/libfuse.so.2',
  '/lib64/libfuse.so.2',
  '/usr/lib/libfuse.so.2',
];

const isRoot = () => process.getuid?.() === 0;

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

export async function checkFuseDevice(): Promise<CheckResult> {
  const name = '/dev/fuse';
  if (!(await exists(name))) {
    return fail(name, 'missing', 'modprobe fuse; in a container run it with --device /dev/fuse --cap-add SYS_ADMIN');
  }
  try {
    await access(name, constants.R_OK | constants.W_OK);
    return ok(name, 'readable and writable');
  } catch {
    return fail(name, 'not readable and writable by this user', 'chmod 0666 /dev/fuse (the mode udev gives it)');
  }
}

export async function checkLibfuse(): Promise<CheckResult> {
  const name = 'libfuse 2';
  const listed = await within(LOCAL_TIMEOUT_MS, 'ldconfig -p', run('ldconfig', ['-p'])).then(
    ({ stdout }) => /libfuse\.so\.2 .*=> (\S+)/.exec(stdout)?.[1],
    () => undefined,
  );
  if (listed !== undefined) return ok(name, listed);
  for (const path of LIBFUSE_PATHS) if (await exists(path)) return ok(name, path);
  return fail(name, 'libfuse.so.2 not found (fuse-native needs libfuse 2, not 3)', LIBFUSE_FIX);
}

export async function checkFusermount(): Promise<CheckResult> {
  const name = 'fusermount';
  const program = await findFusermount();
  if (program === undefined) return fail(name, 'neither fusermount nor fusermount3 was found', FUSERMOUNT_FIX);
  const { path } = program;
  if (isRoot()) return ok(name, path);
  const found = await stat(path);
  if ((found.mode & SETUID_BIT) === 0 || found.uid !== 0) {
    return fail(name, `${path} is not setuid root, so users cannot mount`, `chmod u+s ${path} (owned by root)`);
  }
  return ok(name, `${path}, setuid root`);
}

export async function checkAllowOther(): Promise<CheckResult> {
  const name = '/etc/fuse.conf';
  const text = await readFile(name, 'utf8').catch(() => '');
  if (text.split('\n').some((line) => line.trim() === 'user_allow_other')) return ok(name, 'user_allow_other is set');
  return warn(
    name,
    'user_allow_other is not set: only the mounting user (and root) can see the mount',
    'only needed for allow_other (other users reading the mount): add the line user_allow_other',
  );
}

export function systemChecks(): Promise<CheckResult>[] {
  return [checkFuseDevice(), checkLibfuse(), checkFusermount(), checkAllowOther()];
}
