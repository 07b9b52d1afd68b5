import t from 'tap';
import {
  daysIn,
  hourOfMicros,
  lookbackWindow,
  microsToRfc3339,
  parseDayName,
  parseDuration,
} from '../src/time-model.js';

t.test('days', async (t) => {
  t.equal(parseDayName('2024-02-29'), Date.UTC(2024, 1, 29));
  t.equal(parseDayName('2023-02-29'), undefined);
  t.equal(parseDayName('2024-04-31'), undefined);
  t.same(daysIn({ startMs: Date.UTC(2024, 0, 31, 22), endMs: Date.UTC(2024, 1, 1, 2) }), ['2024-01-31', '2024-02-01']);
});

t.test('hours at microsecond precision', async (t) => {
  const hourStart = BigInt(Date.UTC(2024, 0, 1, 10)) * 1000n;
  t.equal(hourOfMicros(hourStart), 10);
  t.equal(hourOfMicros(hourStart - 1n), 9);
  t.equal(hourOfMicros(hourStart + 3_599_999_999n), 10);
  t.equal(hourOfMicros(hourStart + 3_600_000_000n), 11);
  t.equal(microsToRfc3339(hourStart + 1n), '2024-01-01T10:00:00.000001Z');
});

t.test('the look-back window covers whole days up to the end of today', async (t) => {
  const now = Date.UTC(2024, 0, 10, 15, 30);
  t.same(lookbackWindow(now, parseDuration('7d')), { startMs: Date.UTC(2024, 0, 3), endMs: Date.UTC(2024, 0, 11) });
  t.throws(() => parseDuration('7 days'));
  t.equal(parseDuration('15m'), 900_000);
});
