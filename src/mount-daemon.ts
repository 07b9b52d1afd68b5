// Wires the parts together for one mount and runs it until SIGINT/SIGTERM.
import { execFile } from 'node:child_process';
import { readdir, stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { BigQuery } from '@google-cloud/bigquery';
import type Fuse from 'fuse-native';
import type { Logger } from 'pino';
import { BigQueryAccess } from './bigquery-access.js';
import { cacheKey, DiskCache } from './disk-cache.js';
import type { OutputOptions } from './entry-format.js';
import { offlineAuthClient } from './emulator/client.js';
import { HourStore } from './hour-store.js';
import { Listings } from './listings.js';
import type { SchemaChoice } from './log-schemas.js';
import { LogTree } from './log-tree.js';
import type { LogSource, NamespaceRestriction } from './query-builder.js';
import { namespacePolicy } from './namespace-policy.js';
import { mountedPaths } from './mount-table.js';
import { RefreshBudget } from './refresh-budget.js';
import { MountStats } from './stats.js';
import { TimeZoneModel } from './time-model.js';

/** What `openLogStore` needs: where the logs are, the cache, and how queries run. */
export interface LogStoreOptions {
  projectId: string;
  datasetId: string;
  apiEndpoint?: string;
  /** Which credentials requests carry; `auto` when absent. */
  auth?: AuthMode;
  cacheDir: string;
  /** Bound on the disk cache; least recently used container-days are evicted beyond it. */
  cacheMaxBytes: number;
  sealAfterMs: number;
  refreshMs: number;
  /** Bytes that refreshes of live hours may bill within any hour; unbounded when absent. */
  refreshBudgetBytes?: number;
  queryTimeoutMs: number;
  maxBytesBilled?: number;
  maxConcurrentQueries: number;
  /** IANA zone of day directories and hour files; UTC when absent. */
  timeZone?: string;
  /** Each line starts with the entry's timestamp. */
  timestamps?: boolean;
  format?: 'text' | 'json';
  /** Only these namespaces are visible and readable. */
  namespaces?: NamespaceRestriction;
  /** Which layout of log tables to read; `auto` (a sink's tables, else a Log Analytics view) when absent. */
  schema?: SchemaChoice;
  /** Only entries of this cluster (`--cluster`), for datasets that hold several. */
  cluster?: string;
}

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

/** Bumped whenever the bytes of an hour file would change for the same rows. */
const FILE_FORMAT_VERSION = 1;
const PLACEHOLDER = '.gitkeep';

export function defaultCacheDir(): string {
  return join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'bqlogfs');
}

/** An endpoint on this machine, which `--auth auto` takes for a local BigQuery-compatible server: no credentials. */
export function isLoopback(endpoint: string): boolean {
  const host = new URL(endpoint).hostname;
  return host === 'localhost' || host === '[::1]' || /^127\./.test(host);
}

export const AUTH_MODES = ['auto', 'adc', 'none'] as const;
/** `auto`: Application Default Credentials, none for a loopback endpoint; `adc`: always; `none`: never. */
export type AuthMode = (typeof AUTH_MODES)[number];

/** Whether requests to the endpoint carry Application Default Credentials. */
export function sendsCredentials(auth: AuthMode | undefined, apiEndpoint?: string): boolean {
  if (auth === 'adc') return true;
  if (auth === 'none') return false;
  return apiEndpoint === undefined || !isLoopback(apiEndpoint);
}

export function createBigQueryClient(target: Pick<LogStoreOptions, 'projectId' | 'apiEndpoint' | 'auth'>): BigQuery {
  const { projectId, apiEndpoint } = target;
  return new BigQuery({
    projectId,
    ...(apiEndpoint !== undefined && { apiEndpoint }),
    // Without it the client would look for Application Default Credentials.
    ...(!sendsCredentials(target.auth, apiEndpoint) && { authClient: offlineAuthClient }),
    // Retries follow one policy, in bigquery-access, so the client's own are off.
    autoRetry: false,
  });
}

const run = promisify(execFile);

async function isMountpoint(path: string): Promise<boolean> {
  return (await mountedPaths()).has(path);
}

/** Clears what a crashed daemon left behind ("Transport endpoint is not connected"). */
async function recoverStaleMount(path: string, log: Logger): Promise<void> {
  if (!(await isMountpoint(path))) return;
  const error = await stat(path).then(
    () => undefined,
    (failure: NodeJS.ErrnoException) => failure,
  );
  if (error?.code !== 'ENOTCONN' && error?.code !== 'ECONNABORTED') {
    throw new Error(`${path} is already mounted; unmount it first (bqlogfs unmount ${path})`);
  }
  log.warn({ mountpoint: path }, 'recovering a stale mount left by a crashed daemon');
  await run('fusermount', ['-uz', path]);
}

async function checkMountpoint(path: string): Promise<{ allowPlaceholder: boolean }> {
  const entries = await readdir(path).catch((error: NodeJS.ErrnoException) => {
    throw new Error(`mountpoint ${path} is not usable: ${error.code ?? error.message}`);
  });
  const others = entries.filter((entry) => entry !== PLACEHOLDER);
  if (others.length > 0) throw new Error(`mountpoint ${path} is not empty`);
  return { allowPlaceholder: entries.length > 0 };
}

function promised(register: (cb: (error: Error | null) => void) => void): Promise<void> {
  return new Promise((resolvePromise, reject) => register((error) => (error ? reject(error) : resolvePromise())));
}

