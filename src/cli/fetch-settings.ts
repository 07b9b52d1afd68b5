// `bqlogfs fetch`'s options: its own arguments, and the mount settings it shares, which keep their
// meaning and defaults. Checking them is fetch-args.ts's job.
import { MOUNT_SETTINGS, STORE_SETTINGS, type SettingSpec } from './settings.js';

export interface FetchArgs {
  namespace?: string;
  pod?: string;
  /** A kubectl label selector (`-l`). */
  selector?: string;
  since?: string;
  day?: string;
  hours?: string;
  from?: string;
  to?: string;
  out?: string;
}

/** A mount setting that fetch takes as well; `description` replaces its help text where fetch differs. */
function mountSetting(key: string, description?: string): SettingSpec {
  const spec = MOUNT_SETTINGS.find((candidate) => candidate.key === key);
  if (!spec) throw new Error(`no mount setting "${key}"`);
  return description === undefined ? spec : { ...spec, description };
}

export const FETCH_SETTINGS: readonly SettingSpec[] = [
  ...STORE_SETTINGS,
  mountSetting('tz', 'IANA time zone of the window and of the hour files, as for mount (e.g. Asia/Kolkata)'),
  mountSetting('timestamps'),
  mountSetting('format'),
  mountSetting('query-timeout', 'a query not done by then fails the fetch'),
  mountSetting(
    'max-concurrent-queries',
    'queries running at once, the rest wait; also how many pod files are written at once',
  ),
];
