// The BigQueryRead gRPC methods: CreateReadSession, ReadRows (Arrow only) and SplitReadStream.
import type { sendUnaryData, ServerUnaryCall, ServerWritableStream, UntypedServiceImplementation } from '@grpc/grpc-js';
import { status } from '@grpc/grpc-js';
import type { Catalog } from '../catalog.js';
import type { Database } from '../database.js';
import { injectedError, type Fault } from '../fault-plan.js';
import type { FaultInjector } from '../faults.js';
import type { JobService } from '../jobs.js';
import type { ResultStore } from '../results.js';
import type {
  CreateReadSessionRequest,
  EncodedReadRowsResponse,
  ReadRowsRequest,
  ReadSessionMessage,
  SplitReadStreamRequest,
  SplitReadStreamResponseMessage,
} from './protocol.js';
import { BatchArena } from './batch-arena.js';
import { readableTable } from './readable-tables.js';
import { ReadRowsResponses } from './read-rows-response.js';
import { ReadSessions, type ReadSession } from './read-sessions.js';
import { grpcError, StorageError } from './storage-errors.js';
import { StreamWriter } from './stream-writer.js';
import { readRange } from './table-reader.js';

export interface StorageStats {
  storageReadSessions: number;
  storageRowsRead: number;
  /** Bytes of the Arrow record batches sent. */
  storageBytesRead: number;
}

export interface ReadServiceDeps {
  db: Database;
  catalog: Catalog;
  jobs: JobService;
  results: ResultStore;
  faults: FaultInjector;
  stats: StorageStats;
}

/** Where an injected fault cuts a ReadRows stream short. */
interface StreamCut {
  afterBatches: number;
  /** UNAVAILABLE, or a clean end before all rows. */
  how: 'reset' | 'end';
}

class StreamCutShort extends Error {}

export class ReadService {
  private readonly sessions = new ReadSessions();
  /** ReadRows calls still reading from DuckDB. */
  private readonly reading = new Set<Promise<void>>();

  constructor(private readonly deps: ReadServiceDeps) {}

  handlers(): UntypedServiceImplementation {
    return {
      CreateReadSession: (
        call: ServerUnaryCall<CreateReadSessionRequest, ReadSessionMessage>,
        done: sendUnaryData<ReadSessionMessage>,
      ) => {
        this.createReadSession(call).then(
          (session) => done(null, session),
          (err: unknown) => done(grpcError(err)),
        );
      },
      ReadRows: (call: ServerWritableStream<ReadRowsRequest, EncodedReadRowsResponse>) => {
        const reading = this.readRows(call).catch((err: unknown) => {
          if (!call.cancelled) call.emit('error', grpcError(err));
        });
        this.reading.add(reading);
        void reading.finally(() => this.reading.delete(reading));
      },
      SplitReadStream: (
        call: ServerUnaryCall<SplitReadStreamRequest, SplitReadStreamResponseMessage>,
        done: sendUnaryData<SplitReadStreamResponseMessage>,
      ) => {
        this.splitReadStream(call).then(
          (answer) => done(null, answer),
          (err: unknown) => done(grpcError(err)),
        );
      },
    };
  }

  /** Resolves once every ReadRows call has stopped reading (the server cancels them on shutdown). */
  async drain(): Promise<void> {
    await Promise.all(this.reading);
  }

  private async createReadSession(
    call: ServerUnaryCall<CreateReadSessionRequest, ReadSessionMessage>,
  ): Promise<ReadSessionMessage> {
    await this.faultFor('storage.createReadSession', call);
    const { parent, readSession, maxStreamCount, preferredMinStreamCount } = call.request;
    const parentProject = /^projects\/([^/]+)$/.exec(parent)?.[1];
    if (!parentProject) throw StorageError.invalid(`Invalid parent "${parent}": expected projects/*`);
    if (!readSession?.table) throw StorageError.invalid('read_session.table is required');
    if (readSession.dataFormat === 'AVRO') throw StorageError.invalid('The emulator serves only the ARROW data format');
    const options = readSession.readOptions;
    if (options?.samplePercentage !== undefined && options.samplePercentage !== null)
      throw StorageError.invalid('sample_percentage is not supported by the emulator');
    if (maxStreamCount < 0) throw StorageError.invalid('max_stream_count must not be negative');

    const table = await readableTable(readSession.table, this.deps);
    const session = this.sessions.create({
      parentProject,
      table,
      selectedFields: options?.selectedFields ?? [],
      rowRestriction: options?.rowRestriction ?? '',
      maxStreamCount,
      preferredMinStreamCount,
    });
    this.deps.stats.storageReadSessions++;
    return sessionMessage(session, options?.selectedFields ?? []);
  }

