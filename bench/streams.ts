// `node --import tsx bench/streams.ts`: one stream or several? Reads the big hour's rows through the
// Storage Read API from two kept results of the same query: with its ORDER BY (which BigQuery, and
// the local server, serve as one stream, the only way that order is kept) and without it (served as
// up to `--streams` streams, read at once, in no order). Each response is parsed as Arrow, as the
// mount does; nothing is written. Both reads alternate, `--runs` times; it prints the medians.
//
//   node --import tsx bench/streams.ts --hour-mib 1024 --streams 4 --runs 3 [--db FILE]
import { parseArgs } from 'node:util';
import { BigQueryReadClient } from '@google-cloud/bigquery-storage';
import { RecordBatchReader } from 'apache-arrow';
import { RECEIVE_WINDOW_BYTES } from '../src/bigquery/read-client.js';
import { emulatorClient } from '../src/emulator/client.js';
import { emulatorReadClientOptions } from '../src/emulator/storage/client-options.js';
import { hourJob } from './baselines.js';
import { bigHourServer } from './big-hour-server.js';
import { benchDay, PROJECT, sizedHours } from './data.js';
import { timed } from './measure.js';
import { median } from './report.js';

const { values } = parseArgs({
  options: {
    'hour-mib': { type: 'string', default: '1024' },
    streams: { type: 'string', default: '4' },
    runs: { type: 'string', default: '3' },
    /** A DuckDB file for the local server, as bench/cold-read.ts --db: loaded unless it exists. */
    db: { type: 'string' },
  },
});
const big = sizedHours(Number(values['hour-mib']) * 2 ** 20).at(-1)!;
const day = benchDay();
// Both results are kept while they are read in turns: about 1.2 GiB each for the 1 GiB hour.
const emulator = await bigHourServer(big, day, values.db, { maxResultBytes: 8 * 1024 ** 3 });
const client = emulatorClient(emulator.url, PROJECT);
const reader = new BigQueryReadClient({
  ...emulatorReadClientOptions(emulator.storageAddress),
  'grpc-node.flow_control_window': RECEIVE_WINDOW_BYTES,
});

/** The table the hour's query, ordered or not, kept its result in. */
async function resultTable(ordered: boolean): Promise<string> {
  const job = await hourJob(client, big.ref, day, ordered);
  await job.promise();
  const [metadata] = await job.getMetadata();
  const table = (metadata as { configuration: { query: { destinationTable: Record<string, string> } } }).configuration
    .query.destinationTable;
  return `projects/${table.projectId}/datasets/${table.datasetId}/tables/${table.tableId}`;
}

/** Reads every stream of a read session of `table` at once; the rows read and the streams there were. */
async function readAll(table: string, maxStreamCount: number): Promise<{ rows: number; streams: number }> {
  const [session] = await reader.createReadSession({
    parent: `projects/${PROJECT}`,
    readSession: { table, dataFormat: 'ARROW' },
    maxStreamCount,
  });
  const schema = session.arrowSchema?.serializedSchema as Uint8Array;
  const counts = await Promise.all(
    (session.streams ?? []).map(async ({ name }) => {
      let rows = 0;
      for await (const response of reader.readRows({ readStream: name, offset: 0 })) {
        const batch = (response as { arrowRecordBatch?: { serializedRecordBatch?: Uint8Array } }).arrowRecordBatch
          ?.serializedRecordBatch;
        if (!batch?.length) continue;
        for (const recordBatch of RecordBatchReader.from(Buffer.concat([schema, batch])).readAll()) {
          rows += recordBatch.numRows;
        }
      }
      return rows;
    }),
  );
  return { rows: counts.reduce((sum, rows) => sum + rows, 0), streams: counts.length };
}

const ordered = await resultTable(true);
const unordered = await resultTable(false);
const streams = Number(values.streams);
const times = { ordered: [] as number[], unordered: [] as number[] };
for (let run = 0; run < Number(values.runs); run++) {
  for (const [side, table, count] of [
    ['ordered', ordered, 1],
    ['unordered', unordered, streams],
  ] as const) {
    let read = { rows: 0, streams: 0 };
    const ms = await timed(async () => (read = await readAll(table, count)));
    times[side].push(ms);
    process.stderr.write(
      `${side}: ${read.rows} rows through ${read.streams} stream(s) in ${(ms / 1000).toFixed(2)} s\n`,
    );
  }
}
const [one, several] = [median(times.ordered), median(times.unordered)];
process.stdout.write(
  `ordered result, one stream: median ${(one / 1000).toFixed(2)} s; unordered, up to ${streams} streams at once: ` +
    `median ${(several / 1000).toFixed(2)} s (${(several / one).toFixed(2)} of one stream)\n`,
);
await reader.close();
await emulator.close();
