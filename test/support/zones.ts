// Local time of an instant straight from the platform's time-zone data, so that tests do not check
// src/model/time-model.ts against itself; and entries around the days clocks change.
import type { LogEntry } from '../../src/demo/sink-tables.js';

/** Local `YYYY-MM-DD/HH` of an instant in an IANA zone. */
export function localHourKey(ms: number, zone: string): string {
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
    })
      .formatToParts(ms)
      .map((part) => [part.type, part.value]),
  );
  return `${parts.year}-${parts.month}-${parts.day}/${parts.hour}`;
}

/** An entry of container ops/clock-0/app every 20 minutes for two days from each instant. */
export function entriesEveryTwentyMinutes(fromIsos: string[]): LogEntry[] {
  const entries: LogEntry[] = [];
  for (const fromIso of fromIsos) {
    const fromMs = Date.parse(fromIso);
    for (let ms = fromMs; ms < fromMs + 2 * 86_400_000; ms += 20 * 60_000) {
      const iso = new Date(ms).toISOString();
      entries.push({
        namespace: 'ops',
        pod: 'clock-0',
        container: 'app',
        stream: 'stdout',
        timestamp: `${iso.slice(0, 19)}.000000Z`,
        insertId: `at-${ms}`,
        textPayload: `entry at ${iso}`,
      });
    }
  }
  return entries;
}
