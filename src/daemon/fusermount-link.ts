// libfuse 2 runs the program `fusermount` by that name to mount and unmount for a user who is not
// root, and fuse-native's unmount runs `fusermount -uz` as root too. A host with fuse3 has only
// `fusermount3`, which does the same job, and a service's PATH may lack the directory of either: the
// daemon then links `fusermount` to the program it found in a directory of its own and puts that
// directory first on its PATH, which every program it starts inherits.
import { mkdir, rename, rm, symlink } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import type { Logger } from 'pino';
import { findFusermount, FUSERMOUNT_FIX, onPath } from '../model/fusermount.js';

/** Makes `fusermount` runnable by name; `linkDir` holds the link when PATH has no `fusermount`. */
export async function provideFusermount(linkDir: string, log: Logger): Promise<void> {
  if ((await onPath('fusermount')) !== undefined) return;
  const found = await findFusermount();
  if (found === undefined) throw new Error(`neither fusermount nor fusermount3 was found: ${FUSERMOUNT_FIX}`);
  await mkdir(linkDir, { recursive: true, mode: 0o700 });
  const link = join(linkDir, 'fusermount');
  const temporary = `${link}.${process.pid}`;
  await rm(temporary, { force: true });
  await symlink(found.path, temporary);
  await rename(temporary, link);
  process.env.PATH = `${linkDir}${delimiter}${process.env.PATH ?? ''}`;
  log.info(
    { fusermount: found.path, link },
    'no fusermount on PATH: libfuse 2 and fuse-native run this one through a link',
  );
}
