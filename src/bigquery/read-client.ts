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

export async function createReadClient(target: ReadClientTarget): Promise<BigQueryReadClient> {
  const { BigQueryReadClient } = await import('@google-cloud/bigquery-storage');
  const endpoint = target.readApiEndpoint;
  if (endpoint === undefined) return new BigQueryReadClient();
  const { hostAndPort, plainTextReadClientOptions } = await import('./plain-text-read-client.js');
  if (sendsCredentials(target.auth, `http://${endpoint}`)) return new BigQueryReadClient(hostAndPort(endpoint));
  return new BigQueryReadClient(plainTextReadClientOptions(endpoint));
}
