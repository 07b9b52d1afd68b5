// Built-in values that more than one module needs. The defaults of settings a user can change live
// with the settings (src/cli/settings.ts); this file holds what those and the code both refer to.
import { homedir } from 'node:os';
import { join } from 'node:path';

/** Day directories and hour files are named in this zone unless `--tz` says otherwise. */
export const DEFAULT_TIME_ZONE = 'UTC';

/** The name of a mount that the config file does not name. */
export const DEFAULT_MOUNT_NAME = 'default';

/** Rows per REST result page: small enough to bound memory, large enough to keep round trips few. */
export const RESULT_PAGE_ROWS = 2_000;

/** REST result pages of a kept result asked for at once (see src/bigquery/pages-ahead.ts). */
export const REST_PAGES_IN_FLIGHT = 4;

export function defaultCacheDir(): string {
  return join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'bqlogfs');
}
