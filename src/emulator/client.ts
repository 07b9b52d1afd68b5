// A real @google-cloud/bigquery client pointed at the local server, sending no credentials.
import type { BigQuery } from '@google-cloud/bigquery';
import { createBigQueryClient } from '../bigquery/client.js';

export function emulatorClient(url: string, projectId: string): BigQuery {
  return createBigQueryClient({ projectId, apiEndpoint: url, auth: 'none' });
}
