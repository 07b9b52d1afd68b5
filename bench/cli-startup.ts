// `node --import tsx bench/cli-startup.ts`: how long `bqlogfs --help` takes to start, from the built
// package (run `npm run build` first), next to an empty Node.js in the same run. The machine may be
// shared and busy, so the commands run in turns (one run of each, then the next round), and the
// minimum and median wall time of each are printed side by side. The bin prints help from the texts
// in dist/cli/help.json; `node dist/cli/main.js --help` is the command line itself, which every other
// command loads. `--tty` runs the commands on a terminal (80 columns) instead of writing
// to /dev/null. `--also 'label=command args'` adds a command to compare (split at spaces, run from the
// checkout).
//
//   node --import tsx bench/cli-startup.ts [--runs 20] [--tty] [--also 'other=node /elsewhere/bin/bqlogfs.cjs --help']
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { loadavg } from 'node:os';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { NODE_FLAGS } from '../test/support/cli-process.js';
import { median } from './report.js';

const ROOT = resolve(import.meta.dirname, '..');
const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '20' },
    tty: { type: 'boolean', default: false },
    also: { type: 'string', multiple: true, default: [] },
  },
});
const runs = Number(values.runs);
const node = process.execPath;

interface Variant {
  label: string;
  command: string;
  args: string[];
}

const variants: Variant[] = [
  { label: 'node -e 0', command: node, args: ['-e', '0'] },
  { label: './bin/bqlogfs.cjs --help (#! line)', command: './bin/bqlogfs.cjs', args: ['--help'] },
  { label: 'node bin/bqlogfs.cjs --help', command: node, args: ['bin/bqlogfs.cjs', '--help'] },
  { label: './bin/bqlogfs.cjs mount --help', command: './bin/bqlogfs.cjs', args: ['mount', '--help'] },
  { label: './bin/bqlogfs.cjs --version', command: './bin/bqlogfs.cjs', args: ['--version'] },
  {
    label: 'node <heap flags> dist/cli/main.js --help',
    command: node,
    args: [...NODE_FLAGS, 'dist/cli/main.js', '--help'],
  },
  ...values.also.map((spec) => {
    const at = spec.indexOf('=');
    const [command = '', ...args] = spec.slice(at + 1).split(' ');
    return { label: spec.slice(0, at), command, args };
  }),
];

if (!existsSync(resolve(ROOT, 'dist'))) throw new Error('dist/ is missing: run npm run build first');

// Python's os.wait4 reports the child's CPU time in microseconds (GNU time prints hundredths); the
// wall time is taken from fork to exit, so the runner's own start-up counts in neither. With --tty
// the child's stdout is a terminal of 80 columns whose output the runner reads as it comes.
const RUNNER = `
import os, sys, time, json, pty, fcntl, termios, struct, threading
tty = sys.argv[1] == 'tty'
if tty:
    master, terminal = pty.openpty()
    fcntl.ioctl(terminal, termios.TIOCSWINSZ, struct.pack('HHHH', 40, 80, 0, 0))
    def drain():
        try:
            while os.read(master, 65536): pass
        except OSError: pass
    threading.Thread(target=drain, daemon=True).start()
start = time.perf_counter()
pid = os.fork()
if pid == 0:
    devnull = os.open(os.devnull, os.O_RDWR)
    os.dup2(devnull, 0); os.dup2(terminal if tty else devnull, 1)
    os.execvp(sys.argv[2], sys.argv[2:])
_, status, usage = os.wait4(pid, 0)
wall = time.perf_counter() - start
print(json.dumps([os.waitstatus_to_exitcode(status), wall * 1000, (usage.ru_utime + usage.ru_stime) * 1000]))
`;

interface Sample {
  wall: number;
  cpu: number;
}

function measure(variant: Variant): Sample {
  const output = values.tty ? 'tty' : 'pipe';
  const result = spawnSync('python3', ['-c', RUNNER, output, variant.command, ...variant.args], {
    cwd: ROOT,
    encoding: 'utf8',
  });
  const [code, wall, cpu] = JSON.parse(result.stdout || '[-1, 0, 0]') as number[];
  if (code !== 0) throw new Error(`${variant.label} exited ${code}: ${result.stderr}`);
  return { wall: wall ?? NaN, cpu: cpu ?? NaN };
}

const loadAverage = () =>
  loadavg()
    .map((average) => average.toFixed(2))
    .join(' ');
const loadBefore = loadAverage();
const samples = new Map<Variant, Sample[]>(variants.map((variant) => [variant, []]));
for (const variant of variants) measure(variant); // warm the file cache
for (let round = 0; round < runs; round++) {
  for (const variant of variants) samples.get(variant)?.push(measure(variant));
}

const width = Math.max(...variants.map((variant) => variant.label.length));
const columns = ['wall min', 'wall median', 'CPU min', 'CPU median'];
const where = values.tty ? 'on a terminal of 80 columns' : 'output to /dev/null';
console.log(`${runs} runs each, in turns, ${where}; load average ${loadBefore} before, ${loadAverage()} after`);
console.log('milliseconds (CPU: user + system)');
console.log([`command`.padEnd(width), ...columns.map((column) => column.padStart(11))].join('  '));
for (const [variant, runs] of samples) {
  const wall = runs.map((sample) => sample.wall);
  const cpu = runs.map((sample) => sample.cpu);
  const figures = [Math.min(...wall), median(wall), Math.min(...cpu), median(cpu)];
  console.log([variant.label.padEnd(width), ...figures.map((ms) => ms.toFixed(0).padStart(11))].join('  '));
}
