// The kernel's table of mounts, to notice a mount that `umount` removed behind the daemon's back.
import { readFile } from 'node:fs/promises';

/** The kernel writes space, tab, newline and backslash in paths as octal escapes. */
function unescapeMountPath(field: string): string {
  return field.replace(/\\([0-7]{3})/g, (_match, octal: string) => String.fromCharCode(parseInt(octal, 8)));
}

/** Every mountpoint this process sees: the fifth field of each line of /proc/self/mountinfo. */
export async function mountedPaths(): Promise<Set<string>> {
  const table = await readFile('/proc/self/mountinfo', 'utf8').catch(() => '');
  return new Set(
    table
      .split('\n')
      .map((line) => line.split(' ')[4])
      .filter((field): field is string => field !== undefined)
      .map(unescapeMountPath),
  );
}
