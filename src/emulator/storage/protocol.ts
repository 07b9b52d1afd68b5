// The BigQuery Storage Read API's gRPC contract, taken from the protobuf JSON that the official
// @google-cloud/bigquery-storage package ships, so the server and the client share one definition.
import { createRequire } from 'node:module';
import type { ServiceDefinition } from '@grpc/grpc-js';
import { fromJSON } from '@grpc/proto-loader';

const require = createRequire(import.meta.url);
const SERVICE = 'google.cloud.bigquery.storage.v1.BigQueryRead';

/** Message fields as proto-loader hands them over: camelCase names, int64 as strings, enums as names. */
export interface CreateReadSessionRequest {
  parent: string;
  readSession: {
    table: string;
    dataFormat: string;
    readOptions?: {
      selectedFields: string[];
      rowRestriction: string;
      samplePercentage?: number;
    } | null;
  } | null;
  maxStreamCount: number;
  preferredMinStreamCount: number;
}

export interface ReadRowsRequest {
  readStream: string;
  offset: string;
}

export interface SplitReadStreamRequest {
  name: string;
  fraction: number;
}

export interface ReadSessionMessage {
  name: string;
  expireTime: { seconds: number; nanos: number };
  dataFormat: 'ARROW';
  arrowSchema: { serializedSchema: Uint8Array };
  table: string;
  readOptions: { selectedFields: string[] };
  streams: Array<{ name: string }>;
  estimatedRowCount: string;
  estimatedTotalBytesScanned: string;
}

export interface ReadRowsResponseMessage {
  arrowRecordBatch: { serializedRecordBatch: Uint8Array; rowCount: number };
  rowCount: number;
  stats: { progress: { atResponseStart: number; atResponseEnd: number } };
  arrowSchema?: { serializedSchema: Uint8Array };
}

export interface SplitReadStreamResponseMessage {
  primaryStream: { name: string } | null;
  remainderStream: { name: string } | null;
}

interface ProtoJson {
  nested?: Record<string, ProtoJson>;
}

/** Only v1 of the storage API: the other versions would cost their share of load time for nothing. */
function v1Only(json: ProtoJson): ProtoJson {
  const copy = structuredClone(json);
  const storage = copy.nested?.google?.nested?.cloud?.nested?.bigquery?.nested?.storage;
  if (storage?.nested?.v1) storage.nested = { v1: storage.nested.v1 };
  return copy;
}

/**
 * A ReadRows response already encoded as protobuf (read-rows-response.ts), which the server sends
 * as it is, instead of encoding a message object and copying its record batch once more.
 */
export class EncodedReadRowsResponse {
  constructor(readonly bytes: Buffer) {}
}

let cached: ServiceDefinition | undefined;

/** The protobuf encoding of a ReadRows response message. */
export function serializeReadRowsResponse(message: Partial<ReadRowsResponseMessage>): Buffer {
  return bigQueryReadService().ReadRows!.responseSerialize(message);
}

/** The BigQueryRead service definition for a @grpc/grpc-js server. */
export function bigQueryReadService(): ServiceDefinition {
  if (cached) return cached;
  const json = require('@google-cloud/bigquery-storage/build/protos/protos.json') as ProtoJson;
  const definition = fromJSON(v1Only(json) as Parameters<typeof fromJSON>[0], {
    longs: String,
    enums: String,
    defaults: true,
    oneofs: true,
  });
  const service = definition[SERVICE];
  if (!service || !('CreateReadSession' in service))
    throw new Error(`${SERVICE} is missing from the bigquery-storage protos`);
  const readRows = (service as ServiceDefinition).ReadRows!;
  const serialize = readRows.responseSerialize;
  cached = {
    ...(service as ServiceDefinition),
    ReadRows: {
      ...readRows,
      responseSerialize: (value: unknown) =>
        value instanceof EncodedReadRowsResponse ? value.bytes : serialize(value),
    },
  };
  return cached;
}
