// The window of `bqlogfs fetch`: which hours --since, --day/--hours and --from/--to cover, in UTC
// and in local time zones, across daylight-saving changes; and how the bounds are read.
import t from 'tap';
import { fetchWindow, hoursOf, parseTime, type TimePoint } from '../src/fetch/fetch-window.js';
import { TimeZoneModel } from '../src/model/time-model.js';

const HOUR_MS = 3_600_000;

function timeOf(text: string): TimePoint {
  const parsed = parseTime(text);
  if (parsed === undefined) throw new Error(`not a time: ${text}`);
  return parsed;
}

t.test('window arithmetic in UTC', async (t) => {
  const utc = new TimeZoneModel('UTC');
  const now = Date.parse('2026-03-05T14:20:00Z');
  const hours = (range: { startMs: number; endMs: number }) => [
    new Date(range.startMs).toISOString(),
    new Date(range.endMs).toISOString(),
  ];
  t.same(hours(fetchWindow({ kind: 'recent', durationMs: HOUR_MS }, now, utc)), [
    '2026-03-05T13:00:00.000Z',
    '2026-03-05T15:00:00.000Z',
  ]);
  t.same(hours(fetchWindow({ kind: 'recent', durationMs: 2 * HOUR_MS }, now, utc)), [
    '2026-03-05T12:00:00.000Z',
    '2026-03-05T15:00:00.000Z',
  ]);
  t.same(hours(fetchWindow({ kind: 'day-of-month', day: 1, hours: 1 }, now, utc)), [
    '2026-03-01T13:00:00.000Z',
    '2026-03-01T15:00:00.000Z',
  ]);
  t.same(
    hours(fetchWindow({ kind: 'day-of-month', day: 28, hours: 24 }, now, utc)),
    ['2026-02-27T14:00:00.000Z', '2026-02-28T15:00:00.000Z'],
    'a day still to come this month is of the previous month',
  );
  t.throws(() => fetchWindow({ kind: 'day-of-month', day: 30, hours: 1 }, now, utc), /2026-02 has no day 30/);
  t.same(
    hours(fetchWindow({ kind: 'day-of-month', day: 31, hours: 1 }, Date.parse('2026-01-10T00:30:00Z'), utc)),
    ['2025-12-30T23:00:00.000Z', '2025-12-31T01:00:00.000Z'],
    'across a year',
  );
  const between = (from: string, to: string) =>
    hours(fetchWindow({ kind: 'between', from: timeOf(from), to: timeOf(to) }, now, utc));
  t.same(between('2026-03-01T10', '2026-03-01T12'), ['2026-03-01T10:00:00.000Z', '2026-03-01T12:00:00.000Z']);
  t.same(
    between('2026-03-01T10:59:59.999999Z', '2026-03-01T12:00:00.000001Z'),
    ['2026-03-01T10:00:00.000Z', '2026-03-01T13:00:00.000Z'],
    'sub-millisecond bounds widen too',
  );
  t.throws(() => between('2026-03-01T12', '2026-03-01T12:00:00Z'), /--from must be before --to/);
  t.same(parseTime('2026-03-01T10:30:00+01:30'), { instantMs: Date.parse('2026-03-01T09:00:00Z') });
  t.same(parseTime('2026-03-01t10:30:00z'), { instantMs: Date.parse('2026-03-01T10:30:00Z') });
  t.same(parseTime('2026-03-01T10'), { wallMs: Date.parse('2026-03-01T10:00:00Z') }, 'no offset: a local time');
  t.same(parseTime('2026-03-01T10:30'), { wallMs: Date.parse('2026-03-01T10:30:00Z') });
  t.same(parseTime('2026-03-01T10:30:15.5'), { wallMs: Date.parse('2026-03-01T10:30:15.500Z') });
  for (const bad of ['2026-03-01', '2026-03-01T24', '2026-02-29T10', '2026-03-01T10:3', '2026-03-01T10:30:60', 'x']) {
    t.equal(parseTime(bad), undefined, `not a time: ${bad}`);
  }
  t.equal(parseTime('2026-03-01T10:30:00+24:00'), undefined, 'not an offset');
});

