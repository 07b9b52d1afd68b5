// Local time of an instant straight from the platform's time-zone data, so that tests do not check
// src/time-model.ts against itself.

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
