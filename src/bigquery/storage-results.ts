// Reading a kept query result through the BigQuery Storage Read API: one read session per result
// table, with a single stream, because BigQuery keeps a result's ORDER BY order only through one
// stream; any range of rows is read from it by offset, as Arrow record batches. A stream that
// breaks, ends early or stalls is opened again at the first row not yet delivered.
import type { BigQueryReadClient } from '@google-cloud/bigquery-storage';
import { withDeadline } from '../model/deadline.js';
import { ArrowLines } from './arrow-lines.js';
import { BatchBuffer, rowSlicesOfBatch } from './arrow-rows.js';
import type { CallPolicy } from './call-policy.js';
import { describeFailure, failure } from './failures.js';
import type { LineSpec } from './line-spec.js';
import type { TextRow } from './log-warehouse.js';
import type { RetryBudget } from './retry-policy.js';
import { failureOfGrpc, GRPC, grpcCode, ReadApiUnavailable, readApiUnavailable } from './storage-failures.js';

/** The table BigQuery wrote a query's result to. */
export interface ResultTable {
  projectId: string;
  datasetId: string;
  tableId: string;
}

/** A session is good for 6 hours in BigQuery; one older than this is not used again. */
const SESSION_REUSE_MS = 5 * 60 * 60 * 1000;
/**
 * Rows are decoded and handed over this many at a time: a record batch of several MiB never becomes
 * JS values all at once, which keeps the daemon's young generation small and its heap bounded.
 */
const SLICE_ROWS = 256;
/** Attempts in a row that deliver no row before the read gives up, whatever the deadline. */
const MAX_ATTEMPTS_WITHOUT_PROGRESS = 5;

interface ReadRowsResponse {
  arrowRecordBatch?: { serializedRecordBatch?: Uint8Array | null } | null;
}

interface OpenSession {
  stream: string;
  schema: Uint8Array;
  createdAtMs: number;
}

/** What the consumer threw: its own failure, passed on as it is. */
class DeliveryFailed extends Error {
  constructor(readonly error: unknown) {
    super('delivery failed');
  }
}

/** `delivering`, with what it throws as the consumer's. */
async function delivered(delivering: Promise<void>): Promise<void> {
  try {
    await delivering;
  } catch (error) {
    throw new DeliveryFailed(error);
  }
}

/**
 * Hands over at most `limit` rows of one response's batches (`message`, whose first row is result
 * row `firstRow`), telling `taking` of each part before handing it over, so that a retry starts
 * after it; what the consumer throws comes as DeliveryFailed, anything else counts as the stream's.
 */
type BatchConsumer = (
  message: Uint8Array,
  limit: number,
  firstRow: number,
  taking: (rows: number) => void,
) => Promise<void>;

/**
 * A ReadRows call that reads at most one response ahead of its consumer. google-gax hands the call
 * out as a stream of its own (readable-stream 3, where an object stream buffers 16 objects and no
 * default can be set), which read up to 16 responses of several MiB ahead whenever the server was
 * faster than the consumer (see RECEIVE_WINDOW_BYTES); one keeps the next batch ready while a batch
 * is written.
 */
export function readRowsCall(
  client: BigQueryReadClient,
  ...args: Parameters<BigQueryReadClient['readRows']>
): ReturnType<BigQueryReadClient['readRows']> {
  const call = client.readRows(...args);
  const state = (call as { _readableState?: { highWaterMark?: number } })._readableState;
  if (state && typeof state.highWaterMark === 'number') state.highWaterMark = 1;
  return call;
}

export function tablePath(table: ResultTable): string {
  return `projects/${table.projectId}/datasets/${table.datasetId}/tables/${table.tableId}`;
}

export class StorageResults {
  private readonly sessions = new Map<string, Promise<OpenSession>>();

  constructor(
    private readonly client: () => Promise<BigQueryReadClient>,
    /** The project the read sessions are created (and billed) in. */
    private readonly parentProject: string,
    private readonly policy: CallPolicy,
  ) {}

  /**
   * Rows [start, start + count) of the table, batch by batch in order; each batch is delivered
   * before the next is read. Rejects with a QueryFailure, with ReadApiUnavailable when the Storage
   * Read API cannot be used at all, or with what `deliver` threw. The values of `bytesColumn` come
   * as Utf8Text (see QueryResult.readTextRows); without it, every value is a string.
   */
  readRange(
    budget: RetryBudget,
    table: ResultTable,
    start: number,
    count: number,
    deliver: (rows: TextRow[]) => Promise<void>,
    bytesColumn?: number,
  ): Promise<void> {
    return this.readBatches(budget, table, start, count, async (message, limit, _firstRow, taking) => {
      let left = limit;
      for (const slice of rowSlicesOfBatch(message, SLICE_ROWS, bytesColumn)) {
        const wanted = slice.length > left ? slice.slice(0, left) : slice;
        left -= wanted.length;
        taking(wanted.length);
        await delivered(deliver(wanted));
        if (left <= 0) break;
      }
    });
  }

