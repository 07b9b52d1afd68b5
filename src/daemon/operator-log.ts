// What the daemon says at info level: one line when a mount starts, saying what it serves and
// within which limits, and one line per query with what it read and billed. Options hold no
// secrets (credentials come from the environment), and only the fields named here are logged.
import type { Logger } from 'pino';
import type { LogSource } from '../bigquery/log-source.js';
import type { BindingFeatures } from '../fs/fuse-binding.js';
import { formatBytes } from '../model/byte-units.js';
import { packageVersion } from '../model/package-version.js';
import { describeQuery, type MountStats } from '../model/stats.js';
import type { MountOptions } from './mount.js';

function formatSpan(ms: number): string {
  const hours = ms / 3_600_000;
  return hours % 24 === 0 ? `${hours / 24}d` : `${hours}h`;
}

/**
 * `interruptible`: a reader killed while it waits is let go at once; `finishedHoursCached`: the
 * kernel keeps finished hours' attributes and pages between opens; `directReads`: reads of finished
 * hours in the disk cache are answered off the JS thread (see fs/fuse-binding.ts).
 */
export async function logMountStarted(
  log: Logger,
  options: MountOptions,
  source: LogSource,
  binding: BindingFeatures,
): Promise<void> {
  const caps = {
    maxBytesBilled: options.maxBytesBilled ?? null,
    maxBytesBilledPerDay: options.maxBytesBilledPerDay ?? null,
    refreshBudgetBytes: options.refreshBudgetBytes ?? null,
    maxConcurrentQueries: options.maxConcurrentQueries,
    cacheMaxBytes: options.cacheMaxBytes,
  };
  log.info(
    {
      version: await packageVersion(),
      project: source.projectId,
      dataset: source.datasetId,
      layout: source.layout,
      schema: source.schema?.kind ?? 'sink',
      mountpoint: options.mountpoint,
      cacheDir: options.cacheDir,
      caps,
      interruptible: binding.answersInterrupts,
      finishedHoursCached: binding.setsAttributeTimeouts,
      directReads: binding.directReads !== undefined,
    },
    'mounted',
  );
}

/** Logs each query as it ends; a listing's subject is the window it lists. */
export function logEachQuery(log: Logger, stats: MountStats, lookbackMs: number): void {
  const window = `last ${formatSpan(lookbackMs)}`;
  stats.listen({
    queryDone: (label, query) => {
      const subject = label.subject === '' ? window : label.subject;
      const what = label.subject === '' ? `${describeQuery(label)} (${window})` : describeQuery(label);
      log.info(
        {
          kind: label.kind,
          subject,
          rows: query.rows,
          bytesBilled: query.bytesBilled,
          durationMs: Math.round(query.durationMs),
          jobId: query.jobId,
        },
        `query ${what}: ${query.rows} rows, ${formatBytes(query.bytesBilled)} billed, ${Math.round(query.durationMs)} ms`,
      );
    },
  });
}
