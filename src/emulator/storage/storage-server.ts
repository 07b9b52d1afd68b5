// The gRPC server of the Storage Read API, on its own port, without TLS (it is meant for loopback).
import { Server, ServerCredentials } from '@grpc/grpc-js';
import { bigQueryReadService } from './protocol.js';
import { ReadService, type ReadServiceDeps } from './read-service.js';

export interface StorageServer {
  /** host:port, as a gRPC client's target (an IPv6 host in brackets). */
  address: string;
  port: number;
  close(): Promise<void>;
}

const SHUTDOWN_GRACE_MS = 1_000;

export async function startStorageServer(host: string, port: number, deps: ReadServiceDeps): Promise<StorageServer> {
  const server = new Server({
    'grpc.max_send_message_length': -1,
    'grpc.max_receive_message_length': 16 * 1024 * 1024,
  });
  const service = new ReadService(deps);
  server.addService(bigQueryReadService(), service.handlers());
  const hostPart = host.includes(':') ? `[${host}]` : host;
  const bound = await new Promise<number>((resolve, reject) =>
    server.bindAsync(`${hostPart}:${port}`, ServerCredentials.createInsecure(), (err, actual) =>
      err ? reject(err) : resolve(actual),
    ),
  );
  return {
    address: `${hostPart}:${bound}`,
    port: bound,
    close: async () => {
      await new Promise<void>((resolve) => {
        const force = setTimeout(() => {
          server.forceShutdown();
          resolve();
        }, SHUTDOWN_GRACE_MS);
        server.tryShutdown(() => {
          clearTimeout(force);
          resolve();
        });
      });
      // Cancelled calls still hold DuckDB connections until their read loop notices.
      await service.drain();
    },
  };
}
