// The command line: `bqlogfs mount | emulator | demo | unmount`.
import { parseArgs } from 'node:util';
import { startEmulator } from './emulator/server.js';
import { createLogger } from './logger.js';
import { defaultCacheDir, startMount, unmountOnSignals, unmountPath, type MountOptions } from './mount-daemon.js';
import { parseDuration } from './time-model.js';
import { runDemo } from './demo.js';

const USAGE = `usage:
  bqlogfs mount <mountpoint> --project P --dataset D [options]
      --api-endpoint URL          BigQuery endpoint; default Google's. Credentials: ADC, none for a loopback URL
      --cache-dir DIR             default: $XDG_CACHE_HOME/bqlogfs (~/.cache/bqlogfs)
      --cache-size SIZE           bound on the disk cache, LRU by container-day; default 10G
      --lookback DURATION         how far back listings reach; default 7d
      --seal-after DURATION       grace period before an hour counts as finished; default 15m
      --refresh DURATION          how old a snapshot of the live hour may get; default 10s
      --query-timeout DURATION    default 5m
      --max-bytes-billed SIZE     refuse queries that would bill more (e.g. 5G); default: no limit
      --max-concurrent-queries N  default 4
      --log-level LEVEL           trace, debug, info, warn, error; default info
  bqlogfs emulator [--port 9050] [--db FILE]
      a local BigQuery-compatible server on DuckDB, for tests and demos
  bqlogfs demo [--mountpoint ./mount]
      local server + synthetic GKE logs + mount, no cloud account needed
  bqlogfs unmount <mountpoint>
      unmounts, also when the daemon is gone`;

const SIZE_PATTERN = /^(\d+(?:\.\d+)?)\s*([KMGT]?)i?B?$/i;
const SIZE_UNITS: Record<string, number> = { '': 1, K: 2 ** 10, M: 2 ** 20, G: 2 ** 30, T: 2 ** 40 };

/** Parses byte sizes such as `10G`, `512MiB`, `1048576` (binary units). */
function parseByteSize(text: string): number {
  const match = SIZE_PATTERN.exec(text.trim());
  if (!match) throw new Error(`not a size: "${text}" (use e.g. 10G, 512M or a number of bytes)`);
  return Math.floor(Number(match[1]) * (SIZE_UNITS[(match[2] ?? '').toUpperCase()] ?? 1));
}

function fail(message: string): never {
  process.stderr.write(`bqlogfs: ${message}\n\n${USAGE}\n`);
  process.exit(2);
}

function mountOptions(argv: string[]): { options: MountOptions; logLevel: string } {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      project: { type: 'string' },
      dataset: { type: 'string' },
      'api-endpoint': { type: 'string' },
      'cache-dir': { type: 'string', default: defaultCacheDir() },
      'cache-size': { type: 'string', default: '10G' },
      lookback: { type: 'string', default: '7d' },
      'seal-after': { type: 'string', default: '15m' },
      refresh: { type: 'string', default: '10s' },
      'query-timeout': { type: 'string', default: '5m' },
      'max-bytes-billed': { type: 'string' },
      'max-concurrent-queries': { type: 'string', default: '4' },
      'log-level': { type: 'string', default: 'info' },
    },
  });
  const [mountpoint] = positionals;
  if (!mountpoint || positionals.length > 1) fail('mount takes exactly one mountpoint');
  if (!values.project) fail('--project is required');
  if (!values.dataset) fail('--dataset is required');
  const maxConcurrentQueries = Number(values['max-concurrent-queries']);
  if (!Number.isInteger(maxConcurrentQueries) || maxConcurrentQueries < 1) {
    fail('--max-concurrent-queries takes a whole number ≥ 1');
  }
  try {
    const maxBytesBilled =
      values['max-bytes-billed'] === undefined ? undefined : parseByteSize(values['max-bytes-billed']);
    return {
      logLevel: values['log-level'],
      options: {
        mountpoint,
        projectId: values.project,
        datasetId: values.dataset,
        ...(values['api-endpoint'] !== undefined && { apiEndpoint: values['api-endpoint'] }),
        cacheDir: values['cache-dir'],
        cacheMaxBytes: parseByteSize(values['cache-size']),
        lookbackMs: parseDuration(values.lookback),
        sealAfterMs: parseDuration(values['seal-after']),
        refreshMs: parseDuration(values.refresh),
        listingTtlMs: 60_000,
        queryTimeoutMs: parseDuration(values['query-timeout']),
        maxConcurrentQueries,
        ...(maxBytesBilled !== undefined && { maxBytesBilled }),
      },
    };
  } catch (error) {
    fail((error as Error).message);
  }
}

async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'mount': {
      const { options, logLevel } = mountOptions(rest);
      const log = createLogger(logLevel);
      const mount = await startMount(options, log);
      unmountOnSignals(mount, log);
      return;
    }
    case 'emulator': {
      const { values } = parseArgs({
        args: rest,
        options: { port: { type: 'string', default: '9050' }, db: { type: 'string' } },
      });
      const log = createLogger('info');
      const emulator = await startEmulator({
        port: Number(values.port),
        logger: log,
        ...(values.db !== undefined && { dbPath: values.db }),
      });
      log.info({ url: emulator.url }, 'local BigQuery server listening');
      const stop = () => void emulator.close().then(() => process.exit(0));
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      return;
    }
    case 'demo': {
      const { values } = parseArgs({ args: rest, options: { mountpoint: { type: 'string', default: 'mount' } } });
      await runDemo(values.mountpoint);
      return;
    }
    case 'unmount': {
      const [mountpoint] = rest;
      if (!mountpoint) fail('unmount takes a mountpoint');
      await unmountPath(mountpoint);
      return;
    }
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(`${USAGE}\n`);
      return;
    default:
      fail(`unknown command "${command}"`);
  }
}

main(process.argv.slice(2)).catch((error: unknown) => {
  process.stderr.write(`bqlogfs: ${(error as Error).message ?? String(error)}\n`);
  process.exit(1);
});
