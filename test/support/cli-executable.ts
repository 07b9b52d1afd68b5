// An executable `bqlogfs` that runs the CLI from the sources, as the tests do (no build needed), for
// recipes that find `bqlogfs` on PATH or by BQLOGFS_BIN.
import { chmod, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { cliCommand } from './cli-process.js';

export async function cliExecutable(dir: string): Promise<string> {
  const command = cliCommand([]).map((arg) => (arg === 'tsx' ? import.meta.resolve('tsx') : arg));
  const path = join(dir, 'bqlogfs');
  await writeFile(path, `#!/bin/sh\nexec ${command.map((arg) => `'${arg}'`).join(' ')} "$@"\n`);
  await chmod(path, 0o755);
  return path;
}
