// The BigQuery Storage Read API client a mount reads query results through, and where it connects:
// Google's endpoint with Application Default Credentials, or a local server's gRPC port in plain text.
// The client (gRPC, protobufs) and apache-arrow load only when the first result is read.
import type { BigQueryReadClient } from '@google-cloud/bigquery-storage';
import { sendsCredentials, type AuthMode } from './client.js';

export interface ReadClientTarget {
  apiEndpoint?: string;
  /** `host:port` of the Storage Read API; Google's when absent. */
  readApiEndpoint?: string;
  auth?: AuthMode;
}

/** Why results of this target are read over REST whatever is asked, or undefined when they need not be. */
export function restOnlyReason(target: ReadClientTarget): string | undefined {
  if (target.apiEndpoint !== undefined && target.readApiEndpoint === undefined) {
    return '--api-endpoint is set but --read-api-endpoint is not, so the Storage Read API of that server is unknown';
  }
  return undefined;
}

function hostAndPort(endpoint: string): { servicePath: string; port: number } {
  const split = endpoint.lastIndexOf(':');
  const port = Number(endpoint.slice(split + 1));
  if (split <= 0 || !Number.isInteger(port) || port <= 0 || port > 65_535) {
    throw new Error(`--read-api-endpoint takes host:port, not "${endpoint}"`);
  }
  // The client dials `${servicePath}:${port}`, so an IPv6 host keeps its brackets.
  return { servicePath: endpoint.slice(0, split), port };
}

export async function createReadClient(target: ReadClientTarget): Promise<BigQueryReadClient> {
  const { BigQueryReadClient } = await import('@google-cloud/bigquery-storage');
  if (target.readApiEndpoint === undefined) return new BigQueryReadClient();
  const endpoint = hostAndPort(target.readApiEndpoint);
  if (sendsCredentials(target.auth, `http://${target.readApiEndpoint}`)) return new BigQueryReadClient(endpoint);
  const { credentials } = await import('@grpc/grpc-js');
  return new BigQueryReadClient({
    ...endpoint,
    sslCreds: credentials.createInsecure(),
    // Given explicitly, it keeps google-auth-library from looking for Application Default
    // Credentials (and probing the GCE metadata server) just to learn the universe domain.
    universeDomain: 'googleapis.com',
  });
}
