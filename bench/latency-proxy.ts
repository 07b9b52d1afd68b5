// A TCP forwarder that delays every chunk by half a round trip in each direction: a network with
// latency in front of the local server, for REST and gRPC alike. Unlike the fault plan's per-request
// latency, it also delays what HTTP/2 flow control waits for (WINDOW_UPDATE frames), so a client
// whose receive window is small waits a round trip per window, as it would on a real network.
// Bandwidth is not limited.
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import type { BigQuery } from '@google-cloud/bigquery';
import { emulatorClient } from '../src/emulator/client.js';
import type { Emulator } from '../src/emulator/server.js';
import { PROJECT } from './data.js';

export interface LatencyProxy {
  /** `host:port` to connect to instead of the target. */
  address: string;
  close(): Promise<void>;
}

/** Writes what `from` sends to `to`, `delayMs` later, in order. */
function forward(from: Socket, to: Socket, delayMs: number): void {
  from.on('data', (chunk) => {
    if (delayMs === 0) to.write(chunk);
    // Timers of one duration fire in the order they were set, so chunks stay in order.
    else setTimeout(() => to.destroyed || to.write(chunk), delayMs);
  });
  from.on('end', () => setTimeout(() => to.end(), delayMs));
  from.on('error', () => to.destroy());
  from.on('close', () => setTimeout(() => to.destroy(), delayMs));
}

/** Listens on 127.0.0.1 and forwards each connection to `target` (`host:port`), with `rttMs` of round trip. */
export async function startLatencyProxy(target: string, rttMs: number): Promise<LatencyProxy> {
  const split = target.lastIndexOf(':');
  const host = target.slice(0, split).replace(/^\[|\]$/g, '');
  const port = Number(target.slice(split + 1));
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const upstream = connect({ host, port });
    for (const socket of [client, upstream]) {
      socket.setNoDelay(true);
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
    }
    forward(client, upstream, rttMs / 2);
    forward(upstream, client, rttMs / 2);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port: listening } = server.address() as AddressInfo;
  return {
    address: `127.0.0.1:${listening}`,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** The local server as the mount and the baselines reach it: directly, or across `rttMs` of round trip. */
export interface Network {
  server: { url: string; storageAddress: string };
  /** A bare client reaching the server the same way, for the baselines. */
  client: BigQuery;
  close(): Promise<void>;
}

export async function networkTo(emulator: Emulator, rttMs: number): Promise<Network> {
  const proxies =
    rttMs > 0
      ? await Promise.all([
          startLatencyProxy(new URL(emulator.url).host, rttMs),
          startLatencyProxy(emulator.storageAddress, rttMs),
        ])
      : [];
  const [rest, storage] = proxies;
  const server = {
    url: rest ? `http://${rest.address}` : emulator.url,
    storageAddress: storage?.address ?? emulator.storageAddress,
  };
  return {
    server,
    client: emulatorClient(server.url, PROJECT),
    close: async () => {
      for (const proxy of proxies) await proxy.close();
    },
  };
}
