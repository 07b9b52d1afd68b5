// A real @google-cloud/bigquery client pointed at the emulator.
import { BigQuery, type BigQueryOptions } from '@google-cloud/bigquery';

/**
 * The client always asks its auth client to authorize each request (it does
 * not treat apiEndpoint/BIGQUERY_EMULATOR_HOST as "no auth"). Without
 * credentials google-auth-library would search for Application Default
 * Credentials, including probing the GCE metadata server over the network.
 * GoogleAuth uses a provided `authClient` as-is and only calls its
 * getRequestHeaders(), so a stub that returns no headers keeps the client
 * fully offline. The emulator ignores Authorization anyway.
 */
export const offlineAuthClient = {
  getRequestHeaders: async (): Promise<Headers> => new Headers(),
} as unknown as NonNullable<BigQueryOptions['authClient']>;

/**
 * autoRetry is off: the daemon retries by its own policy (bigquery-access.ts), and a client that
 * quietly retried broken connections itself would hide the emulator's injected faults from it.
 */
export function emulatorClient(url: string, projectId: string): BigQuery {
  return new BigQuery({ projectId, apiEndpoint: url, authClient: offlineAuthClient, autoRetry: false });
}
