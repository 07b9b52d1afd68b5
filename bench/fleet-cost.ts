// `npm run bench:cost`: bytes billed at fleet scale, as the local server bills them. One container
// name over every pod of a namespace is read, sized, listed and fetched on fresh mounts, each action
// against reading one pod's hour on a fresh mount. Two days: a small one, where BigQuery's 10 MB
// minimum per table dominates, and a big one (`--big-mib`, spread over `--pods` pods), where the
// partition scan dominates.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { spawn } from 'node:child_process';
import { createSinkTables, insertEntries, type LogEntry } from '../src/demo/sink-tables.js';
import { emulatorClient } from '../src/emulator/client.js';
import type { Emulator } from '../src/emulator/server.js';
import { startLocalServer } from './local-server.js';
import { shOk } from '../test/support/shell.js';
import { startDaemon } from '../test/support/daemon.js';
import { serverArgs } from '../test/support/cli-process.js';
import { settledStats } from '../test/support/stats.js';

const PROJECT = 'bench-project';
const DATASET = 'fleet_bench';
const DAY_MS = 86_400_000;
const { values } = parseArgs({
  options: {
    pods: { type: 'string', default: '200' },
    'big-mib': { type: 'string', default: '2048' },
  },
});
const PODS = Number(values.pods);
const BIG_BYTES = Number(values['big-mib']) * 2 ** 20;
const smallDay = new Date(Date.now() - 3 * DAY_MS).toISOString().slice(0, 10);
const bigDay = new Date(Date.now() - 2 * DAY_MS).toISOString().slice(0, 10);

const podName = (n: number) => `api-6c9d8f7b4-${String(n).padStart(5, '0')}`;

/** `pods` pods of `app` logging for 24 hours on `day`, `bytes` in all, and a sidecar on every fourth. */
function* fleetDay(day: string, pods: number, bytes: number): Generator<LogEntry> {
  const lineBytes = 1_000;
  const perPod = Math.max(24, Math.floor(bytes / lineBytes / pods));
  const filler = 'x'.repeat(lineBytes - 80);
  for (let p = 0; p < pods; p++) {
    const pod = podName(p);
    for (let n = 0; n < perPod; n++) {
      const second = Math.floor((n * 86_400) / perPod);
      const time = new Date(Date.parse(`${day}T00:00:00Z`) + second * 1000).toISOString().slice(0, 19);
      const level = n % 23 === 0 ? 'ERROR' : 'INFO';
      yield {
        namespace: 'fleet',
        pod,
        container: 'app',
        stream: 'stdout',
        timestamp: `${time}.${String(n % 1_000_000).padStart(6, '0')}Z`,
        insertId: `${p}-${n}`,
        textPayload: `${level} ${pod} request ${n} ${filler}`,
      };
      if (p % 4 === 0 && n % 10 === 0) {
        yield {
          namespace: 'fleet',
          pod,
          container: 'istio-proxy',
          stream: 'stdout',
          timestamp: `${time}.${String(n % 1_000_000).padStart(6, '0')}Z`,
          insertId: `${p}-proxy-${n}`,
          textPayload: `[proxy] ${n} ${filler.slice(0, 200)}`,
        };
      }
    }
  }
}

async function billed(emulator: Emulator): Promise<number> {
  return ((await (await fetch(`${emulator.url}/emulator/stats`)).json()) as { bytesBilled: number }).bytesBilled;
}

/** Bytes billed by `command` (run in a fresh mount, after `warm` if given). */
async function onFreshMount(emulator: Emulator, command: string): Promise<number> {
  const mountpoint = await mkdtemp(join(tmpdir(), 'bqlogfs-bench-mnt-'));
  const cacheDir = await mkdtemp(join(tmpdir(), 'bqlogfs-bench-cache-'));
  const daemon = await startDaemon([...serverArgs(emulator, PROJECT, DATASET), '--cache-dir', cacheDir], mountpoint);
  try {
    const before = await billed(emulator);
    await shOk(command, mountpoint);
    await settledStats(mountpoint);
    return (await billed(emulator)) - before;
  } finally {
    await daemon.stop();
    await rm(mountpoint, { recursive: true, force: true });
    await rm(cacheDir, { recursive: true, force: true });
  }
}

