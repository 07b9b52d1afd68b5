// Loads the demo's cluster into a dataset of the local server: its recent history, then what its
// pods keep logging, inserted every few seconds while the server runs.
import type { BigQuery } from '@google-cloud/bigquery';
import type { Logger } from 'pino';
import { daysIn, HOUR_MS } from '../model/time-model.js';
import { startLiveFeed, type LiveFeed } from './live-feed.js';
import { createSinkTables, insertEntries } from './sink-tables.js';
import { SYNTHETIC_JSON_FIELDS, syntheticEntries } from './synthetic-logs.js';

export interface DemoClusterOptions {
  /** Hours of history loaded at once. */
  historyHours: number;
  /** How often the cluster's newest entries are inserted. */
  liveEveryMs: number;
}

export async function loadDemoCluster(
  client: BigQuery,
  datasetId: string,
  options: DemoClusterOptions,
  log: Logger,
): Promise<{ loaded: number; live: LiveFeed }> {
  const now = Date.now();
  const startMs = now - options.historyHours * HOUR_MS;
  const days = daysIn({ startMs, endMs: now + HOUR_MS });
  await createSinkTables(client, datasetId, 'partitioned', days, SYNTHETIC_JSON_FIELDS);
  const loaded = await insertEntries(client, datasetId, 'partitioned', syntheticEntries(startMs, now));
  // The same pods keep logging: the live feed continues the history where it ended.
  const live = startLiveFeed(client, datasetId, { fromMs: now, everyMs: options.liveEveryMs }, log);
  return { loaded, live };
}
