// Which fusermount program this host has. libfuse 2 (Debian's `fuse`) installs `fusermount`; fuse3
// installs `fusermount3`, which takes the same arguments and speaks the same protocol to libfuse 2.
// A host has one or the other, since Debian's `fuse` and `fuse3` packages conflict.
import { constants } from 'node:fs';
import { access } from 'node:fs/promises';
import { delimiter, join } from 'node:path';

export const FUSERMOUNT_NAMES = ['fusermount', 'fusermount3'] as const;

export interface FusermountProgram {
  name: (typeof FUSERMOUNT_NAMES)[number];
  path: string;
}

/** What to install when neither program exists: fuse3, which sits next to libfuse2 without conflict. */
export const FUSERMOUNT_FIX =
  'install fuse3 (apt-get install fuse3; dnf install fuse3); it does not conflict with libfuse2, ' +
  "unlike Debian's fuse package, which removes fuse3 and what depends on it (sshfs, flatpak)";

/** The first executable of that name in the directories of PATH. */
export async function onPath(command: string, pathVariable = process.env.PATH ?? ''): Promise<string | undefined> {
  for (const dir of pathVariable.split(delimiter)) {
    if (!dir) continue;
    const path = join(dir, command);
    const executable = await access(path, constants.X_OK).then(
      () => true,
      () => false,
    );
    if (executable) return path;
  }
  return undefined;
}

/** Where the packages install it, for a PATH that lacks them (a service's, say). */
const STANDARD_DIRS = ['/usr/bin', '/bin', '/usr/local/bin'].join(delimiter);

/** `fusermount` if the host has it, else `fusermount3`: on PATH first, then where packages put them. */
export async function findFusermount(pathVariable = process.env.PATH ?? ''): Promise<FusermountProgram | undefined> {
  for (const dirs of [pathVariable, STANDARD_DIRS]) {
    for (const name of FUSERMOUNT_NAMES) {
      const path = await onPath(name, dirs);
      if (path !== undefined) return { name, path };
    }
  }
  return undefined;
}
