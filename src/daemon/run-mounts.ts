// Runs the daemon for one or several mounts: the metrics endpoint, every mount, readiness for
// systemd, and on SIGINT/SIGTERM the reverse, each mount unmounted. A mount removed with `umount`
// (as /etc/fstab users do) is let go; the daemon ends when none is left.
import { resolve } from 'node:path';
import type { Logger } from 'pino';
import { createLogger } from '../model/logger.js';
import { startMetricsServer, type MetricsServer } from './metrics.js';
import type { MountPlan } from './mount-plan.js';
import { startMount, type RunningMount } from './mount.js';
import { mountedPaths } from './mount-table.js';
import { prepareMountpoint } from './mountpoint.js';
import { notifyReady, notifyStopping } from './service-notify.js';
import { holdStopsWhileStarting } from '../model/stop-signals.js';

/**
 * How long unmounting may take before the process exits anyway, within the 2 s a stop is promised.
 * Exiting ends the FUSE connection, so reads still waiting fail rather than hang.
 */
const STOP_GRACE_MS = 1_500;
const UNMOUNT_POLL_MS = 2_000;

interface Served {
  mountpoint: string;
  mount: RunningMount;
}

export async function runMounts(plan: MountPlan): Promise<void> {
  const log = createLogger(plan.process.logLevel);
  // Every mountpoint is checked before any mount starts, so a mistake in one leaves none half done.
  for (const { options } of plan.mounts) await prepareMountpoint(resolve(options.mountpoint), log);
  const metrics = plan.process.metrics ? await startMetricsServer(plan.process.metrics, log) : undefined;
  const running: Served[] = [];
  // Listening from before the first mount; a stop asked for while mounts start is carried out once they are up.
  const stops = holdStopsWhileStarting((reason) =>
    log.info({ reason }, 'stopping once the mounts being started are up'),
  );
  try {
    for (const { name, options } of plan.mounts) {
      const mountLog = plan.mounts.length > 1 ? log.child({ mount: name }) : log;
      const mount = await startMount({ ...options, name }, mountLog);
      running.push({ mountpoint: resolve(options.mountpoint), mount });
      metrics?.metrics.watch(name, mount.stats);
    }
  } catch (error) {
    await Promise.allSettled(running.map(({ mount }) => mount.unmount()));
    await metrics?.close();
    throw error;
  }
  if (stops.started(stopper(running, metrics, log))) return;
  void watchExternalUnmounts(running, log).then(() => stops.stop('every mount was unmounted'));
  await notifyReady(log);
}

/** Forgets mounts that are gone from the mount table; resolves once none is left. */
async function watchExternalUnmounts(served: Served[], log: Logger): Promise<void> {
  for (;;) {
    await new Promise((resolveWait) => setTimeout(resolveWait, UNMOUNT_POLL_MS));
    const mounted = await mountedPaths();
    for (const gone of served.filter(({ mountpoint }) => !mounted.has(mountpoint))) {
      log.info({ mountpoint: gone.mountpoint }, 'unmounted from outside (umount); no longer serving it');
      served.splice(served.indexOf(gone), 1);
    }
    if (served.length === 0) return;
  }
}

/** What stops the daemon: every mount unmounted, the metrics server closed, then the process ends. */
function stopper(served: Served[], metrics: MetricsServer | undefined, log: Logger): (reason: string) => void {
  let stopped = false;
  const stop = (reason: string) => {
    if (stopped) return;
    stopped = true;
    log.info({ reason }, 'unmounting');
    setTimeout(() => process.exit(1), STOP_GRACE_MS).unref();
    void (async () => {
      const stopping = notifyStopping(log);
      const results = await Promise.allSettled(served.map(({ mount }) => mount.unmount()));
      await metrics?.close();
      await stopping;
      const failed = results.filter((result) => result.status === 'rejected');
      for (const failure of failed) log.error({ err: failure.reason }, 'unmount failed');
      process.exit(failed.length > 0 ? 1 : 0);
    })();
  };
  return stop;
}
