// What `bqlogfs emulator` loads into the local server before it serves: log entries from JSON-lines
// files (`--load`), and the demo's cluster, which then keeps logging (`--demo`).
import type { TableField } from '@google-cloud/bigquery';
import type { Logger } from 'pino';
import { emulatorClient } from '../emulator/client.js';
import { loadDemoCluster } from './demo-cluster.js';
import { readEntryFile } from './entry-file.js';
import type { LiveFeed } from './live-feed.js';
import { createSinkTables, insertEntries, type LogEntry } from './sink-tables.js';
import { SYNTHETIC_JSON_FIELDS } from './synthetic-logs.js';

export const STANDALONE_PROJECT = 'demo-project';
export const STANDALONE_DATASET = 'gke_logs';

export interface StandaloneData {
  projectId: string;
  datasetId: string;
  /** JSON-lines files of log entries. */
  files: string[];
  /** Loads the demo's cluster (this many hours of history) and keeps it logging. */
  demoHours?: number;
}

/** Loads the data into the server at `url`; the live feed, if any, runs until stopped. */
export async function loadStandalone(url: string, data: StandaloneData, log: Logger): Promise<LiveFeed | undefined> {
  const client = emulatorClient(url, data.projectId);
  // One dataset holds everything, so its jsonPayload columns are those all entries need.
  const fields: TableField[] = data.demoHours === undefined ? [] : structuredClone(SYNTHETIC_JSON_FIELDS);
  const fromFiles: LogEntry[] = [];
  for (const file of data.files) fromFiles.push(...(await readEntryFile(file, fields)).entries);
  await createSinkTables(client, data.datasetId, 'partitioned', [], fields);
  const where = `${data.projectId}.${data.datasetId}`;
  if (data.files.length > 0) {
    const loaded = await insertEntries(client, data.datasetId, 'partitioned', fromFiles);
    log.info({ files: data.files, entries: loaded, dataset: where }, `loaded ${loaded} entries into ${where}`);
  }
  if (data.demoHours === undefined) return undefined;
  const options = { historyHours: data.demoHours, liveEveryMs: 5_000 };
  const { loaded, live } = await loadDemoCluster(client, data.datasetId, options, log);
  log.info(
    { entries: loaded, dataset: where },
    `loaded the demo's cluster (${loaded} entries) into ${where}; it keeps logging`,
  );
  return live;
}
