// Prometheus metrics for every mount of this daemon, labelled by mount. Totals are read from each
// mount's MountStats when scraped, so the metrics and .bqlogfs/stats can never disagree; durations
// are observed as they happen.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { MetricsOptions } from './mount-plan.js';
import { packageVersion } from '../model/package-version.js';
import type { MountStats } from '../model/stats.js';

type Total = (stats: MountStats) => number;

const COUNTERS: [name: string, help: string, total: Total][] = [
  ['bqlogfs_reads_total', 'read() calls answered', (stats) => stats.reads],
  ['bqlogfs_read_bytes_total', 'bytes returned by read()', (stats) => stats.bytesServed],
  [
    'bqlogfs_early_reads_total',
    'read() calls of a cold hour answered before all of it was written',
    (stats) => stats.earlyReads,
  ],
  [
    'bqlogfs_direct_reads_total',
    'read() calls of finished hours in the disk cache that the FUSE binding answered from the file',
    (stats) => stats.directReads,
  ],
  [
    'bqlogfs_attribute_requests_total',
    "getattr calls and lookups the kernel sent (it keeps a finished hour's attributes for a second)",
    (stats) => stats.attributeRequests,
  ],
  ['bqlogfs_queries_total', 'BigQuery queries sent', (stats) => stats.queries],
  ['bqlogfs_bytes_billed_total', 'bytes BigQuery billed for the queries', (stats) => stats.bytesBilled],
  ['bqlogfs_bytes_processed_total', 'bytes BigQuery processed for the queries', (stats) => stats.bytesProcessed],
  ['bqlogfs_cache_hits_total', 'hour files served from the cache', (stats) => stats.cacheHits],
  ['bqlogfs_cache_misses_total', 'hour files that needed a query', (stats) => stats.cacheMisses],
  [
    'bqlogfs_cache_files_checked_total',
    'hour files an earlier daemon left in the disk cache, found to match the checksums of their manifest',
    (stats) => stats.cacheFilesChecked,
  ],
  ['bqlogfs_refreshes_total', 'fetches of live hours again while a reader has them open', (stats) => stats.refreshes],
  [
    'bqlogfs_refresh_bytes_billed_total',
    'bytes BigQuery billed for those refreshes',
    (stats) => stats.refreshBytesBilled,
  ],
  ['bqlogfs_refreshes_skipped_total', 'refreshes the refresh budget refused', (stats) => stats.refreshesSkipped],
];

const GAUGES: [name: string, help: string, value: Total][] = [
  ['bqlogfs_cache_size_bytes', 'bytes the disk cache holds', (stats) => stats.cacheBytes],
  ['bqlogfs_queries_running', 'BigQuery queries running now', (stats) => stats.queriesRunning],
  ['bqlogfs_queries_running_peak', 'the most BigQuery queries that ran at once', (stats) => stats.peakQueriesRunning],
];

type ByLabel = (stats: MountStats) => Readonly<Record<string, number>>;

/** Counters with one series per value of a second label, besides `mount`. */
const LABELLED_COUNTERS: [name: string, help: string, label: string, counts: ByLabel][] = [
  ['bqlogfs_errors_total', 'errors returned to the kernel, by errno', 'errno', (stats) => stats.errors],
  [
    'bqlogfs_query_failures_total',
    "BigQuery queries that failed, by BigQuery's reason (notFound, accessDenied, timeout, …)",
    'reason',
    (stats) => stats.failureReasons,
  ],
];

export class Metrics {
  readonly registry = new Registry();
  private readonly mounts = new Map<string, MountStats>();
  private readonly readSeconds: Histogram<'mount'>;
  private readonly querySeconds: Histogram<'mount' | 'kind'>;

  constructor(version: string) {
    collectDefaultMetrics({ register: this.registry, prefix: 'bqlogfs_' });
    new Gauge({
      name: 'bqlogfs_build_info',
      help: 'always 1; the labels say which bqlogfs and Node.js run',
      labelNames: ['version', 'node'],
      registers: [this.registry],
    }).set({ version, node: process.version }, 1);
    const mounts = this.mounts;
    for (const [name, help, total] of COUNTERS) {
      new Counter({
        name,
        help,
        labelNames: ['mount'],
        registers: [this.registry],
        collect() {
          this.reset();
          for (const [mount, stats] of mounts) this.inc({ mount }, total(stats));
        },
      });
    }
    for (const [name, help, value] of GAUGES) {
      new Gauge({
        name,
        help,
        labelNames: ['mount'],
        registers: [this.registry],
        collect() {
          for (const [mount, stats] of mounts) this.set({ mount }, value(stats));
        },
      });
    }
    for (const [name, help, label, counts] of LABELLED_COUNTERS) {
      new Counter({
        name,
        help,
        labelNames: ['mount', label],
        registers: [this.registry],
        collect() {
          this.reset();
          for (const [mount, stats] of mounts) {
            for (const [value, count] of Object.entries(counts(stats))) this.inc({ mount, [label]: value }, count);
          }
        },
      });
    }
    this.readSeconds = new Histogram({
      name: 'bqlogfs_read_duration_seconds',
      help: "time to answer one read() on the daemon's JS thread (all but bqlogfs_direct_reads_total)",
      labelNames: ['mount'],
      buckets: [0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5],
      registers: [this.registry],
    });
    this.querySeconds = new Histogram({
      name: 'bqlogfs_query_duration_seconds',
      help: 'time from sending a query to its last result page, by kind (sweep, entries, listing, hours, pods)',
      labelNames: ['mount', 'kind'],
      buckets: [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300],
      registers: [this.registry],
    });
  }

  /** Starts reporting a mount's statistics under the label `mount`. */
  watch(mount: string, stats: MountStats): void {
    this.mounts.set(mount, stats);
    stats.listen({
      readDone: (_bytes, durationMs) => this.readSeconds.observe({ mount }, durationMs / 1000),
      queryDone: (label, query) => this.querySeconds.observe({ mount, kind: label.kind }, query.durationMs / 1000),
    });
  }
}

export interface MetricsServer {
  metrics: Metrics;
  url: string;
  close(): Promise<void>;
}

/** Serves `GET /metrics` in Prometheus' text format. */
export async function startMetricsServer(options: MetricsOptions, log: Logger): Promise<MetricsServer> {
  const metrics = new Metrics(await packageVersion());
  const server: Server = createServer((request, response) => {
    if (request.method !== 'GET' || (request.url ?? '').split('?')[0] !== '/metrics') {
      response.writeHead(404, { 'content-type': 'text/plain' }).end('see /metrics\n');
      return;
    }
    metrics.registry.metrics().then(
      (text) => response.writeHead(200, { 'content-type': metrics.registry.contentType }).end(text),
      (error: unknown) => {
        log.error({ err: error }, 'could not collect metrics');
        response.writeHead(500).end();
      },
    );
  });
  await new Promise<void>((resolveListen, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) =>
      reject(new Error(`metrics endpoint ${options.host}:${options.port}: ${error.code ?? error.message}`)),
    );
    server.listen(options.port, options.host, () => resolveListen());
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://${options.host.includes(':') ? `[${options.host}]` : options.host}:${port}/metrics`;
  log.info({ url }, 'serving metrics');
  return {
    metrics,
    url,
    close: () =>
      new Promise<void>((resolveClose) => {
        server.close(() => resolveClose());
        server.closeAllConnections();
      }),
  };
}
