// `bqlogfs grep --out` writes each container's matching lines to a file of its own. It must not hold
// them in memory until the search ends: three pods whose matching lines come to over 100 MB, run with the
// CLI's heap (--max-old-space-size=128), must each get exactly their lines, and no temporary file
// may be left behind. A grep that kept every line until the end ran out of heap here.
import t from 'tap';
import { createHash } from 'node:crypto';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { LogEntry } from '../src/demo/sink-tables.js';
import { serverWith, sha256Of } from './support/big-hours.js';
import { runCli, serverArgs } from './support/cli-process.js';
import { testDir } from './support/daemon.js';

const PROJECT = 'grep-out-project';
const DATASET = 'logs';
const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;
const D = Math.floor(Date.now() / DAY_MS) * DAY_MS - 2 * DAY_MS;
const PODS = ['api-5d8f7c9b4-aaaaa', 'api-5d8f7c9b4-bbbbb', 'worker-6c9d8-ccccc'];
const ROWS_PER_POD = 40_000;

/** Pod p's n-th entry, spread over hours 02–05; every ninth one does not match. */
function entryOf(p: number, n: number): LogEntry {
  const micros = (D + 2 * HOUR_MS) * 1000 + Math.floor((n * 4 * 3_599_000_000) / ROWS_PER_POD) + p;
  const iso = new Date(Math.floor(micros / 1000)).toISOString().slice(0, 19);
  const verb = n % 9 === 0 ? 'PUT' : 'GET';
  return {
    namespace: 'shop',
    pod: PODS[p]!,
    container: 'app',
    stream: 'stdout',
    timestamp: `${iso}.${String(micros % 1_000_000).padStart(6, '0')}Z`,
    insertId: `${p}-${String(n).padStart(7, '0')}`,
    textPayload: `${String(n).padStart(7, '0')} pod ${p} ${verb} /orders/${(n * 7919) % 100_000} ${'q'.repeat(950 + (n % 40))}`,
  };
}

function* entries(): Generator<LogEntry> {
  for (let n = 0; n < ROWS_PER_POD; n++) for (let p = 0; p < PODS.length; p++) yield entryOf(p, n);
}

/** Each pod's file as computed from the rows: its matching payloads in time order. */
function expectedFiles(): Map<string, { sha256: string; bytes: number }> {
  const files = new Map<string, { sha256: string; bytes: number }>();
  for (let p = 0; p < PODS.length; p++) {
    const hash = createHash('sha256');
    let bytes = 0;
    for (let n = 0; n < ROWS_PER_POD; n++) {
      const textPayload = entryOf(p, n).textPayload ?? '';
      if (!textPayload.includes(' GET ')) continue;
      const line = Buffer.from(`${textPayload}\n`);
      hash.update(line);
      bytes += line.length;
    }
    files.set(`shop_${PODS[p]}_app.log`, { sha256: hash.digest('hex'), bytes });
  }
  return files;
}

t.test('grep --out writes over 100 MB of matches without holding them', async (t) => {
  const day = new Date(D).toISOString().slice(0, 10);
  const { emulator } = await serverWith(t, PROJECT, DATASET, day, entries());
  const expected = expectedFiles();
  const total = [...expected.values()].reduce((sum, file) => sum + file.bytes, 0);
  t.ok(total > 100_000_000, `the matching lines come to ${total} bytes, about the CLI's whole heap`);

  const out = await testDir(t, 'grep-out');
  const cacheDir = await testDir(t, 'grep-out-cache');
  const run = await runCli(
    [
      'grep',
      ...serverArgs(emulator.url, PROJECT, DATASET),
      '--cache-dir',
      cacheDir,
      '--from',
      `${day}T00`,
      '--to',
      `${day}T12`,
      '--confirm-above',
      '10G',
      '--out',
      out,
      '-F',
      ' GET ',
    ],
    { forbidFuse: true },
  );
  t.equal(run.code, 0, 'exit 0: matches found, the process lived', { stderr: run.stderr.slice(-2000) });
  t.same((await readdir(out)).sort(), [...expected.keys()].sort(), 'one file per pod, no temporary file left');
  for (const [name, file] of expected) {
    const path = join(out, name);
    t.equal((await stat(path)).size, file.bytes, `${name}: its size`);
    t.equal(await sha256Of(path), file.sha256, `${name}: exactly its matching lines, in time order`);
  }
});
