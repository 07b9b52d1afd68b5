// `node --import tsx bench/cold-read.ts`: only the cold reads of `npm run bench`, quicker to run
// while working on the fetch path. A big hour (`--hour-mib`, default 256) is loaded into the local
// server with the bench's data set; each run then times a cold `cat` of it through a fresh mount
// against the same baselines as the bench (the same sweep paged over REST, the textPayload script,
// DuckDB writing the rows to a file), alternately, and prints the medians, their ratios and the
// daemon's peak RSS and CPU time. With `--profile DIR`, the daemon of each cold `cat` runs with `--cpu-prof`,
// and the local server (in this process) is profiled for the same span, into DIR.
//
//   node --import tsx bench/cold-read.ts --hour-mib 256 --runs 3 [--profile /tmp/prof] [--only mount] [--rtt-ms 20]
//     [--db FILE] [--base OTHER_CHECKOUT] [--command 'tail -n 20'] [--mount-args '--read-api rest']
//     [--daemon-flags '--trace-gc'] [--daemon-env 'NAME=value …']
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { Session } from 'node:inspector/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { cliCommand, spawnCommand, stopCli, waitForMounts } from '../test/support/cli-process.js';
import { removeDir, tempDir } from '../test/support/daemon.js';
import { builtCli, THIS_TREE } from './built-cli.js';
import { sh, shOk } from '../test/support/shell.js';
import { networkTo } from './latency-proxy.js';
import { bigHourServer } from './big-hour-server.js';
import { naiveScript, physicalLimit, sameQueryOverRest } from './baselines.js';
import { BENCH_SOURCE, benchDay, hourFile, mountArgs, PROJECT, sizedHours } from './data.js';
import { median } from './report.js';
import { cpuMs, machineCpuMs, peakRssMiB, settledTimed, settleWrites, timed } from './measure.js';

const { values } = parseArgs({
  options: {
    'hour-mib': { type: 'string', default: '256' },
    runs: { type: 'string', default: '3' },
    profile: { type: 'string' },
    /** Only the mount's cold reads, no baselines. */
    only: { type: 'string' },
    'latency-ms': { type: 'string', default: '0' },
    /** A network round trip in front of the local server (REST and gRPC), for the mount and the baselines. */
    'rtt-ms': { type: 'string', default: '0' },
    /** A DuckDB file for the local server: loaded when it does not exist yet, reused as it is when it does. */
    db: { type: 'string' },
    /** Another checkout of bqlogfs whose daemon is timed too, alternately with this tree's. */
    base: { type: 'string' },
    /** Node flags added after the daemon's heap flags (so they override them), e.g. "--trace-gc". */
    'daemon-flags': { type: 'string' },
    /** Environment variables for the daemon, e.g. "GLIBC_TUNABLES=glibc.malloc.trim_threshold=67108864". */
    'daemon-env': { type: 'string' },
    /** What reads the cold hour through the mount, e.g. "tail -n 20"; its output is discarded. */
    command: { type: 'string', default: 'cat' },
    /** Arguments added to the daemon's, e.g. "--read-api rest". */
    'mount-args': { type: 'string' },
  },
});
const RUNS = Number(values.runs);
await builtCli();
if (values.base !== undefined) await builtCli(resolve(values.base));
const big = sizedHours(Number(values['hour-mib']) * 2 ** 20).at(-1)!;
const day = benchDay();
const hourPath = hourFile(big.ref, day);
const samples = new Map<string, number[]>();
/** Per daemon (this tree's, or that of --base): peak RSS and the CPU time of each cold fetch. */
const daemonSamples = new Map<string, { rssMiB: number[]; cpuMs: number[] }>();

function sample(side: string, ms: number): void {
  samples.set(side, [...(samples.get(side) ?? []), ms]);
  process.stderr.write(`${side}: ${(ms / 1000).toFixed(2)} s\n`);
}

const emulator = await bigHourServer(big, day, values.db);
const network = await networkTo(emulator, Number(values['rtt-ms']));
const { client } = network;
emulator.faults.set({ latencyMs: Number(values['latency-ms']), rules: [] });

const source = BENCH_SOURCE;
const args = [...mountArgs(network.server), ...(values['mount-args']?.split(' ') ?? [])];
const work = await tempDir('bench');
const out = join(work, 'out.log');
const profileDir = values.profile;
if (profileDir) await mkdir(profileDir, { recursive: true });
const session = new Session();
session.connect();

/** `bqlogfs mount` of this tree's compiled command line or that of `tree`, with `--cpu-prof` under `--profile`. */
async function mountDaemon(mountArgs: string[], mountpoint: string, tree = THIS_TREE) {
  const flags = values['daemon-flags']?.split(' ') ?? [];
  if (profileDir) flags.push('--cpu-prof', `--cpu-prof-dir=${profileDir}`);
  const command = cliCommand(['mount', mountpoint, ...mountArgs], { built: tree });
  // After the heap flags of the #! line, so that a flag given here overrides its namesake there.
  command.splice(command.indexOf(resolve(tree, 'dist/cli/main.js')), 0, ...flags);
  const env = Object.fromEntries((values['daemon-env']?.split(' ') ?? []).map((pair) => pair.split(/=(.*)/s, 2)));
  const run = spawnCommand(command, env);
  await waitForMounts(run, [mountpoint]);
  return { process: run.child, stop: () => stopCli(run, [mountpoint]), logs: run.output };
}

