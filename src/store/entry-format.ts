// How one log entry becomes one line of an hour file.
import { textOf, Utf8Text } from '../bigquery/utf8-text.js';
import { microsToRfc3339 } from '../model/time-model.js';

const NEWLINE = 0x0a;

/** The value without null object fields, at any depth; with `sortKeys`, object keys in code-point order. */
function withoutNulls(value: unknown, sortKeys = false): unknown {
  if (Array.isArray(value)) return value.map((item) => withoutNulls(item, sortKeys));
  if (value === null || typeof value !== 'object') return value;
  const kept: Record<string, unknown> = {};
  const fields = Object.entries(value);
  if (sortKeys) fields.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  for (const [key, field] of fields) {
    if (field !== null) kept[key] = withoutNulls(field, sortKeys);
  }
  return kept;
}

/**
 * The line for one entry: `textPayload` as is without one trailing newline, or `jsonPayload`
 * (as BigQuery's TO_JSON_STRING gave it) as compact JSON of its non-null fields; with `sortKeys`
 * (payloads of JSON columns, whose key order BigQuery does not keep), with object keys sorted.
 */
export function entryLine(textPayload: string | null, jsonPayload: string | null, sortKeys = false): string {
  if (textPayload !== null) {
    return (textPayload.endsWith('\n') ? textPayload.slice(0, -1) : textPayload) + '\n';
  }
  if (jsonPayload !== null) {
    const parsed: unknown = JSON.parse(jsonPayload);
    if (parsed !== null) return JSON.stringify(withoutNulls(parsed, sortKeys)) + '\n';
  }
  return '\n';
}

export type OutputFormat = 'text' | 'json';

export interface OutputOptions {
  /**
   * Start each text line with the entry's RFC 3339 timestamp, as `kubectl logs --timestamps` does:
   * with the offset of the mount's time zone, or `Z` in UTC.
   */
  timestamps: boolean;
  /** `json`: one full entry per line (timestamp, severity, stream, labels, payload), for jq. */
  format: OutputFormat;
}

/** The columns an entries query returns, in order; the last two only for the json format. */
export type EntryRow = readonly (string | null | undefined)[];

/** Where EntryRow has the textPayload. */
export const TEXT_PAYLOAD_COLUMN = 3;

function parsedJson(text: string | null | undefined, sortKeys: boolean): unknown {
  if (text === null || text === undefined) return undefined;
  const parsed: unknown = JSON.parse(text);
  return parsed === null ? undefined : withoutNulls(parsed, sortKeys);
}

/** A row of a workload directory's file: an entry's columns, and the pod whose entry it is. */
export type PodRow = EntryRow & { pod?: string };

/** A PodRow whose textPayload may come as its UTF-8 bytes (see QueryResult.readTextRows). */
export type TextPodRow = readonly (string | Utf8Text | null | undefined)[] & { pod?: string };

/** A line without its newline: a string, or a text payload's bytes as they were read. */
export type LineBody = string | Utf8Text;

/**
 * True when a line is the text payload as it is, so that its bytes can be written without a string:
 * plain text lines, without timestamps.
 */
export function linesAreTextAsIs(options: OutputOptions): boolean {
  return options.format === 'text' && !options.timestamps;
}

/**
 * The bytes every text line has before its payload, when each line is a text payload as entryLine
 * makes it behind a prefix of one length: none for plain lines, the timestamp and a space with
 * `timestamps`. An RFC 3339 timestamp with microseconds has one length in a zone (`…Z` in UTC,
 * `…±HH:MM` elsewhere, whatever the offset). Undefined for `--format json`, whose lines SQL cannot count.
 */
export function linePrefixBytes(
  options: OutputOptions,
  timestampOf: (micros: bigint) => string = microsToRfc3339,
): number | undefined {
  if (options.format !== 'text') return undefined;
  return options.timestamps ? Buffer.byteLength(timestampOf(0n)) + 1 : 0;
}

/** The row with its values as strings, as lineFormatter takes it. */
function withStrings(row: TextPodRow): PodRow {
  let bytes = false;
  for (const value of row) bytes ||= value instanceof Utf8Text;
  if (!bytes) return row as PodRow;
  const strings = row.map((value) => textOf(value));
  return row.pod === undefined ? strings : Object.assign(strings, { pod: row.pod });
}

/**
 * Turns one row of an entries query into its line, for the chosen output options. `sortJsonKeys`
 * sorts the object keys of JSON values (see LogSchema.sortJsonKeys). A row of a workload directory
 * (`PodRow` with its pod) has every line of it start with the pod's name and a space, as stern
 * prints them (a multi-line entry has several); with `--format json` it gets a "pod" field.
 */
export function lineFormatter(
  options: OutputOptions,
  sortJsonKeys = false,
  /** Writes the timestamps of `timestamps` lines; UTC (`…Z`) when absent. */
  timestampOf: (micros: bigint) => string = microsToRfc3339,
): (row: PodRow) => string {
  const line = entryFormatter(options, sortJsonKeys, timestampOf);
  return (row) => {
    if (row.pod === undefined) return line(row);
    if (options.format === 'json') return `{"pod":${JSON.stringify(row.pod)},${line(row).slice(1)}`;
    return `${row.pod} ${line(row).slice(0, -1).replaceAll('\n', `\n${row.pod} `)}\n`;
  };
}

/**
 * The line lineFormatter gives, without its final newline. A text payload that is the whole line is
 * handed back as the string it is, not joined to a newline (see LineBuffer), or as the bytes it came
 * as: the same bytes, without a string.
 */
export function lineBodyFormatter(
  options: OutputOptions,
  sortJsonKeys = false,
  timestampOf: (micros: bigint) => string = microsToRfc3339,
): (row: TextPodRow) => LineBody {
  const line = lineFormatter(options, sortJsonKeys, timestampOf);
  const withoutNewline = (row: TextPodRow) => line(withStrings(row)).slice(0, -1);
  if (!linesAreTextAsIs(options)) return withoutNewline;
  return (row) => {
    const textPayload = row[TEXT_PAYLOAD_COLUMN];
    if (row.pod !== undefined || textPayload === null || textPayload === undefined) return withoutNewline(row);
    if (textPayload instanceof Utf8Text) return textPayload.withoutLast(NEWLINE);
    return textPayload.endsWith('\n') ? textPayload.slice(0, -1) : textPayload;
  };
}

function entryFormatter(
  options: OutputOptions,
  sortJsonKeys: boolean,
  timestampOf: (micros: bigint) => string,
): (row: EntryRow) => string {
  if (options.format === 'json') {
    return ([timestamp, insertId, stream, textPayload, jsonPayload, severity, labels]) => {
      const entry: Record<string, unknown> = {
        timestamp: microsToRfc3339(BigInt(timestamp ?? 0)),
        severity: severity ?? 'DEFAULT',
        stream,
        insertId: insertId ?? undefined,
        labels: parsedJson(labels, sortJsonKeys),
      };
      if (textPayload !== null && textPayload !== undefined) entry.textPayload = textPayload;
      else entry.jsonPayload = parsedJson(jsonPayload, sortJsonKeys);
      return JSON.stringify(entry) + '\n';
    };
  }
  if (options.timestamps) {
    return ([timestamp, , , textPayload, jsonPayload]) =>
      `${timestampOf(BigInt(timestamp ?? 0))} ${entryLine(textPayload ?? null, jsonPayload ?? null, sortJsonKeys)}`;
  }
  return ([, , , textPayload, jsonPayload]) => entryLine(textPayload ?? null, jsonPayload ?? null, sortJsonKeys);
}
