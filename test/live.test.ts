// The hour that is still filling: `tail -f` shows entries as they arrive, the file only grows, and
// current.log points at it.
import t from 'tap';
import { spawn } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { emulatorClient } from '../src/emulator/client.js';
import { startEmulator } from '../src/emulator/server.js';
import { createSinkTables, insertEntries } from '../src/sink-tables.js';
import { removeDir, startDaemon, tempDir } from './support/daemon.js';
import { shOk } from './support/shell.js';

const PROJECT = 'live-project';
const DATASET = 'live_logs';
const REF = { namespace: 'live', pod: 'web-0', container: 'app' } as const;

t.test('tail -f follows the live hour as entries arrive', async (t) => {
  const emulator = await startEmulator({ port: 0 });
  t.teardown(() => emulator.close());
  const client = emulatorClient(emulator.url, PROJECT);
  const now = new Date();
  // Entries are stamped inside the hour that is filling now, so the test does not race an hour boundary.
  const hourStart = Math.floor(now.getTime() / 3_600_000) * 3_600_000;
  const day = now.toISOString().slice(0, 10);
  const file = `${REF.namespace}/${REF.pod}/${REF.container}/${day}/${now.toISOString().slice(11, 13)}.log`;
  await createSinkTables(client, DATASET, 'partitioned', [day], []);
  let sequence = 0;
  const insert = async (count: number) => {
    const entries = Array.from({ length: count }, () => {
      const n = sequence++;
      const micros = String(n).padStart(6, '0');
      return {
        ...REF,
        stream: 'stdout' as const,
        timestamp: `${new Date(hourStart + 1000 + n * 10).toISOString().slice(0, 19)}.${micros}Z`,
        insertId: `live-${n}`,
        textPayload: `live line ${n}`,
      };
    });
    await insertEntries(client, DATASET, 'partitioned', entries);
  };
  const expected = (upTo: number) => Array.from({ length: upTo }, (_, n) => `live line ${n}\n`).join('');

  await insert(3);
  const mountpoint = await tempDir('mnt');
  const cacheDir = await tempDir('cache');
  const daemon = await startDaemon(
    ['--project', PROJECT, '--dataset', DATASET, '--api-endpoint', emulator.url],
    mountpoint,
    ['--cache-dir', cacheDir, '--refresh', '1s'],
  );
  t.teardown(async () => {
    await daemon.stop();
    await removeDir(mountpoint);
    await removeDir(cacheDir);
  });

  const tail = spawn('tail', ['-f', '-n', '+1', file], { cwd: mountpoint });
  let followed = '';
  tail.stdout.on('data', (chunk: Buffer) => (followed += chunk.toString()));
  t.teardown(() => void tail.kill());

  const waitFor = async (text: string, limitMs: number) => {
    const start = Date.now();
    while (followed !== text && Date.now() - start < limitMs) await sleep(100);
    return Date.now() - start;
  };
  t.ok((await waitFor(expected(3), 5_000)) < 5_000, 'tail prints what is there');
  const sizes: number[] = [];
  for (let round = 1; round <= 3; round++) {
    await insert(2);
    const waited = await waitFor(expected(3 + 2 * round), 6_000);
    t.equal(followed, expected(3 + 2 * round), `round ${round}: new lines after ${waited} ms, none twice or torn`);
    sizes.push(Number((await shOk(`stat -c %s ${file}`, mountpoint)).trim()));
  }
  t.same(
    sizes,
    [...sizes].sort((a, b) => a - b),
    'the size only grows',
  );
  t.equal(sizes.at(-1), Buffer.byteLength(expected(9)), 'and ends at the true size');
  const target = (await shOk(`readlink ${REF.namespace}/${REF.pod}/${REF.container}/current.log`, mountpoint)).trim();
  t.equal(`${REF.namespace}/${REF.pod}/${REF.container}/${target}`, file, 'current.log points at the live hour');
});
