// `node --import tsx bench/stop-after-read.ts --hour-mib 1024 --runs 3 [--db FILE]`: a daemon stopped
// (SIGTERM) right after a cold `cat` of a big hour, then mounted again on the same cache: does it
// serve the hour from its cache, or query BigQuery for it again? Prints the queries the second
// daemon sent for the same `cat`, per run. A sync of the hour file before its rename once outlasted
// the stop, and the hour was fetched again (docs/performance.md).
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { cliCommand, spawnCommand, stopCli, waitForMounts } from '../test/support/cli-process.js';
import { removeDir, tempDir } from '../test/support/daemon.js';
import { shOk } from '../test/support/shell.js';
import { bigHourServer } from './big-hour-server.js';
import { builtCli, THIS_TREE } from './built-cli.js';
import { benchDay, hourFile, mountArgs, sizedHours } from './data.js';

const { values } = parseArgs({
  options: {
    'hour-mib': { type: 'string', default: '256' },
    runs: { type: 'string', default: '3' },
    /** A DuckDB file for the local server, as for bench/cold-read.ts. */
    db: { type: 'string' },
  },
});
await builtCli();
const big = sizedHours(Number(values['hour-mib']) * 2 ** 20).at(-1)!;
const day = benchDay();
const hourPath = hourFile(big.ref, day);
const emulator = await bigHourServer(big, day, values.db);

async function mounted(mountpoint: string, cacheDir: string) {
  const run = spawnCommand(
    cliCommand(['mount', mountpoint, ...mountArgs(emulator), '--cache-dir', cacheDir], { built: THIS_TREE }),
  );
  await waitForMounts(run, [mountpoint]);
  return run;
}

let fetchedAgain = 0;
for (let run = 0; run < Number(values.runs); run++) {
  const cacheDir = await tempDir('bench-cache');
  const mountpoint = await tempDir('bench-mnt');
  const first = await mounted(mountpoint, cacheDir);
  await shOk(`cat ${hourPath} > /dev/null`, mountpoint);
  await stopCli(first, [mountpoint]);
  const second = await mounted(mountpoint, cacheDir);
  await shOk(`cat ${hourPath} > /dev/null`, mountpoint);
  const { recentQueries } = JSON.parse(await readFile(join(mountpoint, '.bqlogfs/stats'), 'utf8')) as {
    recentQueries: { kind: string }[];
  };
  if (recentQueries.some(({ kind }) => kind === 'sweep')) fetchedAgain++;
  process.stdout.write(
    `run ${run + 1}: queries after the restart: ${recentQueries.map(({ kind }) => kind).join(', ') || 'none'}\n`,
  );
  await stopCli(second, [mountpoint]);
  await removeDir(mountpoint);
  await removeDir(cacheDir);
}
process.stdout.write(`fetched again after the stop: ${fetchedAgain} of ${values.runs} runs\n`);
await emulator.close();
process.exit(0);
