// Whether Application Default Credentials can be found, asked once before the first request, so
// that a machine without any gets a sentence saying what to do instead of the DNS or metadata
// server error google-auth-library ends with.
import { GoogleAuth } from 'google-auth-library';
import { withDeadline } from '../model/deadline.js';
import { sendsCredentials, type ClientTarget } from './client.js';

export const ADC_FIX =
  'run gcloud auth application-default login, or set GOOGLE_APPLICATION_CREDENTIALS to a service account key file';
export const NO_ADC_MESSAGE = `no Application Default Credentials: ${ADC_FIX}`;
const BIGQUERY_SCOPE = 'https://www.googleapis.com/auth/bigquery';
const LOOKUP_TIMEOUT_MS = 15_000;

/** What went wrong finding credentials, in one line; the fix is ADC_FIX. */
export function credentialProblem(error: unknown): string {
  const message = (error as Error)?.message ?? String(error);
  if (/Could not load the default credentials/i.test(message)) return 'no Application Default Credentials';
  return `Application Default Credentials: ${message.split('\n')[0]}`;
}

/** An auth client for the target's project, as the BigQuery client would find it. */
export function applicationDefaultAuth(projectId: string): GoogleAuth {
  // With the project given, external account (workload identity federation) credentials need
  // not look it up at Cloud Resource Manager, which the identity may not be allowed to use.
  return new GoogleAuth({ projectId, scopes: [BIGQUERY_SCOPE] });
}

/** Rejects with the fix when requests to the target need credentials and none can be found. */
export async function requireCredentials(target: ClientTarget): Promise<void> {
  if (!sendsCredentials(target.auth, target.apiEndpoint)) return;
  try {
    await withDeadline(
      applicationDefaultAuth(target.projectId).getClient(),
      LOOKUP_TIMEOUT_MS,
      () => new Error(`no answer within ${LOOKUP_TIMEOUT_MS / 1000} s`),
    );
  } catch (error) {
    throw new Error(`${credentialProblem(error)}: ${ADC_FIX}`, { cause: error });
  }
}
