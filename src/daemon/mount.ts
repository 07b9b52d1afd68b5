// One mount: the store, the listings and the tree over it, and the FUSE session that serves them.
import { join, resolve } from 'node:path';
import type Fuse from 'fuse-native';
import type { Logger } from 'pino';
import type { LogWarehouse } from '../bigquery/log-warehouse.js';
import { requireCredentials } from '../bigquery/credentials.js';
import { LogTree } from '../fs/log-tree.js';
import { namespacePolicy } from '../model/namespace-policy.js';
import { MountStats } from '../model/stats.js';
import { Listings } from '../store/listings.js';
import { openLogStore, type LogStoreOptions } from '../store/log-store.js';
import { provideFusermount } from './fusermount-link.js';
import { prepareMountpoint } from './mountpoint.js';
import { logEachQuery, logMountStarted } from './operator-log.js';

export interface MountOptions extends LogStoreOptions {
  mountpoint: string;
  lookbackMs: number;
  listingTtlMs: number;
  /** Other users may read the mount (allow_other + default_permissions). Off: only the mounting user. */
  allowOther?: boolean;
  /** Owner, group and permission bits the files show; default: the mounting user, 0444. */
  uid?: number;
  gid?: number;
  fileMode?: number;
}

function promised(register: (cb: (error: Error | null) => void) => void): Promise<void> {
  return new Promise((resolvePromise, reject) => register((error) => (error ? reject(error) : resolvePromise())));
}

export interface RunningMount {
  fuse: Fuse;
  stats: MountStats;
  unmount(): Promise<void>;
}

/** Mounts. The warehouse is BigQuery unless one is given. */
export async function startMount(options: MountOptions, log: Logger, warehouse?: LogWarehouse): Promise<RunningMount> {
  const mountpoint = resolve(options.mountpoint);
  // The mountpoint and FUSE first: a mistake there is found before BigQuery is asked anything.
  const { allowPlaceholder } = await prepareMountpoint(mountpoint, log);
  await provideFusermount(join(options.cacheDir, 'bin'), log);
  if (warehouse === undefined) await requireCredentials(options);
  const now = () => Date.now();
  const stats = new MountStats();
  logEachQuery(log, stats, options.lookbackMs);
  const store = await openLogStore(options, log, stats, now, warehouse);
  const listings = new Listings(store.warehouse, store.source, store.hours, {
    lookbackMs: options.lookbackMs,
    listingTtlMs: options.listingTtlMs,
    sealAfterMs: options.sealAfterMs,
    now,
    zone: store.zone,
  });
  store.workloads.useMembership(listings);
  const tree = new LogTree(listings, store.hours, stats, {
    mountedAtMs: now(),
    now,
    zone: store.zone,
    allowsNamespace: namespacePolicy(options.namespaces),
    refreshMs: options.refreshMs,
  });

  // Loaded only to mount: fuse-native needs libfuse, which machines that only `fetch` may lack.
  const { createFuse, bindingFeatures } = await import('../fs/fuse-adapter.js');
  const binding = bindingFeatures();
  const fuse = createFuse(mountpoint, tree, log, {
    uid: options.uid ?? process.getuid?.() ?? 0,
    gid: options.gid ?? process.getgid?.() ?? 0,
    fileMode: options.fileMode ?? 0o444,
    allowOther: options.allowOther ?? false,
    operationTimeoutMs: options.queryTimeoutMs + 5_000,
    entryTimeoutS: 1,
    attrTimeoutS: 0,
    allowPlaceholder,
    onError: (errno) => stats.errorReturned(errno),
    binding,
  });
  await promised((cb) => fuse.mount(cb));
  await logMountStarted(log, { ...options, mountpoint }, store.source, binding);

  let unmounting: Promise<void> | undefined;
  const unmount = () => {
    unmounting ??= promised((cb) => fuse.unmount(cb))
      .then(() => tree.closeAll())
      .then(() => store.cache.close());
    return unmounting;
  };
  return { fuse, stats, unmount };
}

/**
 * A stop that unmounts, runs `beforeExit` and ends the process; a stuck unmount does not keep the
 * process alive. Give it to holdStopsWhileStarting's `started`, whose listening began before the mount.
 */
export function unmountAndExit(
  mount: RunningMount,
  log: Logger,
  beforeExit?: () => Promise<void>,
): (reason: string) => void {
  return (reason) => {
    log.info({ reason }, 'unmounting');
    setTimeout(() => process.exit(1), 2_000).unref();
    mount
      .unmount()
      .then(() => beforeExit?.())
      .then(
        () => process.exit(0),
        (error: unknown) => {
          log.error({ err: error }, 'unmount failed');
          process.exit(1);
        },
      );
  };
}