  /**
   * Rows [start, start + count) of the table as lines (line-spec.ts), a record batch at a time in
   * order, written from the batches' buffers; fails as readRange does, and with a 'resultChanged'
   * QueryFailure for a row that breaks the spec.
   */
  readLines(
    budget: RetryBudget,
    table: ResultTable,
    start: number,
    count: number,
    spec: LineSpec,
    deliver: (lines: Buffer, rows: number) => Promise<void>,
  ): Promise<void> {
    const lines = new ArrowLines(spec);
    return this.readBatches(budget, table, start, count, async (message, limit, firstRow, taking) => {
      try {
        for (const chunk of lines.chunks(message, limit, firstRow)) {
          taking(chunk.rows);
          await deliver(chunk.lines, chunk.rows);
        }
      } catch (error) {
        throw new DeliveryFailed(error);
      }
    });
  }

  private async readBatches(
    budget: RetryBudget,
    table: ResultTable,
    start: number,
    count: number,
    consume: BatchConsumer,
  ): Promise<void> {
    const end = start + count;
    // Advanced as each batch is delivered, also by a read that then fails: a retry must not deliver again.
    const progress = { next: start };
    for (let retry = 1, idle = 0; progress.next < end;) {
      const from = progress.next;
      try {
        const session = await this.session(budget, table);
        await this.readStream(budget, session, progress, end, consume);
        if (progress.next < end) {
          throw failure(`the stream ended at row ${progress.next}, before row ${end}`, 'backendError');
        }
      } catch (error) {
        if (error instanceof DeliveryFailed) throw error.error;
        if (error instanceof ReadApiUnavailable) throw error;
        if (grpcCode(error) === GRPC.FAILED_PRECONDITION) this.sessions.delete(tablePath(table));
        if (progress.next > from) [retry, idle] = [1, 0];
        if (++idle > MAX_ATTEMPTS_WITHOUT_PROGRESS) throw failureOfGrpc(error);
        try {
          await budget.backoff(failureOfGrpc(error), retry++);
        } catch (final) {
          throw describeFailure(final);
        }
      }
    }
  }

  private session(budget: RetryBudget, table: ResultTable): Promise<OpenSession> {
    const key = tablePath(table);
    const found = this.sessions.get(key);
    if (found) {
      return found.then((session) => {
        if (Date.now() - session.createdAtMs < SESSION_REUSE_MS) return session;
        if (this.sessions.get(key) === found) this.sessions.delete(key);
        return this.session(budget, table);
      });
    }
    const created = this.createSession(budget, table);
    this.sessions.set(key, created);
    created.catch(() => {
      if (this.sessions.get(key) === created) this.sessions.delete(key);
    });
    return created;
  }

  private async createSession(budget: RetryBudget, table: ResultTable): Promise<OpenSession> {
    const client = await this.client();
    let session;
    try {
      [session] = await this.policy.timed(
        budget,
        client.createReadSession(
          {
            parent: `projects/${this.parentProject}`,
            readSession: { table: tablePath(table), dataFormat: 'ARROW' },
            maxStreamCount: 1,
          },
          { retry: null, timeout: this.policy.requestLimitMs(budget) },
        ),
      );
    } catch (error) {
      throw readApiUnavailable(error) ?? error;
    }
    const stream = session.streams?.[0]?.name;
    const schema = session.arrowSchema?.serializedSchema;
    if (!stream || !schema) throw failure(`the read session of ${tablePath(table)} has no stream`, 'resultChanged');
    return { stream, schema: schema as Uint8Array, createdAtMs: Date.now() };
  }

  /**
   * The next response's record batch, with the schema before it, in `buffer`; empty for a response
   * without one, undefined at the end of the stream. Nothing refers to the response (a message of
   * up to several MiB) once it is copied, so it can be collected while its rows are written.
   */
  private async nextBatch(
    budget: RetryBudget,
    session: OpenSession,
    responses: AsyncIterator<ReadRowsResponse>,
    buffer: BatchBuffer,
  ): Promise<Uint8Array | undefined> {
    const stalled = () => failure('the Storage Read API sent nothing in time', 'backendError');
    const { value, done } = await withDeadline(responses.next(), this.policy.requestLimitMs(budget), stalled);
    if (done) return undefined;
    const batch = value.arrowRecordBatch?.serializedRecordBatch;
    if (!batch || batch.length === 0) return new Uint8Array(0);
    return buffer.join(session.schema, batch);
  }

  /** Reads the stream from row `progress.next` until `end` or until it ends, advancing `progress` batch by batch. */
  private async readStream(
    budget: RetryBudget,
    session: OpenSession,
    progress: { next: number },
    end: number,
    consume: BatchConsumer,
  ): Promise<void> {
    const client = await this.client();
    const call = readRowsCall(
      client,
      { readStream: session.stream, offset: progress.next },
      { retry: null, timeout: Math.max(1, budget.remainingMs()) },
    );
    const responses = call[Symbol.asyncIterator]() as AsyncIterator<ReadRowsResponse>;
    const buffer = new BatchBuffer();
    try {
      while (progress.next < end) {
        const message = await this.nextBatch(budget, session, responses, buffer);
        if (message === undefined) break;
        if (message.length === 0) continue;
        await consume(message, end - progress.next, progress.next, (rows) => {
          progress.next += rows;
        });
      }
    } finally {
      call.cancel();
      call.destroy();
    }
  }
}
