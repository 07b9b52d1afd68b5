// `bqlogfs fetch`'s arguments (the container, the window, the filters) and settings checked into
// FetchOptions. The settings are the mount's, read by the same code, so both mean the same.
import { DEFAULT_TIME_ZONE } from '../model/defaults.js';
import type { Resolved } from './config.js';
import type { FetchOptions } from '../fetch/fetch-command.js';
import { fetchWindow, parseTime, type WindowChoice } from '../fetch/fetch-window.js';
import { parseLabelSelector } from '../model/label-selector.js';
import { isDns1123Label } from '../model/log-path.js';
import { queryAndFileOptionsFrom, storeOptionsFrom } from './mount-config.js';
import type { FetchArgs } from './fetch-settings.js';
import { parseDuration, TimeZoneModel } from '../model/time-model.js';
import { UsageError } from '../model/usage-error.js';

function usage(message: string): never {
  throw new UsageError(message);
}

function windowChoice(values: FetchArgs): WindowChoice {
  const { since, day, hours, from, to } = values;
  if (since !== undefined && [day, hours, from, to].some((value) => value !== undefined)) {
    usage('--since cannot be combined with --day, --hours, --from or --to');
  }
  if (day !== undefined && (from !== undefined || to !== undefined)) usage('--day cannot be combined with --from/--to');
  if (hours !== undefined && day === undefined) usage('--hours needs --day');
  if ((from === undefined) !== (to === undefined)) usage('--from and --to go together');
  if (since !== undefined) {
    const durationMs = parseDuration(since);
    if (durationMs <= 0) usage('--since takes a duration above zero');
    return { kind: 'recent', durationMs };
  }
  if (day !== undefined) {
    const dayOfMonth = /^\d{1,2}$/.test(day) ? Number(day) : 0;
    if (dayOfMonth < 1 || dayOfMonth > 31) usage(`--day takes a day of the month, 1 to 31, not "${day}"`);
    const hourCount = hours === undefined ? 1 : /^\d+$/.test(hours) ? Number(hours) : 0;
    if (hourCount < 1) usage(`--hours takes a whole number ≥ 1, not "${hours}"`);
    return { kind: 'day-of-month', day: dayOfMonth, hours: hourCount };
  }
  if (from !== undefined && to !== undefined) {
    const timeHint = '(use RFC 3339, or YYYY-MM-DDTHH[:MM[:SS]] for a local time of --tz)';
    const fromTime = parseTime(from);
    const toTime = parseTime(to);
    if (fromTime === undefined) usage(`--from: not a time: "${from}" ${timeHint}`);
    if (toTime === undefined) usage(`--to: not a time: "${to}" ${timeHint}`);
    return { kind: 'between', from: fromTime, to: toTime };
  }
  return { kind: 'recent', durationMs: 3_600_000 };
}

/** What fetch and grep read alike: the namespace, the pod pattern, the window and the store's settings. */
export function windowedReadFrom(args: FetchArgs, resolved: Resolved) {
  if (args.namespace !== undefined && !isDns1123Label(args.namespace)) {
    usage(`invalid namespace "${args.namespace}" (Kubernetes: a DNS-1123 label)`);
  }
  let podPattern: RegExp | undefined;
  try {
    if (args.pod !== undefined) podPattern = new RegExp(args.pod);
  } catch (error) {
    usage(`--pod: ${(error as Error).message}`);
  }
  const shared = queryAndFileOptionsFrom(resolved);
  let window;
  try {
    window = fetchWindow(windowChoice(args), Date.now(), new TimeZoneModel(shared.timeZone ?? DEFAULT_TIME_ZONE));
  } catch (error) {
    throw error instanceof UsageError ? error : new UsageError((error as Error).message);
  }
  return {
    ...(podPattern !== undefined && { podPattern }),
    ...(args.selector !== undefined && { labels: parseLabelSelector(args.selector) }),
    window,
    store: {
      ...storeOptionsFrom(resolved),
      ...shared,
      sealAfterMs: parseDuration('15m'),
      // One snapshot of the hour that is still filling per run.
      refreshMs: Infinity,
    },
  };
}

export function fetchOptionsFrom(containers: string[], args: FetchArgs, resolved: Resolved): FetchOptions {
  const [container] = containers;
  if (!container || containers.length > 1) usage('fetch takes exactly one container name');
  if (!isDns1123Label(container)) usage(`invalid container name "${container}" (Kubernetes: a DNS-1123 label)`);
  const read = windowedReadFrom(args, resolved);
  return {
    container,
    ...(args.namespace !== undefined && { namespace: args.namespace }),
    ...read,
    outDir: args.out ?? '.',
  };
}