t.test('window arithmetic in other zones', async (t) => {
  const kolkata = new TimeZoneModel('Asia/Kolkata');
  const newYork = new TimeZoneModel('America/New_York');
  const now = Date.parse('2026-03-05T14:20:00Z');
  const window = (choice: Parameters<typeof fetchWindow>[0], zone: TimeZoneModel, at = now) => {
    const range = fetchWindow(choice, at, zone);
    return [new Date(range.startMs).toISOString(), new Date(range.endMs).toISOString()];
  };
  const between = (from: string, to: string, zone: TimeZoneModel) =>
    window({ kind: 'between', from: timeOf(from), to: timeOf(to) }, zone);

  const betweenCases: [string, string, TimeZoneModel, string[], string][] = [
    [
      '2026-03-01T10',
      '2026-03-01T12',
      kolkata,
      ['2026-03-01T04:30:00.000Z', '2026-03-01T06:30:00.000Z'],
      'a time without an offset is local',
    ],
    [
      '2026-03-01T05:00:00Z',
      '2026-03-01T05:10:00Z',
      kolkata,
      ['2026-03-01T04:30:00.000Z', '2026-03-01T05:30:00.000Z'],
      'an instant widens to the local hour around it',
    ],
    // New York falls back on 2026-11-01 (01:00-02:00 twice) and springs forward on 2026-03-08 (no 02:xx).
    [
      '2026-11-01T01:30',
      '2026-11-01T02',
      newYork,
      ['2026-11-01T05:00:00.000Z', '2026-11-01T07:00:00.000Z'],
      'the repeated hour is one hour file of two hours',
    ],
    [
      '2026-11-01T06:30:00Z',
      '2026-11-01T06:40:00Z',
      newYork,
      ['2026-11-01T05:00:00.000Z', '2026-11-01T07:00:00.000Z'],
      'also from an instant in its second half',
    ],
    [
      '2026-03-08T02:30',
      '2026-03-08T04',
      newYork,
      ['2026-03-08T07:00:00.000Z', '2026-03-08T08:00:00.000Z'],
      'a skipped local time counts as that long after the change',
    ],
  ];
  for (const [from, to, zone, expected, message] of betweenCases) t.same(between(from, to, zone), expected, message);
  t.same(
    window({ kind: 'recent', durationMs: HOUR_MS }, kolkata),
    ['2026-03-05T12:30:00.000Z', '2026-03-05T14:30:00.000Z'],
    'the last hour: local 18:50-19:50, i.e. the local hours 18 and 19',
  );
  // 20:00 UTC on the 5th is 01:30 on the 6th in Kolkata.
  const lateEvening = Date.parse('2026-03-05T20:00:00Z');
  t.same(
    window({ kind: 'day-of-month', day: 6, hours: 1 }, kolkata, lateEvening),
    ['2026-03-05T18:30:00.000Z', '2026-03-05T20:30:00.000Z'],
    'the day of the month and the clock time are local',
  );
  t.same(window({ kind: 'day-of-month', day: 5, hours: 1 }, kolkata, lateEvening), [
    '2026-03-04T18:30:00.000Z',
    '2026-03-04T20:30:00.000Z',
  ]);

  const files = (startIso: string, endIso: string, zone: TimeZoneModel) =>
    hoursOf({ startMs: Date.parse(startIso), endMs: Date.parse(endIso) }, zone).map(
      ({ day, hour }) => `${day}/${hour}`,
    );
  t.same(files('2026-11-01T04:00:00Z', '2026-11-01T08:00:00Z', newYork), [
    '2026-11-01/0',
    '2026-11-01/1',
    '2026-11-01/2',
  ]);
  t.same(files('2026-03-01T17:30:00Z', '2026-03-01T19:30:00Z', kolkata), ['2026-03-01/23', '2026-03-02/0']);
});
