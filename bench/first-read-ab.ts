// `node --import tsx bench/first-read-ab.ts --base <checkout>`: the first read of a big hour from the
// disk cache through a freshly started daemon of this tree, against one of another checkout of
// bqlogfs (for example a commit from before cached files were checked against their checksums), and
// against bindfs over the cached file. Each run starts both daemons on the same cache, one after the
// other, with the cached file in the page cache; the ratios are of the medians.
//
//   git archive <commit> src package.json | tar -x -C /tmp/base && ln -s "$PWD/node_modules" /tmp/base/
//   node --import tsx bench/first-read-ab.ts --base /tmp/base --hour-mib 100 --runs 9
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { emulatorClient } from '../src/emulator/client.js';
import { startLocalServer } from './local-server.js';
import { createSinkTables, insertEntries } from '../src/demo/sink-tables.js';
import { NODE_FLAGS } from '../test/support/cli-process.js';
import { removeDir, tempDir } from '../test/support/daemon.js';
import { shOk } from '../test/support/shell.js';
import { benchDay, hourEntries, hourFile } from './data.js';
import { timed } from './measure.js';

const PROJECT = 'bench-project';
const DATASET = 'bench_logs';
const BIG = { namespace: 'bench', pod: 'big-7f9c4-x2k9p', container: 'app' };
const { values } = parseArgs({
  options: {
    base: { type: 'string' },
    'hour-mib': { type: 'string', default: '100' },
    runs: { type: 'string', default: '9' },
  },
});
if (values.base === undefined) throw new Error('--base <a checkout of bqlogfs to compare with> is required');
const hourBytes = Number(values['hour-mib']) * 2 ** 20;
const day = benchDay();

/** Starts `bqlogfs mount` of the checkout whose CLI is `main`; resolves to a function that stops it. */
async function mount(main: string, mountpoint: string, args: string[]): Promise<() => Promise<void>> {
  const flags = [...NODE_FLAGS, '--import', 'tsx'];
  const child = spawn(process.execPath, [...flags, main, 'mount', mountpoint, ...args], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  while (!(await readFile('/proc/mounts', 'utf8')).includes(` ${mountpoint} `)) await sleep(20);
  return async () => {
    const exited = new Promise((done) => child.once('exit', done));
    child.kill('SIGTERM');
    await exited;
  };
}

function median(samples: number[]): number {
  return [...samples].sort((a, b) => a - b)[Math.floor(samples.length / 2)] ?? NaN;
}

const emulator = await startLocalServer({ port: 0 });
const client = emulatorClient(emulator.url, PROJECT);
await createSinkTables(client, DATASET, 'partitioned', [day], []);
await insertEntries(client, DATASET, 'partitioned', hourEntries(day, { ref: BIG, bytes: hourBytes }), 2000);
const cacheDir = await tempDir('bench-cache');
const mountpoint = await tempDir('bench-mnt');
const args = ['--project', PROJECT, '--dataset', DATASET, '--api-endpoint', emulator.url];
args.push('--log-level', 'warn', '--cache-dir', cacheDir);
const relative = hourFile(BIG, day, 12);
const trees = { this: resolve('src/cli/main.ts'), base: resolve(values.base, 'src/cli/main.ts') };

let stop = await mount(trees.this, mountpoint, args);
await shOk(`cat ${relative} > /dev/null`, mountpoint);
await sleep(3000); // the day's fetch ends, and its manifest is written, after the hour is served
await stop();
const cachedFile = (await shOk(`find ${cacheDir} -name 12.log`)).trim();

const samples: Record<'this' | 'base' | 'bindfs', number[]> = { this: [], base: [], bindfs: [] };
for (let run = 0; run < Number(values.runs); run++) {
  for (const tree of ['this', 'base'] as const) {
    stop = await mount(trees[tree], mountpoint, args);
    await shOk(`cat ${cachedFile} > /dev/null`);
    samples[tree].push(await timed(() => shOk(`cat ${relative} > /dev/null`, mountpoint)));
    await stop();
  }
  const bindMount = await tempDir('bench-bindfs');
  await shOk(`bindfs ${resolve(cachedFile, '..')} ${bindMount}`);
  await shOk(`cat ${cachedFile} > /dev/null`);
  samples.bindfs.push(await timed(() => shOk(`cat ${join(bindMount, '12.log')} > /dev/null`)));
  await shOk(`fusermount -u ${bindMount}`);
  await removeDir(bindMount);
}
const size = (await shOk(`stat -c %s ${cachedFile}`)).trim();
process.stdout.write(`first read of a ${size}-byte hour from the disk cache, ms:\n`);
for (const [name, values] of Object.entries(samples)) {
  process.stdout.write(
    `  ${name}: ${values.map((ms) => ms.toFixed(0)).join(', ')} (median ${median(values).toFixed(0)})\n`,
  );
}
const ratio = (a: number[], b: number[]) => (median(a) / median(b)).toFixed(2);
process.stdout.write(
  `this/base ${ratio(samples.this, samples.base)}, this/bindfs ${ratio(samples.this, samples.bindfs)}, ` +
    `base/bindfs ${ratio(samples.base, samples.bindfs)}\n`,
);
await removeDir(cacheDir);
await removeDir(mountpoint);
await emulator.close();
