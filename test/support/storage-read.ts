// Helpers for tests of the Storage Read API: reading streams with the official BigQueryReadClient,
// decoding Arrow batches, and turning Arrow values into the REST API's f/v row form (with int64
// microsecond timestamps) so the two APIs' rows can be compared exactly.
import type { BigQueryReadClient } from '@google-cloud/bigquery-storage';
import {
  DataType,
  RecordBatchReader,
  type Data,
  type Decimal,
  type Field,
  type RecordBatch,
  type Struct,
  type Vector,
} from 'apache-arrow';

export type RestRow = { f: Array<{ v: unknown }> };

export interface StreamRead {
  rows: RestRow[];
  /** ReadRowsResponse.row_count of each response. */
  batchRows: number[];
  progress: Array<{ atResponseStart: number; atResponseEnd: number }>;
  /** Whether the first response carried the Arrow schema. */
  firstHasSchema: boolean;
  error?: Error & { code?: number };
}

export function decodeBatch(schema: Uint8Array, batch: Uint8Array): RecordBatch[] {
  return RecordBatchReader.from(Buffer.concat([schema, batch])).readAll();
}

/** Reads a whole stream (from `offset`), keeping what arrived before an error. */
export async function readStream(
  client: BigQueryReadClient,
  schema: Uint8Array,
  readStream: string,
  offset = 0,
): Promise<StreamRead> {
  const out: StreamRead = { rows: [], batchRows: [], progress: [], firstHasSchema: false };
  try {
    for await (const response of client.readRows({ readStream, offset })) {
      if (out.batchRows.length === 0) out.firstHasSchema = (response.arrowSchema?.serializedSchema?.length ?? 0) > 0;
      out.batchRows.push(Number(response.rowCount));
      const progress = response.stats?.progress;
      out.progress.push({
        atResponseStart: progress?.atResponseStart ?? 0,
        atResponseEnd: progress?.atResponseEnd ?? 0,
      });
      for (const batch of decodeBatch(schema, response.arrowRecordBatch!.serializedRecordBatch as Uint8Array))
        out.rows.push(...restRows(batch));
    }
  } catch (err) {
    out.error = err as StreamRead['error'];
  }
  return out;
}

function rawValue(data: Data, index: number): unknown {
  return (data.values as ArrayLike<unknown>)[data.offset + index];
}

function twoDigits(n: number): string {
  return String(n).padStart(2, '0');
}

function decimalText(data: Data<Decimal>, index: number): string {
  const words = data.values;
  const at = (data.offset + index) * 4;
  let value = 0n;
  for (let w = 3; w >= 0; w--) value = (value << 32n) | BigInt(words[at + w]!);
  if (value >= 1n << 127n) value -= 1n << 128n;
  const negative = value < 0n;
  const digits = (negative ? -value : value).toString().padStart(data.type.scale + 1, '0');
  const whole = digits.slice(0, digits.length - data.type.scale);
  const fraction = digits.slice(digits.length - data.type.scale).replace(/0+$/, '');
  return `${negative ? '-' : ''}${whole}${fraction ? `.${fraction}` : ''}`;
}

/** One Arrow value as the REST API shows it (formatOptions.useInt64Timestamp). */
function restValue(vector: Vector, index: number): unknown {
  if (!vector.isValid(index)) return null;
  const { type } = vector;
  const data = vector.data[0]!;
  if (DataType.isTimestamp(type) || DataType.isInt(type) || DataType.isTime(type)) return String(rawValue(data, index));
  if (DataType.isFloat(type)) return String(vector.get(index));
  if (DataType.isBool(type)) return vector.get(index) ? 'true' : 'false';
  if (DataType.isUtf8(type)) return vector.get(index);
  if (DataType.isBinary(type)) return Buffer.from(vector.get(index) as Uint8Array).toString('base64');
  if (DataType.isDate(type)) {
    const day = new Date(Number(rawValue(data, index)) * 86_400_000);
    return `${day.getUTCFullYear()}-${twoDigits(day.getUTCMonth() + 1)}-${twoDigits(day.getUTCDate())}`;
  }
  if (DataType.isDecimal(type)) return decimalText(data as Data<Decimal>, index);
  if (DataType.isStruct(type)) {
    return {
      f: (type as Struct).children.map((_field: Field, i: number) => ({ v: restValue(vector.getChildAt(i)!, index) })),
    };
  }
  if (DataType.isList(type)) {
    const items = vector.get(index) as Vector;
    return Array.from({ length: items.length }, (_, i) => ({ v: restValue(items, i) }));
  }
  throw new Error(`No REST form for Arrow type ${String(type)}`);
}

export function restRows(batch: RecordBatch): RestRow[] {
  const columns = batch.schema.fields.map((_field, i) => batch.getChildAt(i)!);
  return Array.from({ length: batch.numRows }, (_, row) => ({
    f: columns.map((column) => ({ v: restValue(column, row) })),
  }));
}

/** All rows of a job through getQueryResults, raw (f/v, int64 timestamps), every page. */
export async function restQueryRows(url: string, projectId: string, jobId: string): Promise<RestRow[]> {
  const rows: RestRow[] = [];
  let pageToken: string | undefined;
  do {
    const query = new URLSearchParams({ 'formatOptions.useInt64Timestamp': 'true', location: 'US' });
    if (pageToken) query.set('pageToken', pageToken);
    const response = await fetch(`${url}/bigquery/v2/projects/${projectId}/queries/${jobId}?${query}`);
    const body = (await response.json()) as { rows?: RestRow[]; pageToken?: string };
    rows.push(...(body.rows ?? []));
    pageToken = body.pageToken;
  } while (pageToken);
  return rows;
}

/** All rows of a table through tabledata.list, raw. */
export async function restTableRows(
  url: string,
  projectId: string,
  datasetId: string,
  tableId: string,
): Promise<RestRow[]> {
  const rows: RestRow[] = [];
  let pageToken: string | undefined;
  do {
    const query = new URLSearchParams({ 'formatOptions.useInt64Timestamp': 'true' });
    if (pageToken) query.set('pageToken', pageToken);
    const response = await fetch(
      `${url}/bigquery/v2/projects/${projectId}/datasets/${datasetId}/tables/${tableId}/data?${query}`,
    );
    const body = (await response.json()) as { rows?: RestRow[]; pageToken?: string };
    rows.push(...(body.rows ?? []));
    pageToken = body.pageToken;
  } while (pageToken);
  return rows;
}
