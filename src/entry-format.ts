// How one log entry becomes one line of an hour file.

function withoutNulls(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutNulls);
  if (value === null || typeof value !== 'object') return value;
  const kept: Record<string, unknown> = {};
  for (const [key, field] of Object.entries(value)) {
    if (field !== null) kept[key] = withoutNulls(field);
  }
  return kept;
}

/**
 * The line for one entry: `textPayload` as is without one trailing newline, or `jsonPayload`
 * (as BigQuery's TO_JSON_STRING gave it) as compact JSON of its non-null fields.
 */
export function entryLine(textPayload: string | null, jsonPayload: string | null): string {
  if (textPayload !== null) {
    return (textPayload.endsWith('\n') ? textPayload.slice(0, -1) : textPayload) + '\n';
  }
  if (jsonPayload !== null) {
    const parsed: unknown = JSON.parse(jsonPayload);
    if (parsed !== null) return JSON.stringify(withoutNulls(parsed)) + '\n';
  }
  return '\n';
}
