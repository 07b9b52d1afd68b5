// The seam between the store and BigQuery: find the log tables, and run a query page by page.
// The real implementation talks to BigQuery through the official client (query-jobs.ts); wrappers
// add a concurrency limit and instrumentation; tests put an in-process fake under the same seam.
import type { QueryStats } from '../model/stats.js';
import type { LineSpec } from './line-spec.js';
import type { SchemaChoice } from './log-schemas.js';
import type { LogQuery } from './log-queries.js';
import type { LogSource } from './query-builder.js';
import type { Utf8Text } from './utf8-text.js';

/** One result row in the REST API's own form, values in the order of the SELECT list. */
export type RawRow = (string | null)[];

/**
 * A RawRow of `QueryResult.readTextRows`: the values of its bytes column may come as the UTF-8 bytes
 * they were read as (Utf8Text), valid until the delivery that handed them over resolves.
 */
export type TextRow = (string | null | Utf8Text)[];

/** Where a query's result pages go. */
export interface PageSink {
  /** Each page in order; the next one is asked for only once this resolves. */
  page(rows: RawRow[]): Promise<void>;
  /**
   * The query is being run again from the start, after some pages were handed over: drop them.
   * Without it, a job that fails after handing over pages fails the query.
   */
  restart?(): Promise<void>;
}

/**
 * A finished query's result, which BigQuery keeps for about a day: any range of its rows can be read
 * again, by row index, without running (or paying for) the query again.
 */
export interface QueryResult {
  stats: QueryStats;
  totalRows: number;
  /** Rows [start, start + count), page by page in order; each page is delivered before the next is asked for. */
  readRows(start: number, count: number, deliver: (rows: RawRow[]) => Promise<void>): Promise<void>;
  /**
   * As readRows, but a STRING value of column `bytesColumn` may come as its UTF-8 bytes (the Storage
   * Read API path), for a consumer that writes it as it is. A result without it has readRows only.
   */
  readTextRows?(
    start: number,
    count: number,
    bytesColumn: number,
    deliver: (rows: TextRow[]) => Promise<void>,
  ): Promise<void>;
  /**
   * Rows [start, start + count) as the lines of one text column, each row checked against `spec`
   * (line-spec.ts); `lines` is valid until the delivery resolves. On the Storage Read API path the
   * lines are written from the record batches without a JS value per row. A result without it has
   * readRows only.
   */
  readLines?(
    start: number,
    count: number,
    spec: LineSpec,
    deliver: (lines: Buffer, rows: number) => Promise<void>,
  ): Promise<void>;
}

export interface RunOptions {
  /** When the caller asked: the query's deadline counts from then, including any wait for a free slot. */
  requestedAtMs?: number;
  /** BigQuery refuses the query, at no charge, if it would bill more (maximumBytesBilled). */
  maxBytesBilled?: number;
}

export interface LogWarehouse {
  /** The log tables and their layout, for the schema chosen. Metadata calls only: nothing is billed. */
  discoverSource(projectId: string, datasetId: string, choice?: SchemaChoice): Promise<LogSource>;
  /** Runs the query and hands its pages to `sink` one at a time, so memory holds at most one page. */
  runQuery(query: LogQuery, sink: PageSink, options?: RunOptions): Promise<QueryStats>;
  /**
   * Runs the query to completion without reading it, and hands back its result, which BigQuery keeps
   * (about a day): any range of its rows can then be read, by row index, at no further cost.
   */
  openResult(query: LogQuery, options?: RunOptions): Promise<QueryResult>;
}
