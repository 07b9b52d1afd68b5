// A dataset outside the US and EU multi-regions: BigQuery finds its jobs only when asked with their
// location, so every job request must name it, including the lookup after a lost insert answer.
import { createServer, request, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import t, { type Test } from 'tap';
import { emulatorClient } from '../src/emulator/client.js';
import { startEmulator } from '../src/emulator/server.js';
import { createSinkTables, insertEntries } from '../src/demo/sink-tables.js';
import { runCli, serverArgs } from './support/cli-process.js';
import { mountTemp, testDir } from './support/daemon.js';
import { shOk } from './support/shell.js';
import { serverStats } from './support/stats.js';

const PROJECT = 'regional-project';
const DATASET = 'tokyo_logs';
const REF = { namespace: 'shop', pod: 'api-0', container: 'app' } as const;
const DAY = '2026-10-05';

const LINES = ['first', 'second', 'third'];

async function regionalServer(t: Test) {
  const emulator = await startEmulator({ port: 0 });
  t.teardown(() => emulator.close());
  const client = emulatorClient(emulator.url, PROJECT);
  await client.createDataset(DATASET, { location: 'asia-northeast1' });
  await createSinkTables(client, DATASET, 'partitioned', [DAY], []);
  await insertEntries(
    client,
    DATASET,
    'partitioned',
    LINES.map((text, n) => ({
      ...REF,
      stream: 'stdout' as const,
      timestamp: `${DAY}T07:0${n}:00.000000Z`,
      insertId: `r-${n}`,
      textPayload: text,
    })),
  );
  return emulator;
}

t.test('reads from a regional dataset, also when an insert answer is lost', async (t) => {
  const emulator = await regionalServer(t);
  const lines = LINES;
  const { mountpoint } = (await mountTemp(t, serverArgs(emulator, PROJECT, DATASET))).daemon;
  const dir = `${REF.namespace}/${REF.pod}/${REF.container}/${DAY}`;
  t.equal(await shOk(`ls ${dir}`, mountpoint), '07.log\n', 'the listing');

  emulator.faults.set({ rules: [{ endpoint: 'jobs.insert', kind: 'reset', count: 1 }] });
  t.equal(await shOk(`cat ${dir}/07.log`, mountpoint), lines.map((line) => `${line}\n`).join(''), 'the hour');
  t.equal(emulator.faults.stats().byKind.reset, 1, 'after the answer to its insert was lost');
  t.equal((await serverStats(emulator.url)).queries, 2, 'the retried insert found the job instead of running it again');
});

/** A REST proxy in front of the server that keeps the body of every jobs.insert it passes on. */
async function recordingProxy(t: Test, target: string): Promise<{ url: string; inserts: Record<string, unknown>[] }> {
  const inserts: Record<string, unknown>[] = [];
  const body = async (message: IncomingMessage) => {
    const chunks: Buffer[] = [];
    for await (const chunk of message) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  };
  const server = createServer((incoming, outgoing) => {
    void body(incoming).then((payload) => {
      if (incoming.method === 'POST' && /\/projects\/[^/]+\/jobs$/.test(new URL(incoming.url ?? '', target).pathname)) {
        inserts.push(JSON.parse(payload.toString()) as Record<string, unknown>);
      }
      const forwarded = request(new URL(incoming.url ?? '', target), {
        method: incoming.method,
        headers: { ...incoming.headers, host: new URL(target).host },
      });
      forwarded.on('response', (response) => {
        outgoing.writeHead(response.statusCode ?? 502, response.headers);
        response.pipe(outgoing);
      });
      forwarded.on('error', () => outgoing.destroy());
      forwarded.end(payload);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, inserts };
}

t.test("grep's dry run names the dataset's location, as its query does", async (t) => {
  const emulator = await regionalServer(t);
  const proxy = await recordingProxy(t, emulator.url);
  const run = await runCli(
    [
      'grep',
      ...serverArgs(proxy.url, PROJECT, DATASET),
      '--cache-dir',
      await testDir(t, 'grep-cache'),
      '--from',
      `${DAY}T07`,
      '--to',
      `${DAY}T08`,
      '-F',
      'second',
    ],
    { forbidFuse: true },
  );
  t.equal(run.code, 0, 'exit 0', { stderr: run.stderr });
  t.equal(run.stdout, `${REF.namespace}/${REF.pod}/${REF.container}:second\n`, 'the match');
  const jobs = proxy.inserts.map((insert) => ({
    dryRun: (insert.configuration as { dryRun?: boolean } | undefined)?.dryRun === true,
    location: (insert.jobReference as { location?: string } | undefined)?.location,
  }));
  t.same(
    jobs,
    [
      { dryRun: true, location: 'asia-northeast1' },
      { dryRun: false, location: 'asia-northeast1' },
    ],
    'the dry run, then the query, both in the dataset’s location',
  );
});