async function coldCat(run: number, tree?: string): Promise<number> {
  const cacheDir = await tempDir('bench-cache');
  const mountpoint = await tempDir('bench-mnt');
  const daemon = await mountDaemon([...args, '--cache-dir', cacheDir], mountpoint, tree);
  const unmountAndRemove = async () => {
    await daemon.stop();
    if (values['daemon-flags']) await writeFile(join(tmpdir(), `bench-daemon-${run}.log`), daemon.logs());
    await removeDir(mountpoint);
    await removeDir(cacheDir);
  };
  const pid = daemon.process.pid ?? 0;
  await settleWrites();
  const cpuBefore = await cpuMs(pid);
  const startRssMiB = await peakRssMiB(pid);
  if (profileDir) {
    await session.post('Profiler.enable');
    await session.post('Profiler.start');
  }
  const [serverBefore, machineBefore] = [process.cpuUsage(), await machineCpuMs()];
  // A failed command must not leave its daemon mounted behind the bench.
  const ms = await timed(() => shOk(`${values.command} ${hourPath} > /dev/null`, mountpoint)).catch(async (error) => {
    await unmountAndRemove();
    throw error;
  });
  const [server, machine] = [process.cpuUsage(serverBefore), await machineCpuMs()];
  const daemonMs = (await cpuMs(pid)) - cpuBefore;
  process.stderr.write(`  daemon peak RSS before the read ${startRssMiB.toFixed(0)} MB\n`);
  process.stderr.write(
    `  CPU while it ran: daemon ${(daemonMs / 1000).toFixed(2)} s, local server ${((server.user + server.system) / 1e6).toFixed(2)} s, ` +
      `machine busy ${((machine.busy - machineBefore.busy) / 1000).toFixed(2)} s, idle ${((machine.idle - machineBefore.idle) / 1000).toFixed(2)} s\n`,
  );
  const { recentQueries } = JSON.parse(await readFile(join(mountpoint, '.bqlogfs/stats'), 'utf8')) as {
    recentQueries: { kind: string; durationMs: number }[];
  };
  const queries = recentQueries.map(({ kind, durationMs }) => `${kind} ${(durationMs / 1000).toFixed(2)} s`);
  process.stderr.write(`  queries done when it returned: ${queries.join(', ') || 'none'}\n`);
  if (profileDir) {
    const { profile } = await session.post('Profiler.stop');
    const name = `server-${run}${tree === undefined ? '' : '-base'}.cpuprofile`;
    await writeFile(join(profileDir, name), JSON.stringify(profile));
  }
  while ((await sh(`find ${cacheDir} -name manifest.json | grep -q .`)).code !== 0) await sleep(200);
  const side = daemonSamples.get(tree ?? '') ?? { rssMiB: [], cpuMs: [] };
  daemonSamples.set(tree ?? '', side);
  side.rssMiB.push(await peakRssMiB(pid));
  side.cpuMs.push((await cpuMs(pid)) - cpuBefore);
  await unmountAndRemove();
  return ms;
}

for (let run = 0; run < RUNS; run++) {
  sample('mount', await coldCat(run));
  if (values.base !== undefined) sample('mount of --base', await coldCat(run, resolve(values.base)));
  if (values.only === 'mount') continue;
  sample('same query, REST pages', await settledTimed(() => sameQueryOverRest(client, source, big.ref, day, out)));
  sample('textPayload script', await settledTimed(() => naiveScript(client, big.ref, day, out)));
  sample('DuckDB COPY', await settledTimed(() => physicalLimit(emulator, PROJECT, big.ref, day, out)));
}
session.disconnect();

const mount = median(samples.get('mount')!);
process.stdout.write(`cold ${values.command} of a ${values['hour-mib']} MiB hour, ${RUNS} runs (median):\n`);
for (const [side, list] of samples) {
  const ratio = side === 'mount' ? '' : `  mount/this ${(mount / median(list)).toFixed(2)}`;
  process.stdout.write(
    `  ${side}: ${list.map((ms) => (ms / 1000).toFixed(2)).join(', ')} s (median ${(median(list) / 1000).toFixed(2)})${ratio}\n`,
  );
}
for (const [tree, side] of daemonSamples) {
  const name = tree === '' ? 'mount' : 'mount of --base';
  const cpu = side.cpuMs.map((ms) => (ms / 1000).toFixed(2)).join(', ');
  process.stdout.write(
    `  ${name}: daemon peak RSS ${side.rssMiB.map((mib) => mib.toFixed(0)).join(', ')} MB (median ${median(side.rssMiB).toFixed(0)}); ` +
      `daemon CPU per cold fetch ${cpu} s (median ${(median(side.cpuMs) / 1000).toFixed(2)})\n`,
  );
}
await removeDir(work);
await network.close();
await emulator.close();
process.exit(0);
