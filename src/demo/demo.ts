// `npm start`: the local BigQuery server, a synthetic GKE dataset loaded through the real client,
// and a mount over it. No cloud account needed.
import { mkdtemp, mkdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { emulatorClient } from '../emulator/client.js';
import { startEmulator } from '../emulator/server.js';
import { createLogger } from '../model/logger.js';
import { startMount, unmountAndExit } from '../daemon/mount.js';
import { holdStopsWhileStarting } from '../model/stop-signals.js';
import { HOUR_MS } from '../model/time-model.js';
import { loadDemoCluster } from './demo-cluster.js';

const PROJECT = 'demo-project';
const DATASET = 'gke_logs';

export interface DemoOptions {
  /** Hours of history loaded before mounting. */
  historyHours: number;
  /** How often the cluster's newest entries are inserted. */
  liveEveryMs: number;
  /** How old the live hour a reader follows may get before it is fetched again. */
  refreshMs: number;
}

export const DEMO_DEFAULTS: DemoOptions = { historyHours: 24, liveEveryMs: 5_000, refreshMs: 10_000 };

export async function runDemo(mountpointArg: string, options: DemoOptions = DEMO_DEFAULTS): Promise<void> {
  const { historyHours } = options;
  const log = createLogger(process.env.BQLOGFS_LOG_LEVEL ?? 'warn');
  const mountpoint = resolve(mountpointArg);
  await mkdir(mountpoint, { recursive: true });
  const emulator = await startEmulator({ port: 0 });
  const client = emulatorClient(emulator.url, PROJECT);

  process.stdout.write(`Loading ${historyHours} hours of synthetic GKE logs into the local BigQuery server…\n`);
  const { loaded, live } = await loadDemoCluster(client, DATASET, options, log);

  // Ctrl-C while the mount is being set up unmounts it once it is up, instead of leaving it stale.
  const stops = holdStopsWhileStarting((reason) => log.info({ reason }, 'stopping once the mount is up'));
  const cacheDir = await mkdtemp(join(tmpdir(), 'bqlogfs-demo-cache-'));
  const mount = await startMount(
    {
      mountpoint,
      projectId: PROJECT,
      datasetId: DATASET,
      apiEndpoint: emulator.url,
      readApiEndpoint: emulator.storageAddress,
      cacheDir,
      cacheMaxBytes: 2 ** 30,
      lookbackMs: 7 * 24 * HOUR_MS,
      sealAfterMs: 15 * 60_000,
      refreshMs: options.refreshMs,
      listingTtlMs: 10_000,
      queryTimeoutMs: 60_000,
      maxConcurrentQueries: 4,
    },
    log,
  ).catch(async (error: unknown) => {
    await rm(cacheDir, { recursive: true, force: true });
    throw error;
  });

  const stopped = stops.started(
    unmountAndExit(mount, log, async () => {
      await live.stop();
      await emulator.close();
      // The demo's data lives only as long as its local server, so its cache goes with it.
      await rm(cacheDir, { recursive: true, force: true });
    }),
  );
  if (stopped) return;

  const shown = relative(process.cwd(), mountpoint) || '.';
  process.stdout.write(
    [
      `Loaded ${loaded} entries; mounted at ${mountpoint} (local server at ${emulator.url}).`,
      '',
      'In another terminal, try:',
      `  cd ${shown} && ls`,
      `  ls ${shown}/payments/*/app`,
      `  tail -n 5 ${shown}/payments/api-*/app/$(date -u +%F)/*.log | head -40`,
      `  grep -c 'request failed' ${shown}/payments/api-*/app/$(date -u +%F)/*.log`,
      `  cat ${shown}/default/frontend-*/nginx/$(date -u +%F)/*.log | awk '{print $9}' | sort | uniq -c`,
      `  ls -lt ${shown}/default        # the pods that logged last come first`,
      `  tail -F ${shown}/default/frontend-*/nginx/current.log   # pods a rollout replaced have none`,
      `  tail -F ${shown}/payments/@api/app/current.log   # every pod of the api Deployment, across rollouts`,
      `  npm run -s bqlogfs -- grep --project ${PROJECT} --dataset ${DATASET} --api-endpoint ${emulator.url} --since 2h -c -F 'upstream 500'`,
      `  cat ${shown}/.bqlogfs/stats`,
      '',
      'Press Ctrl-C to unmount and stop.',
      '',
    ].join('\n'),
  );
}