async function fetchBilled(emulator: Emulator, day: string): Promise<number> {
  const out = await mkdtemp(join(tmpdir(), 'bqlogfs-bench-fetch-'));
  const before = await billed(emulator);
  const cli = resolve(import.meta.dirname, '../src/cli/main.ts');
  const args = ['--import', 'tsx', cli, 'fetch', 'app', ...serverArgs(emulator, PROJECT, DATASET)];
  args.push('--namespace', 'fleet', '--from', `${day}T00:00:00Z`, '--to', `${day}T23:59:59Z`, '--out', out);
  args.push('--cache-dir', join(out, '.cache'));
  await new Promise<void>((done, fail) =>
    spawn(process.execPath, args, { stdio: 'ignore' }).once('exit', (code) =>
      code === 0 ? done() : fail(new Error(`fetch exited ${code}`)),
    ),
  );
  const bytes = (await billed(emulator)) - before;
  await rm(out, { recursive: true, force: true });
  return bytes;
}

async function main(): Promise<void> {
  const emulator = await startLocalServer({ port: 0 });
  const client = emulatorClient(emulator.url, PROJECT);
  await createSinkTables(client, DATASET, 'partitioned', [smallDay, bigDay], []);
  const loadStart = Date.now();
  await insertEntries(client, DATASET, 'partitioned', fleetDay(smallDay, 24, 24 * 1_200_000), 2_000);
  await insertEntries(client, DATASET, 'partitioned', fleetDay(bigDay, PODS, BIG_BYTES), 2_000);
  process.stderr.write(`loaded in ${((Date.now() - loadStart) / 1000).toFixed(0)} s\n`);
  const rows: string[] = [];
  for (const [label, day, pods] of [
    ['small day (24 pods, ~29 MB)', smallDay, 24],
    [`big day (${PODS} pods, ${values['big-mib']} MiB)`, bigDay, PODS],
  ] as const) {
    const unit = await onFreshMount(emulator, `cat fleet/${podName(0)}/app/${day}/13.log > /dev/null`);
    const ratio = (bytes: number) => `${(bytes / unit).toFixed(2)}×`;
    const glob = await onFreshMount(emulator, `cat fleet/*/app/${day}/13.log | grep -c ERROR > /dev/null`);
    const wholeDay = await onFreshMount(emulator, `cat fleet/*/app/${day}/*.log | wc -l > /dev/null`);
    const sizes = await onFreshMount(
      emulator,
      `du -sb fleet/*/*/${day} > /dev/null; ls -l fleet/*/app/${day} > /dev/null`,
    );
    const names = await onFreshMount(emulator, `find fleet -name '*.log' > /dev/null; ls -R fleet > /dev/null`);
    const fetched = await fetchBilled(emulator, day);
    rows.push(
      `| ${label} | ${(unit / 2 ** 20).toFixed(0)} MiB | ${ratio(glob)} | ${ratio(wholeDay)} | ${ratio(sizes)} | ${ratio(names)} | ${ratio(fetched)} |`,
    );
    process.stderr.write(`${rows[rows.length - 1]}\n`);
    void pods;
  }
  await emulator.close();
  process.stdout.write(
    [
      "| day | one pod's hour (the unit) | `cat fleet/*/app/<day>/13.log \\| grep -c ERROR` | `cat fleet/*/app/<day>/*.log` | `du -sb`, `ls -l` of every pod | `find`, `ls -R` (listing only) | `bqlogfs fetch app --namespace fleet` |",
      '| --- | --- | --- | --- | --- | --- | --- |',
      ...rows,
      '',
    ].join('\n'),
  );
}

await main();
