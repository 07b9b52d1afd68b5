// The benchmarks time the compiled command line (dist/, from `npm run build`), as the package and
// bin/bqlogfs.cjs run it, not the sources through tsx: a daemon run through tsx also holds the
// compiler and the sources, about 30 MB of RSS and 7 MB of live heap more, which every garbage
// collection walks.
import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { promisify } from 'node:util';

export const THIS_TREE = resolve(import.meta.dirname, '..');

/** Builds the command line of checkout `tree` (default this one); resolves to the tree, for CliOptions.built. */
export async function builtCli(tree = THIS_TREE): Promise<string> {
  process.stderr.write(`building the command line of ${tree} (npm run build)\n`);
  await promisify(execFile)('npm', ['run', 'build'], { cwd: tree });
  return tree;
}
