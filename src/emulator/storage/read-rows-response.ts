// ReadRows responses encoded as protobuf by hand around their record batch, which is written into
// the response's bytes once (instead of into a message of its own, then into the protobuf encoding).
// The other fields, small, are encoded by the service's own serializer; protobuf lets fields come
// in any order, so the record batch's field simply follows them.
import { Buffer } from 'node:buffer';
import { EncodedReadRowsResponse, serializeReadRowsResponse, type ReadRowsResponseMessage } from './protocol.js';
import type { EncodedBatch } from './record-batches.js';

/** ReadRowsResponse.arrow_record_batch (field 4) and ArrowRecordBatch's fields 1 and 2, as protobuf keys. */
const ARROW_RECORD_BATCH_KEY = (4 << 3) | 2;
const SERIALIZED_RECORD_BATCH_KEY = (1 << 3) | 2;
const ROW_COUNT_KEY = 2 << 3;

function varintBytes(value: number): number {
  let bytes = 1;
  for (let rest = value; rest >= 0x80; rest = Math.floor(rest / 0x80)) bytes++;
  return bytes;
}

function writeVarint(out: Buffer, at: number, value: number): number {
  let pos = at;
  let rest = value;
  while (rest >= 0x80) {
    out[pos++] = (rest % 0x80) | 0x80;
    rest = Math.floor(rest / 0x80);
  }
  out[pos++] = rest;
  return pos;
}

/**
 * Encodes the responses of one ReadRows call into two buffers used in turn: a response's bytes must
 * stay as they are until gRPC has taken them, which it has by the time the response after it is
 * written (the call's writer keeps at most one response waiting).
 */
export class ReadRowsResponses {
  private readonly buffers = [Buffer.alloc(0), Buffer.alloc(0)];
  private turn = 0;

  encode(batch: EncodedBatch, fields: Omit<ReadRowsResponseMessage, 'arrowRecordBatch'>): EncodedReadRowsResponse {
    const head = serializeReadRowsResponse(fields);
    const inner = 1 + varintBytes(batch.byteLength) + batch.byteLength + 1 + varintBytes(batch.rows);
    const total = head.byteLength + 1 + varintBytes(inner) + inner;
    const index = this.turn;
    this.turn = 1 - this.turn;
    if (this.buffers[index]!.byteLength < total) this.buffers[index] = Buffer.allocUnsafe(Math.ceil(total * 1.25));
    const out = this.buffers[index]!;
    head.copy(out, 0);
    let at = head.byteLength;
    out[at++] = ARROW_RECORD_BATCH_KEY;
    at = writeVarint(out, at, inner);
    out[at++] = SERIALIZED_RECORD_BATCH_KEY;
    at = writeVarint(out, at, batch.byteLength);
    batch.writeTo(out, at);
    at += batch.byteLength;
    out[at++] = ROW_COUNT_KEY;
    at = writeVarint(out, at, batch.rows);
    return new EncodedReadRowsResponse(out.subarray(0, at));
  }
}