function tableIdsOf(source: LogSource): string[] {
  return source.tables.map((table) => table.tableId);
}

export interface LogStore {
  access: BigQueryAccess;
  source: LogSource;
  cache: DiskCache;
  hours: HourStore;
  zone: TimeZoneModel;
}

/** The parts that read hour files, wired the same way for the mount and for `fetch`, so both share one cache. */
export async function openLogStore(
  options: LogStoreOptions,
  log: Logger,
  stats: MountStats,
  now: () => number,
  client?: BigQuery,
): Promise<LogStore> {
  const bigquery = client ?? createBigQueryClient(options);
  const access = new BigQueryAccess(
    bigquery,
    log,
    {
      pageRows: 2_000,
      timeoutMs: options.queryTimeoutMs,
      maxConcurrentQueries: options.maxConcurrentQueries,
      ...(options.maxBytesBilled !== undefined && { maxBytesBilled: options.maxBytesBilled }),
    },
    {
      queryStarted: () => stats.queryStarted(),
      queryDone: (purpose, query) => stats.recordQuery(purpose, query),
      queryFailed: () => stats.queryFailed(),
    },
  );
  const discovered = await access.discoverSource(options.projectId, options.datasetId, options.schema);
  const source: LogSource = {
    ...discovered,
    ...(options.namespaces && { namespaces: options.namespaces }),
    ...(options.cluster !== undefined && { cluster: options.cluster }),
  };
  if (source.cluster !== undefined && !source.schema?.cluster) {
    throw new Error('--cluster needs a cluster column: add cluster = "<column>" to the custom schema');
  }
  const zone = new TimeZoneModel(options.timeZone ?? 'UTC');
  const output: OutputOptions = { timestamps: options.timestamps ?? false, format: options.format ?? 'text' };
  log.info(
    { schema: source.schema?.kind, layout: source.layout, tables: source.tables.map((table) => table.tableId) },
    'found log tables',
  );
  const cache = await DiskCache.open(
    options.cacheDir,
    cacheKey({
      project: options.projectId,
      dataset: options.datasetId,
      layout: source.layout,
      FILE_FORMAT_VERSION,
      zone: zone.zone,
      ...output,
      // A sink's key stays what it always was, so existing caches stay valid.
      ...(source.schema && source.schema.kind !== 'sink' && { schema: source.schema, tables: tableIdsOf(source) }),
      ...(source.cluster !== undefined && { cluster: source.cluster }),
    }),
    options.cacheMaxBytes,
  );
  stats.cacheBytes = () => cache.bytesUsed;
  const hours = new HourStore(
    access,
    source,
    cache,
    {
      sealAfterMs: options.sealAfterMs,
      refreshMs: options.refreshMs,
      ...(options.refreshBudgetBytes !== undefined && {
        refreshBudget: new RefreshBudget(options.refreshBudgetBytes, log),
      }),
      now,
      output,
      zone,
    },
    stats,
  );
  return { access, source, cache, hours, zone };
}

export interface RunningMount {
  fuse: Fuse;
  stats: MountStats;
  unmount(): Promise<void>;
}

export async function startMount(options: MountOptions, log: Logger, client?: BigQuery): Promise<RunningMount> {
  const mountpoint = resolve(options.mountpoint);
  const now = () => Date.now();
  const stats = new MountStats();
  const { access, source, hours, zone } = await openLogStore(options, log, stats, now, client);
  const listings = new Listings(access, source, hours, {
    lookbackMs: options.lookbackMs,
    listingTtlMs: options.listingTtlMs,
    sealAfterMs: options.sealAfterMs,
    now,
    zone,
  });
  const tree = new LogTree(listings, hours, stats, log, {
    mountedAtMs: now(),
    now,
    zone,
    allowsNamespace: namespacePolicy(options.namespaces),
  });

  await recoverStaleMount(mountpoint, log);
  const { allowPlaceholder } = await checkMountpoint(mountpoint);
  // Loaded only to mount: fuse-native needs libfuse, which machines that only `fetch` may lack.
  const { createFuse } = await import('./fuse-adapter.js');
  const fuse = createFuse(mountpoint, tree, log, {
    uid: options.uid ?? process.getuid?.() ?? 0,
    gid: options.gid ?? process.getgid?.() ?? 0,
    fileMode: options.fileMode ?? 0o444,
    allowOther: options.allowOther ?? false,
    operationTimeoutMs: options.queryTimeoutMs + 5_000,
    entryTimeoutS: 1,
    attrTimeoutS: 0,
    allowPlaceholder,
    onError: (errno) => stats.recordError(errno),
  });
  await promised((cb) => fuse.mount(cb));
  log.info({ mountpoint }, 'mounted');

  let unmounting: Promise<void> | undefined;
  const unmount = () => {
    unmounting ??= promised((cb) => fuse.unmount(cb)).then(() => tree.closeAll());
    return unmounting;
  };
  return { fuse, stats, unmount };
}

/** Unmounts on SIGINT/SIGTERM and exits; a stuck unmount does not keep the process alive. */
export function unmountOnSignals(mount: RunningMount, log: Logger, beforeExit?: () => Promise<void>): void {
  const stop = (signal: string) => {
    log.info({ signal }, 'unmounting');
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
  process.once('SIGINT', () => stop('SIGINT'));
  process.once('SIGTERM', () => stop('SIGTERM'));
}

/** Unmounts a mountpoint whose daemon may be gone. */
export async function unmountPath(path: string): Promise<void> {
  await run('fusermount', ['-uz', resolve(path)]);
}
