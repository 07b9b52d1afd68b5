import t from 'tap';
import { daysIn, microsToRfc3339, parseDayName, parseDuration, TimeZoneModel } from '../src/model/time-model.js';

t.test('days', async (t) => {
  t.equal(parseDayName('2024-02-29'), Date.UTC(2024, 1, 29));
  t.equal(parseDayName('2023-02-29'), undefined);
  t.equal(parseDayName('2024-04-31'), undefined);
  t.same(daysIn({ startMs: Date.UTC(2024, 0, 31, 22), endMs: Date.UTC(2024, 1, 1, 2) }), ['2024-01-31', '2024-02-01']);
  t.throws(() => parseDuration('7 days'));
  t.equal(parseDuration('15m'), 900_000);
});

t.test('durations as kubectl writes them', async (t) => {
  const minute = 60_000;
  const cases: [string, number][] = [
    ['500ms', 500],
    ['90s', 90_000],
    ['1h30m', 90 * minute],
    ['1.5h', 90 * minute],
    ['1w', 7 * 24 * 60 * minute],
    ['2d12h', 60 * 60 * minute],
    ['1m30s', 90_000],
    ['1s500ms', 1500],
  ];
  for (const [text, ms] of cases) t.equal(parseDuration(text), ms, text);
  for (const text of ['', '0', 'm', '30m1h', '1h 30m', '1mm', '1y']) t.throws(() => parseDuration(text), text);
});

t.test('hours at microsecond precision', async (t) => {
  const utc = new TimeZoneModel('UTC');
  const hourStart = BigInt(Date.UTC(2024, 0, 1, 10)) * 1000n;
  t.equal(utc.hourOfMicros('2024-01-01', hourStart), 10);
  t.equal(utc.hourOfMicros('2024-01-01', hourStart - 1n), 9);
  t.equal(utc.hourOfMicros('2024-01-01', hourStart + 3_599_999_999n), 10);
  t.equal(utc.hourOfMicros('2024-01-01', hourStart + 3_600_000_000n), 11);
  t.equal(microsToRfc3339(hourStart + 1n), '2024-01-01T10:00:00.000001Z');
});

t.test('local days across clock changes', async (t) => {
  const newYork = new TimeZoneModel('America/New_York');
  const spring = newYork.hourSegments('2026-03-08');
  t.equal(spring.length, 23, 'spring forward: 23 hours');
  t.notOk(
    spring.some((segment) => segment.hour === 2),
    'no 02:00',
  );
  const fall = newYork.hourSegments('2026-11-01');
  t.equal(fall.length, 24, 'fall back: 24 hour labels');
  t.equal(newYork.dayRange('2026-11-01').endMs - newYork.dayRange('2026-11-01').startMs, 25 * 3_600_000, '25 hours');
  t.same(newYork.hourRange('2026-11-01', 1), { startMs: Date.UTC(2026, 10, 1, 5), endMs: Date.UTC(2026, 10, 1, 7) });
  const kolkata = new TimeZoneModel('Asia/Kolkata');
  t.same(kolkata.hourRange('2026-11-26', 0), {
    startMs: Date.UTC(2026, 10, 25, 18, 30),
    endMs: Date.UTC(2026, 10, 25, 19, 30),
  });
  t.throws(() => new TimeZoneModel('Mars/Olympus'));
});
