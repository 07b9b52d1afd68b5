// `node --import tsx bench/warm-read.ts`: only the warm re-reads of `npm run bench`, quicker: a 1 MiB
// and a 100 MiB hour (`--hour-mib` for the bigger one), each `cat` through the mount against the same
// bytes in a plain file and through bindfs -o kernel_cache (bench/warm-sides.ts), medians compared.
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { createSinkTables, insertEntries } from '../src/demo/sink-tables.js';
import { emulatorClient } from '../src/emulator/client.js';
import { startLocalServer } from './local-server.js';
import { builtCli } from './built-cli.js';
import { removeDir, startDaemon, tempDir } from '../test/support/daemon.js';
import { shOk } from '../test/support/shell.js';
import {
  benchDay,
  DATASET,
  HOUR,
  hourEntries,
  hourFile,
  mountArgs,
  PROJECT,
  sizedHours,
  type SizedHour,
} from './data.js';
import { measureWarm, type WarmSide } from './warm-sides.js';

const { values } = parseArgs({
  options: {
    'hour-mib': { type: 'string', default: '100' },
    runs: { type: 'string', default: '9' },
  },
});
const RUNS = Number(values.runs);
const built = await builtCli();
const day = benchDay();
const hours = sizedHours(Number(values['hour-mib']) * 2 ** 20);

function hourPath({ ref }: SizedHour): string {
  return hourFile(ref, day);
}

/** The hour's file in the cache, once its fetch has written it (a read can end a moment before). */
async function cachedFile(cacheDir: string, hour: SizedHour): Promise<string> {
  const find = `find ${cacheDir} -path '*${hour.ref.namespace}*' -name '${String(HOUR).padStart(2, '0')}.log'`;
  for (let tries = 0; tries < 600; tries++) {
    const found = (await shOk(find)).trim();
    if (found) return found;
    await sleep(100);
  }
  throw new Error(`no cached file of ${hourPath(hour)}`);
}

function median(samples: number[]): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

async function main(): Promise<void> {
  await shOk('command -v bindfs >/dev/null || (apt-get update -qq && apt-get install -y -qq bindfs >/dev/null)');
  const emulator = await startLocalServer({ port: 0 });
  const client = emulatorClient(emulator.url, PROJECT);
  await createSinkTables(client, DATASET, 'partitioned', [day], []);
  for (const hour of hours) await insertEntries(client, DATASET, 'partitioned', hourEntries(day, hour), 2000);
  const cacheDir = await tempDir('bench-cache');
  const mountpoint = await tempDir('bench-mnt');
  const daemon = await startDaemon([...mountArgs(emulator), '--cache-dir', cacheDir], mountpoint, { built });
  try {
    for (const hour of hours) {
      await shOk(`cat ${hourPath(hour)} > /dev/null`, mountpoint);
      const samples: Record<WarmSide, number[]> = { mount: [], 'plain file': [], bindfs: [] };
      const { size, repeat } = await measureWarm({
        mountpoint,
        hourPath: hourPath(hour),
        cachedFile: await cachedFile(cacheDir, hour),
        runs: RUNS,
        sample: (side, ms) => samples[side].push(ms),
      });
      const [mount, plain, bindfs] = [median(samples.mount), median(samples['plain file']), median(samples.bindfs)];
      process.stdout.write(
        `warm ${Math.round(size / 2 ** 20)} MiB ×${repeat}: mount ${mount.toFixed(0)} ms, plain ${plain.toFixed(0)} ms, bindfs ${bindfs.toFixed(0)} ms; mount/plain ${(mount / plain).toFixed(2)}, mount/bindfs ${(mount / bindfs).toFixed(2)}\n`,
      );
    }
  } finally {
    await daemon.stop();
    await emulator.close();
    await removeDir(mountpoint);
    await removeDir(cacheDir);
  }
}

await main();
