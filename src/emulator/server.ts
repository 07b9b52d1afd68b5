// Local BigQuery-compatible server: a subset of the BigQuery REST API v2
// backed by an embedded DuckDB that executes the (translated) SQL.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AuthorizationRecord } from './authorization.js';
import { Catalog } from './catalog.js';
import { exportQuery } from './export-query.js';
import type { QueryRequest } from './planner.js';
import { Database } from './database.js';
import { BqError, asBqError } from './errors.js';
import { addFaultRoutes, FaultInjector } from './faults.js';
import { JobService } from './jobs.js';
import { ResultStore } from './results.js';
import { buildRouter } from './routes.js';
import { startStorageServer } from './storage/storage-server.js';

export interface EmulatorOptions {
  /** 0 = ephemeral; default 9050. */
  port?: number;
  /** gRPC port of the Storage Read API; default the port after `port` (ephemeral when `port` is 0). */
  storagePort?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** DuckDB file; default in-memory ':memory:'. */
  dbPath?: string;
  /** The memory kept query results may take together (ResultStoreOptions.maxBytes); default 2 GiB. */
  maxResultBytes?: number;
  logger?: { info(o: object, msg?: string): void; warn(o: object, msg?: string): void };
}

export interface Emulator {
  /** e.g. http://127.0.0.1:9050 */
  url: string;
  port: number;
  /** host:port of the Storage Read API (gRPC, no TLS), e.g. 127.0.0.1:9051 */
  storageAddress: string;
  storagePort: number;
  /** Fault injection for tests; also driven over HTTP at /emulator/faults. */
  faults: FaultInjector;
  /** What the Authorization headers of BigQuery requests held; also at /emulator/authorization. */
  authorization: AuthorizationRecord;
  /** Runs a GoogleSQL query and has DuckDB write its rows straight to `path`: the physical limit, for benchmarks. */
  exportQuery(request: QueryRequest, path: string): Promise<void>;
  close(): Promise<void>;
}

const MAX_BODY_BYTES = 256 * 1024 * 1024;

async function readBody(req: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw BqError.invalid('Request body too large');
    chunks.push(chunk as Buffer);
  }
  if (size === 0) return {};
  try {
    const parsed: unknown = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    return typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, unknown>) : {};
  } catch {
    throw BqError.invalid('Request body is not valid JSON');
  }
}

function send(res: ServerResponse, status: number, body: unknown): void {
  if (status === 204 || body === undefined) {
    res.writeHead(status === 200 ? 204 : status).end();
    return;
  }
  const text = JSON.stringify(body);
  res
    .writeHead(status, { 'content-type': 'application/json; charset=UTF-8', 'content-length': Buffer.byteLength(text) })
    .end(text);
}

export async function startEmulator(options: EmulatorOptions = {}): Promise<Emulator> {
  const logger = options.logger ?? { info: () => undefined, warn: () => undefined };
  const db = await Database.open(options.dbPath ?? ':memory:');
  const catalog = new Catalog(db);
  await catalog.load();
  const results = new ResultStore(db, {
    ...(options.maxResultBytes !== undefined && { maxBytes: options.maxResultBytes }),
  });
  const jobs = new JobService(catalog, results);
  const router = buildRouter(db, catalog, jobs, results);
  const faults = new FaultInjector();
  addFaultRoutes(router, faults);
  const authorization = new AuthorizationRecord();
  router.add('GET', '/emulator/authorization', () => ({ body: authorization.stats() }));

  const server = createServer((req, res) => {
    const started = Date.now();
    const url = new URL(req.url ?? '/', 'http://emulator');
    const method = req.method ?? 'GET';
    if (!url.pathname.startsWith('/emulator/')) authorization.record(req.headers.authorization);
    const route = router.match(method, url.pathname);
    void (async () => {
      let status: number;
      try {
        if (!route) throw BqError.notFound(`URL ${method} ${url.pathname}`);
        const body = method === 'GET' || method === 'DELETE' ? {} : await readBody(req);
        const request = { params: route.params, query: url.searchParams, body };
        const out = await faults.serve({ method, pathname: url.pathname, params: route.params }, res, async () =>
          route.handler(request),
        );
        if (out === undefined) return;
        status = out.status ?? 200;
        send(res, status, out.body);
      } catch (err) {
        const e = asBqError(err);
        status = e.code;
        if (status >= 500) logger.warn({ err: e.message, method, path: url.pathname }, 'emulator request failed');
        send(res, status, e.toResponseBody());
      }
      logger.info({ method, path: url.pathname, status, ms: Date.now() - started }, 'emulator request');
    })();
  });

  // Node closes a keep-alive connection after 5 s idle; a client that sends on it at that moment gets
  // ECONNRESET, and a client that does not retry (a test's insertAll) fails. Idle gaps of a minute are
  // much rarer than gaps of a few seconds.
  server.keepAliveTimeout = 65_000;
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 9050, host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  const storagePort = options.storagePort ?? (options.port === 0 ? 0 : (options.port ?? 9050) + 1);
  const storage = await startStorageServer(host, storagePort, {
    db,
    catalog,
    jobs,
    results,
    faults,
    stats: jobs.stats,
  }).catch(async (err: unknown) => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await db.close();
    throw err;
  });
  logger.info(
    { url, storageAddress: storage.address, dbPath: options.dbPath ?? ':memory:' },
    'BigQuery emulator listening',
  );

  let closed: Promise<void> | undefined;
  return {
    url,
    port,
    storageAddress: storage.address,
    storagePort: storage.port,
    faults,
    authorization,
    exportQuery: (request, path) => exportQuery(db, catalog, request, path),
    close: () => {
      closed ??= (async () => {
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        });
        await storage.close();
        await db.close();
      })();
      return closed;
    },
  };
}
