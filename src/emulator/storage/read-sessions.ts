// Read sessions and their streams. A session fixes the table, the served columns and the rows it
// had when it was created; each stream is a contiguous range of those rows, named
// projects/P/locations/L/sessions/S/streams/N.
import { randomUUID } from 'node:crypto';
import { servedColumn, type ServedColumn } from './arrow-schema.js';
import type { ReadableTable } from './readable-tables.js';
import { BatchEncoder } from './record-batches.js';
import { StorageError } from './storage-errors.js';

/** Without a max_stream_count, a session gets at most this many streams… */
const DEFAULT_MAX_STREAMS = 4;
/** …and never more than one per this many rows. */
const MIN_ROWS_PER_STREAM = 10_000;
const MAX_STREAMS = 1_000;
const SESSION_LIFETIME_MS = 6 * 60 * 60 * 1000;
const MAX_SESSIONS = 1_000;

export interface StreamRange {
  start: bigint;
  end: bigint;
}

export interface ReadSession {
  name: string;
  table: ReadableTable;
  columns: ServedColumn[];
  encoder: BatchEncoder;
  streams: Map<string, StreamRange>;
  expireTime: number;
}

export interface SessionRequest {
  parentProject: string;
  table: ReadableTable;
  selectedFields: string[];
  maxStreamCount: number;
  preferredMinStreamCount: number;
  /** A filter on the rows, as GoogleSQL; empty for every row. */
  rowRestriction: string;
}

/**
 * Whether a row restriction keeps the table's rows. The emulator evaluates only the constant
 * restrictions TRUE and FALSE (any case, optionally in parentheses); it refuses anything else.
 */
export function restrictionKeepsRows(rowRestriction: string): boolean {
  const text = rowRestriction
    .trim()
    .replace(/^\((.*)\)$/s, '$1')
    .trim()
    .toUpperCase();
  if (text === '' || text === 'TRUE') return true;
  if (text === 'FALSE') return false;
  throw StorageError.invalid(
    `row_restriction "${rowRestriction}" is not supported by the emulator, which evaluates only TRUE and FALSE`,
  );
}

/** The table's columns a session serves: the selected ones (by name, any case), in table order. */
function selectColumns(table: ReadableTable, selectedFields: string[]): ServedColumn[] {
  const all = table.names.map((name, i) => servedColumn(name, table.types[i]!));
  if (selectedFields.length === 0) return all;
  const wanted = new Set<string>();
  for (const field of selectedFields) {
    if (field.includes('.'))
      throw StorageError.invalid(`Selecting the nested field "${field}" is not supported by the emulator`);
    const column = all.find((c) => c.name.toLowerCase() === field.toLowerCase());
    if (!column) throw StorageError.invalid(`Column "${field}" was not found in ${table.resource}`);
    wanted.add(column.name);
  }
  return all.filter((column) => wanted.has(column.name));
}

export function streamCount(table: ReadableTable, maxStreamCount: number, preferredMinStreamCount: number): number {
  if (table.totalRows === 0n) return 0;
  if (table.ordered) return 1;
  const limit = Math.min(maxStreamCount > 0 ? maxStreamCount : DEFAULT_MAX_STREAMS, MAX_STREAMS);
  const rows = Number(table.totalRows);
  const bySize = Math.ceil(rows / MIN_ROWS_PER_STREAM);
  return Math.max(1, Math.min(limit, Math.max(bySize, Math.min(preferredMinStreamCount, rows))));
}

function splitRows(total: bigint, count: number): StreamRange[] {
  const ranges: StreamRange[] = [];
  for (let i = 0; i < count; i++) {
    ranges.push({ start: (total * BigInt(i)) / BigInt(count), end: (total * BigInt(i + 1)) / BigInt(count) });
  }
  return ranges;
}

export class ReadSessions {
  private readonly sessions = new Map<string, ReadSession>();

  create(request: SessionRequest): ReadSession {
    this.evict();
    const table = restrictionKeepsRows(request.rowRestriction) ? request.table : { ...request.table, totalRows: 0n };
    const columns = selectColumns(table, request.selectedFields);
    const name = `projects/${request.parentProject}/locations/${table.location.toLowerCase()}/sessions/${randomUUID().replace(/-/g, '')}`;
    const count = streamCount(table, request.maxStreamCount, request.preferredMinStreamCount);
    const streams = new Map<string, StreamRange>();
    splitRows(table.totalRows, count).forEach((range, i) => streams.set(`${name}/streams/${i}`, range));
    const session = {
      name,
      table,
      columns,
      encoder: new BatchEncoder(columns),
      streams,
      expireTime: Date.now() + SESSION_LIFETIME_MS,
    };
    this.sessions.set(name, session);
    return session;
  }

  /** The session and row range of a stream name. */
  stream(streamName: string): { session: ReadSession; range: StreamRange } {
    const sessionName = streamName.replace(/\/streams\/[^/]+$/, '');
    const session = this.sessions.get(sessionName);
    const range = session?.streams.get(streamName);
    if (!session || !range) throw StorageError.notFound(`Not found: read stream ${streamName}`);
    if (session.expireTime < Date.now()) throw StorageError.notFound(`Read session ${sessionName} has expired`);
    return { session, range };
  }

  /**
   * Splits a stream at `fraction` of its rows into two new streams; the original keeps its rows
   * too. Answers no streams when the stream is too short to split.
   */
  split(streamName: string, fraction: number): { primary?: string; remainder?: string } {
    if (!(fraction > 0 && fraction < 1)) throw StorageError.invalid('fraction must be between 0 and 1, exclusive');
    const { session, range } = this.stream(streamName);
    const rows = range.end - range.start;
    if (rows < 2n) return {};
    const cut = range.start + BigInt(Math.min(Math.max(Math.round(Number(rows) * fraction), 1), Number(rows) - 1));
    const next = session.streams.size;
    const primary = `${session.name}/streams/${next}`;
    const remainder = `${session.name}/streams/${next + 1}`;
    session.streams.set(primary, { start: range.start, end: cut });
    session.streams.set(remainder, { start: cut, end: range.end });
    return { primary, remainder };
  }

  private evict(): void {
    const now = Date.now();
    for (const [name, session] of this.sessions) {
      if (session.expireTime < now || this.sessions.size >= MAX_SESSIONS) this.sessions.delete(name);
    }
  }
}
