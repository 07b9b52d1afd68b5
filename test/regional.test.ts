// A dataset outside the US and EU multi-regions: BigQuery finds its jobs only when asked with their
// location, so every job request must name it, including the lookup after a lost insert answer.
import t from 'tap';
import { emulatorClient } from '../src/emulator/client.js';
import { startEmulator } from '../src/emulator/server.js';
import { createSinkTables, insertEntries } from '../src/demo/sink-tables.js';
import { serverArgs } from './support/cli-process.js';
import { mountTemp } from './support/daemon.js';
import { shOk } from './support/shell.js';
import { serverStats } from './support/stats.js';

const PROJECT = 'regional-project';
const DATASET = 'tokyo_logs';
const REF = { namespace: 'shop', pod: 'api-0', container: 'app' } as const;
const DAY = '2026-10-05';

t.test('reads from a regional dataset, also when an insert answer is lost', async (t) => {
  const emulator = await startEmulator({ port: 0 });
  t.teardown(() => emulator.close());
  const client = emulatorClient(emulator.url, PROJECT);
  await client.createDataset(DATASET, { location: 'asia-northeast1' });
  await createSinkTables(client, DATASET, 'partitioned', [DAY], []);
  const lines = ['first', 'second', 'third'];
  await insertEntries(
    client,
    DATASET,
    'partitioned',
    lines.map((text, n) => ({
      ...REF,
      stream: 'stdout' as const,
      timestamp: `${DAY}T07:0${n}:00.000000Z`,
      insertId: `r-${n}`,
      textPayload: text,
    })),
  );
  const { mountpoint } = (await mountTemp(t, serverArgs(emulator, PROJECT, DATASET))).daemon;
  const dir = `${REF.namespace}/${REF.pod}/${REF.container}/${DAY}`;
  t.equal(await shOk(`ls ${dir}`, mountpoint), '07.log\n', 'the listing');

  emulator.faults.set({ rules: [{ endpoint: 'jobs.insert', kind: 'reset', count: 1 }] });
  t.equal(await shOk(`cat ${dir}/07.log`, mountpoint), lines.map((line) => `${line}\n`).join(''), 'the hour');
  t.equal(emulator.faults.stats().byKind.reset, 1, 'after the answer to its insert was lost');
  t.equal((await serverStats(emulator.url)).queries, 2, 'the retried insert found the job instead of running it again');
});
