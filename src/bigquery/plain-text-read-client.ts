// Options that point the official BigQueryReadClient at a Storage Read API over plain-text gRPC
// with no credentials: a BigQuery-compatible server such as the local one.
import { credentials, type ChannelCredentials } from '@grpc/grpc-js';

export interface PlainTextReadClientOptions {
  servicePath: string;
  port: number;
  sslCreds: ChannelCredentials;
  /**
   * Given explicitly, it keeps google-auth-library from looking for Application Default
   * Credentials (and probing the GCE metadata server) just to learn the universe domain.
   */
  universeDomain: string;
  [option: string]: string | number | object | undefined;
}

/** `host:port` as the client's servicePath and port; an IPv6 host keeps its brackets, as the client dials `${servicePath}:${port}`. */
export function hostAndPort(endpoint: string): { servicePath: string; port: number } {
  const split = endpoint.lastIndexOf(':');
  const port = Number(endpoint.slice(split + 1));
  if (split <= 0 || !Number.isInteger(port) || port <= 0 || port > 65_535) {
    throw new Error(`a Storage Read API endpoint is host:port, not "${endpoint}"`);
  }
  return { servicePath: endpoint.slice(0, split), port };
}

export function plainTextReadClientOptions(endpoint: string): PlainTextReadClientOptions {
  return { ...hostAndPort(endpoint), sslCreds: credentials.createInsecure(), universeDomain: 'googleapis.com' };
}
