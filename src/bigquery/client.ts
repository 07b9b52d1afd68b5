// The @google-cloud/bigquery client a mount, `fetch` and `doctor` talk through, and which
// credentials it sends: Application Default Credentials, or none for a local BigQuery-compatible
// server on this machine.
import { BigQuery, type BigQueryOptions } from '@google-cloud/bigquery';

export const AUTH_MODES = ['auto', 'adc', 'none'] as const;
/** `auto`: Application Default Credentials, none for a loopback endpoint; `adc`: always; `none`: never. */
export type AuthMode = (typeof AUTH_MODES)[number];

export interface ClientTarget {
  projectId: string;
  apiEndpoint?: string;
  /** Which credentials requests carry; `auto` when absent. */
  auth?: AuthMode;
}

/**
 * The client always asks its auth client to authorize each request (it does not treat
 * apiEndpoint/BIGQUERY_EMULATOR_HOST as "no auth"). Without credentials google-auth-library would
 * search for Application Default Credentials, including probing the GCE metadata server over the
 * network. GoogleAuth uses a provided `authClient` as-is and only calls its getRequestHeaders(), so
 * a stub that returns no headers keeps the client fully offline.
 */
const offlineAuthClient = {
  getRequestHeaders: async (): Promise<Headers> => new Headers(),
} as unknown as NonNullable<BigQueryOptions['authClient']>;

/** An endpoint on this machine, which `--auth auto` takes for a local BigQuery-compatible server: no credentials. */
export function isLoopback(endpoint: string): boolean {
  const host = new URL(endpoint).hostname;
  return host === 'localhost' || host === '[::1]' || /^127\./.test(host);
}

/** Whether requests to the endpoint carry Application Default Credentials. */
export function sendsCredentials(auth: AuthMode | undefined, apiEndpoint?: string): boolean {
  if (auth === 'adc') return true;
  if (auth === 'none') return false;
  return apiEndpoint === undefined || !isLoopback(apiEndpoint);
}

export function createBigQueryClient(target: ClientTarget): BigQuery {
  const { projectId, apiEndpoint } = target;
  return new BigQuery({
    projectId,
    ...(apiEndpoint !== undefined && { apiEndpoint }),
    // Without it the client would look for Application Default Credentials.
    ...(!sendsCredentials(target.auth, apiEndpoint) && { authClient: offlineAuthClient }),
    // Retries follow one policy, in query-jobs.ts; a client that quietly retried broken
    // connections itself would also hide injected faults from it.
    autoRetry: false,
  });
}