  private async readRows(call: ServerWritableStream<ReadRowsRequest, EncodedReadRowsResponse>): Promise<void> {
    const { session, range } = this.sessions.stream(call.request.readStream);
    const offset = BigInt(call.request.offset || '0');
    const length = range.end - range.start;
    if (offset < 0n || offset > length)
      throw new StorageError(status.OUT_OF_RANGE, `Offset ${offset} is beyond the ${length} rows of the stream`);
    const cut = await this.faultFor('storage.readRows', call);

    const writer = new StreamWriter(call);
    const { encoder } = session;
    const arena = new BatchArena();
    const responses = new ReadRowsResponses();
    let position = offset;
    let batches = 0;
    const progress = (at: bigint) => (length === 0n ? 1 : Number(at) / Number(length));
    try {
      await readRange(
        this.deps.db,
        session.table.source,
        session.columns,
        range.start + offset,
        range.end,
        async (chunk, firstColumn) => {
          for (const batch of encoder.encode(chunk, firstColumn, arena)) {
            if (cut && batches >= cut.afterBatches) throw new StreamCutShort();
            const response = responses.encode(batch, {
              rowCount: batch.rows,
              stats: {
                progress: {
                  atResponseStart: progress(position),
                  atResponseEnd: progress(position + BigInt(batch.rows)),
                },
              },
              // As BigQuery does, the first response of a call repeats the session's schema.
              ...(batches === 0 ? { arrowSchema: { serializedSchema: encoder.schemaMessage } } : {}),
            });
            if (!(await writer.write(response))) return false;
            batches++;
            position += BigInt(batch.rows);
            this.deps.stats.storageRowsRead += batch.rows;
            this.deps.stats.storageBytesRead += batch.byteLength;
          }
          return true;
        },
      );
    } catch (err) {
      if (!(err instanceof StreamCutShort)) throw err;
      if (cut?.how === 'reset') {
        await writer.flush();
        throw new StorageError(status.UNAVAILABLE, 'Connection reset by the emulator (injected fault)');
      }
    }
    await writer.end();
  }

  private async splitReadStream(
    call: ServerUnaryCall<SplitReadStreamRequest, SplitReadStreamResponseMessage>,
  ): Promise<SplitReadStreamResponseMessage> {
    await this.faultFor('storage.splitReadStream', call);
    const { primary, remainder } = this.sessions.split(call.request.name, call.request.fraction);
    return {
      primaryStream: primary ? { name: primary } : null,
      remainderStream: remainder ? { name: remainder } : null,
    };
  }

  /**
   * Applies the fault plan to a call: waits out injected latency, throws an injected error, never
   * returns for a hang, and tells ReadRows where to cut its stream short.
   */
  private async faultFor(
    endpoint: 'storage.createReadSession' | 'storage.readRows' | 'storage.splitReadStream',
    call: { cancelled: boolean; once(event: 'cancelled', listener: () => void): unknown },
  ): Promise<StreamCut | undefined> {
    const fault: Fault | undefined = await this.deps.faults.storageCall(endpoint);
    switch (fault?.kind) {
      case 'error':
        throw injectedError(fault);
      case 'hang':
        await new Promise<void>((resolve) => (call.cancelled ? resolve() : call.once('cancelled', resolve)));
        throw new StorageError(status.CANCELLED, 'Cancelled by the client');
      case 'streamReset':
        return { afterBatches: fault.afterBatches ?? 1, how: 'reset' };
      case 'streamEnd':
        return { afterBatches: fault.afterBatches ?? 1, how: 'end' };
      default:
        return undefined;
    }
  }
}

function sessionMessage(session: ReadSession, selectedFields: string[]): ReadSessionMessage {
  const expire = session.expireTime;
  return {
    name: session.name,
    expireTime: { seconds: Math.floor(expire / 1000), nanos: (expire % 1000) * 1_000_000 },
    dataFormat: 'ARROW',
    arrowSchema: { serializedSchema: session.encoder.schemaMessage },
    table: session.table.resource,
    readOptions: { selectedFields },
    streams: [...session.streams.keys()].map((name) => ({ name })),
    estimatedRowCount: session.table.totalRows.toString(),
    estimatedTotalBytesScanned: '0',
  };
}
