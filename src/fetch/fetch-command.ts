// `bqlogfs fetch`: the hour files of every pod of one container over a window, concatenated into one
// plain file per pod, without FUSE. Reads through the same hour store and disk cache as the mount,
// so hours either one fetched before cost no query.
import { mkdir } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Logger } from 'pino';
import { requireCredentials } from '../bigquery/credentials.js';
import { QueryFailure } from '../bigquery/failures.js';
import { logQuery } from '../bigquery/log-queries.js';
import { createFetchProgress, type FetchProgress } from './fetch-progress.js';
import { hoursOf } from './fetch-window.js';
import type { LabelRequirement } from '../model/label-selector.js';
import { hourFileName, isDns1123Label, isDns1123Subdomain, type ContainerRef } from '../model/log-path.js';
import { dayKey } from '../store/disk-cache.js';
import { openLogStore, type LogStore, type LogStoreOptions } from '../store/log-store.js';
import { onStopSignal } from '../model/stop-signals.js';
import { OutputDirectory } from './output-files.js';
import { MountStats } from '../model/stats.js';
import type { DayName, TimeRange } from '../model/time-model.js';

export interface FetchOptions {
  container: string;
  namespace?: string;
  /** Applied to pod names here, unanchored, after the query. */
  podPattern?: RegExp;
  /** Only pods whose labels match (`-l`), in the query that finds the pods. */
  labels?: readonly LabelRequirement[];
  /** Whole local hours of `store.timeZone`. */
  window: TimeRange;
  outDir: string;
  store: LogStoreOptions;
}

interface PodInWindow {
  ref: ContainerRef;
  /** The days (named in the store's zone) on which the pod has entries in the window. */
  days: Set<DayName>;
}

/** `<namespace>_<pod>_<container>.log`: Kubernetes names never contain `_`, so the name is unambiguous. */
export function outputFileName(ref: ContainerRef): string {
  return `${ref.namespace}_${ref.pod}_${ref.container}.log`;
}

async function podsInWindow(store: LogStore, options: FetchOptions): Promise<PodInWindow[]> {
  const pods = new Map<string, PodInWindow>();
  const query = logQuery(store.source, {
    kind: 'pods',
    container: options.container,
    ...(options.namespace !== undefined && { namespace: options.namespace }),
    ...(options.labels !== undefined && { labels: options.labels }),
    window: options.window,
    timeZone: store.zone.zone,
  });
  await store.warehouse.runQuery(query, {
    page: async (rows) => {
      for (const [namespace, pod, day] of rows) {
        if (!namespace || !pod || !day) continue;
        // Names the mount cannot show are not fetched either.
        if (!isDns1123Label(namespace) || !isDns1123Subdomain(pod)) continue;
        if (options.podPattern && !options.podPattern.test(pod)) continue;
        const key = `${namespace}/${pod}`;
        const found = pods.get(key) ?? { ref: { namespace, pod, container: options.container }, days: new Set() };
        found.days.add(day);
        pods.set(key, found);
      }
    },
  });
  return [...pods.values()];
}

async function writePodFile(
  store: LogStore,
  output: OutputDirectory,
  pod: PodInWindow,
  window: TimeRange,
  progress: FetchProgress,
): Promise<void> {
  const hours = hoursOf(window, store.zone).filter((hour) => pod.days.has(hour.day));
  // Asked for all at once: the hour store then fetches each container-day with one query.
  const pending = hours.map(({ day, hour }) => store.hours.hour(pod.ref, day, hour));
  for (const hour of pending) hour.catch(() => undefined);
  const file = await output.create(outputFileName(pod.ref));
  try {
    let hoursWithEntries = 0;
    for (const hour of pending) {
      const listed = await hour;
      if (!listed) continue;
      const found = await store.hours.checked(listed);
      const name = `${dayKey(pod.ref, found.day)}/${hourFileName(found.hour)}`;
      await file.appendFrom(store.cache.readWhole(found), found.size, name);
      hoursWithEntries++;
      progress.bytesCopied(found.size);
    }
    await file.commit();
    progress.fileWritten(file.path, file.size, hoursWithEntries);
  } catch (error) {
    await file.discard();
    throw error;
  }
}

/** Runs `count` workers over the items; after a failure no new item starts, and all running ones finish. */
async function forEachLimited<T>(items: T[], count: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  let failed = false;
  const worker = async () => {
    while (!failed && next < items.length) {
      const item = items[next++] as T;
      await work(item).catch((error: unknown) => {
        failed = true;
        throw error;
      });
    }
  };
  const results = await Promise.allSettled(Array.from({ length: Math.min(count, items.length) }, worker));
  const failure = results.find((result) => result.status === 'rejected');
  if (failure) throw failure.reason;
}

function describeWindow(window: TimeRange): string {
  return `${new Date(window.startMs).toISOString()} – ${new Date(window.endMs).toISOString()}`;
}

/** Writes one file per pod; returns how many. Interrupted by SIGINT or SIGTERM, it leaves no partial file. */
export async function runFetch(options: FetchOptions, log: Logger): Promise<number> {
  const outDir = resolve(options.outDir);
  await mkdir(outDir, { recursive: true });
  const output = new OutputDirectory(outDir);
  const progress = createFetchProgress(process.stderr, options.outDir);
  let store: LogStore | undefined;
  const stop = (signal: NodeJS.Signals, code: number) => {
    output.removeUnfinishedSync();
    store?.cache.closeNow();
    progress.done(false);
    process.stderr.write(`bqlogfs: fetch interrupted by ${signal}\n`);
    process.exit(code);
  };
  const forgetSignals = onStopSignal((signal) => stop(signal, signal === 'SIGINT' ? 130 : 143));
  let podCount: number | undefined;
  try {
    const stats = new MountStats();
    stats.listen({ queryDone: (_label, query) => progress.rowsFetched(query.rows) });
    const now = () => Date.now();
    // One sweep per UTC day reads every pod of the container at once.
    const sweepScope = () => ({
      container: options.container,
      ...(options.namespace !== undefined && { namespaces: [options.namespace] }),
    });
    await requireCredentials(options.store);
    const opened = await openLogStore({ name: 'fetch', ...options.store, sweepScope }, log, stats, now);
    store = opened;
    const pods = await podsInWindow(opened, options);
    progress.podsFound(pods.length);
    await forEachLimited(pods, options.store.maxConcurrentQueries, (pod) =>
      writePodFile(opened, output, pod, options.window, progress),
    );
    podCount = pods.length;
  } catch (error) {
    if (error instanceof QueryFailure) throw new Error(`${error.message} (${error.hint})`, { cause: error });
    throw error;
  } finally {
    progress.done(podCount !== undefined);
    forgetSignals();
  }
  if (podCount === 0) {
    const where = options.namespace === undefined ? '' : ` in namespace ${options.namespace}`;
    process.stderr.write(
      `bqlogfs: no pod has entries of container ${options.container}${where} in ${describeWindow(options.window)}\n`,
    );
  }
  return podCount;
}
