// What a user could do instead of mounting, measured against the mount: the bare
// @google-cloud/bigquery client paging the mount's own query into a file, a script that pages just
// the hour's textPayload, and the physical limit (the local server's DuckDB writing those rows
// straight to a file).
import { createWriteStream } from 'node:fs';
import type { BigQuery, Job } from '@google-cloud/bigquery';
import { logQuery } from '../src/bigquery/log-queries.js';
import type { LogSource } from '../src/bigquery/query-builder.js';
import type { Emulator } from '../src/emulator/server.js';
import type { ContainerRef } from '../src/model/log-path.js';
import { dayRange, hourRange } from '../src/model/time-model.js';
import { HOUR } from './data.js';

async function writeLines(path: string, pages: AsyncIterable<(string | null)[]>): Promise<void> {
  const out = createWriteStream(path);
  for await (const lines of pages) {
    const text = lines.map((line) => `${line ?? ''}\n`).join('');
    if (!out.write(text)) await new Promise<void>((resolve) => out.once('drain', () => resolve()));
  }
  await new Promise<void>((done) => out.end(done));
}

/** Every page of a job's result, 10,000 rows a page, each page's rows turned into lines by `lines`. */
async function* resultPages<Row>(
  job: Job,
  options: { skipParsing?: boolean },
  lines: (rows: Row[]) => (string | null)[],
): AsyncGenerator<(string | null)[]> {
  let pageToken: string | undefined;
  do {
    const [rows, , response] = await job.getQueryResults({
      autoPaginate: false,
      maxResults: 10_000,
      ...options,
      ...(pageToken && { pageToken }),
    } as never);
    yield lines(rows as unknown as Row[]);
    pageToken = (response as { pageToken?: string } | undefined)?.pageToken;
  } while (pageToken);
}

/** The mount's own query (the namespace-day's sweep), every page as REST gives it, payloads into a file. */
export async function sameQueryOverRest(
  client: BigQuery,
  source: LogSource,
  ref: ContainerRef,
  day: string,
  path: string,
) {
  const query = logQuery(source, {
    kind: 'sweep',
    scope: { namespaces: [ref.namespace] },
    range: dayRange(day),
    timeZone: 'UTC',
    fullEntries: false,
  }).statement;
  const [job] = await client.createQueryJob({ query: query.sql, params: query.params, types: query.types });
  const textColumn = 10;
  const lines = (rows: { f: { v: string | null }[] }[]) => rows.map((row) => row.f[textColumn]?.v ?? null);
  await writeLines(path, resultPages(job, { skipParsing: true }, lines));
}

const NAIVE_SQL = (project: string, dataset: string) =>
  `SELECT textPayload FROM \`${project}.${dataset}.stdout\`\n` +
  'WHERE timestamp >= @start AND timestamp < @end\n' +
  '  AND resource.labels.namespace_name = @namespace AND resource.labels.pod_name = @pod\n' +
  '  AND resource.labels.container_name = @container\n' +
  'ORDER BY timestamp, insertId';

function naiveParams(ref: ContainerRef, day: string) {
  const range = hourRange(day, HOUR);
  return {
    start: new Date(range.startMs).toISOString(),
    end: new Date(range.endMs).toISOString(),
    namespace: ref.namespace,
    pod: ref.pod,
    container: ref.container,
  };
}

/** What a script writer does: just the hour's textPayload, 10,000 rows a page, rows as the client parses them. */
/** The textPayload script's query as a job: with its ORDER BY, or without it (its rows in any order). */
export async function hourJob(client: BigQuery, ref: ContainerRef, day: string, ordered = true): Promise<Job> {
  const params = naiveParams(ref, day);
  const sql = NAIVE_SQL(client.projectId, 'bench_logs');
  const [job] = await client.createQueryJob({
    query: ordered ? sql : sql.slice(0, sql.lastIndexOf('\nORDER BY')),
    params: { ...params, start: client.timestamp(params.start), end: client.timestamp(params.end) },
  });
  return job;
}

export async function naiveScript(client: BigQuery, ref: ContainerRef, day: string, path: string): Promise<void> {
  const job = await hourJob(client, ref, day);
  const lines = (rows: { textPayload: string | null }[]) => rows.map((row) => row.textPayload);
  await writeLines(path, resultPages(job, {}, lines));
}

/** The naive script's query, its rows written straight to a file by the local server's DuckDB. */
export async function physicalLimit(emulator: Emulator, project: string, ref: ContainerRef, day: string, path: string) {
  const params = naiveParams(ref, day);
  const parameter = (name: string, type: string, value: string) => ({
    name,
    parameterType: { type },
    parameterValue: { value },
  });
  await emulator.exportQuery(
    {
      projectId: project,
      query: NAIVE_SQL(project, 'bench_logs'),
      parameterMode: 'NAMED',
      queryParameters: [
        parameter('start', 'TIMESTAMP', params.start),
        parameter('end', 'TIMESTAMP', params.end),
        parameter('namespace', 'STRING', params.namespace),
        parameter('pod', 'STRING', params.pod),
        parameter('container', 'STRING', params.container),
      ],
    },
    path,
  );
}
