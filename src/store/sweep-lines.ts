// Which hours of a sweep are read as lines straight from its result (QueryResult.readLines) rather
// than as rows, and what each of their rows must hold.
import type { LineSpec } from '../bigquery/line-spec.js';
import { SWEEP_INDEX_COLUMNS } from '../bigquery/query-builder.js';
import type { ContainerRef } from '../model/log-path.js';
import type { DayName, TimeZoneModel } from '../model/time-model.js';
import { TEXT_PAYLOAD_COLUMN } from './entry-format.js';
import type { HourRows } from './sweep-index.js';

/** Where a sweep row's timestamp and textPayload are: after the index columns, where an entries query has them. */
export const SWEEP_TIMESTAMP_COLUMN = SWEEP_INDEX_COLUMNS.length;
export const SWEEP_TEXT_PAYLOAD_COLUMN = SWEEP_INDEX_COLUMNS.length + TEXT_PAYLOAD_COLUMN;

/**
 * The hours whose rows all come from one sweep whose index counted their bytes (HourRows.lineBytes),
 * which it does only when no entry lacks a text payload and none was delivered twice: their size is
 * known before they are read, and with plain text lines their file is those payloads as they are.
 */
export function countedHours(opened: { hours: HourRows[] }[]): Set<number> {
  const parts = new Map<number, number>();
  for (const { hours } of opened) for (const { hour } of hours) parts.set(hour, (parts.get(hour) ?? 0) + 1);
  const plain = new Set<number>();
  for (const { hours } of opened) {
    for (const rows of hours) if (rows.lineBytes !== undefined && parts.get(rows.hour) === 1) plain.add(rows.hour);
  }
  return plain;
}

/** What every row of a container-hour in a sweep's result holds: an entry (part 1) of the container, in the hour. */
export function hourLineSpec(ref: ContainerRef, zone: TimeZoneModel, day: DayName, hour: number): LineSpec {
  const segments = zone.hourSegments(day).filter((segment) => segment.hour === hour);
  const startMs = Math.min(...segments.map((segment) => segment.startMs));
  const endMs = Math.max(...segments.map((segment) => segment.endMs));
  return {
    textColumn: SWEEP_TEXT_PAYLOAD_COLUMN,
    strings: [
      { column: SWEEP_INDEX_COLUMNS.indexOf('namespace'), value: ref.namespace },
      { column: SWEEP_INDEX_COLUMNS.indexOf('pod'), value: ref.pod },
      { column: SWEEP_INDEX_COLUMNS.indexOf('container'), value: ref.container },
    ],
    integers: [{ column: SWEEP_INDEX_COLUMNS.indexOf('part'), value: 1 }],
    time: { column: SWEEP_TIMESTAMP_COLUMN, startMicros: startMs * 1000, endMicros: endMs * 1000 },
  };
}
