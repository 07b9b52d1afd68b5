// Every setting a mount takes, under one name that is the same as a flag (`--cache-size`), a config
// file key (`cache-size = "10G"`) and an environment variable (BQLOGFS_CACHE_SIZE), with its
// built-in default. Values stay raw (strings and booleans) until mount-config.ts checks them.
import { SCHEMA_TABLE_KEYS } from '../bigquery/log-schemas.js';
import { defaultCacheDir, DEFAULT_TIME_ZONE } from '../model/defaults.js';
import { READ_API, READ_API_ENDPOINT } from './read-settings.js';

/** A TOML table of strings, for the settings that take one in the config file (`tableKeys`). */
export type SettingTable = Readonly<Record<string, string>>;

/** A setting's value before it is checked: what a flag, a variable or the config file gave. */
export type RawValue = string | boolean | SettingTable;

export interface SettingSpec {
  key: string;
  /** `<size>` etc.; undefined for an on/off switch. */
  argument?: string;
  description: string;
  /** The built-in default; undefined means none. */
  defaultValue?: RawValue | (() => RawValue);
  /** How the default reads in --help, when not the value itself. */
  shownDefault?: string;
  /**
   * `process` settings belong to the whole daemon (one log, one metrics endpoint), not to one
   * mount; `--all` takes them only from flags, the environment and [defaults].
   */
  scope: 'mount' | 'process';
  /** In the config file the value may also be a table with these keys (`[mounts.<name>.<key>]`). */
  tableKeys?: readonly string[];
}

const setting = (spec: SettingSpec): SettingSpec => spec;

export const MOUNTPOINT = setting({
  key: 'mountpoint',
  argument: '<dir>',
  description: 'where to mount (also the positional argument)',
  shownDefault: 'none, required',
  scope: 'mount',
});
export const PROJECT = setting({
  key: 'project',
  argument: '<id>',
  description: 'Google Cloud project of the dataset, also billed for the queries',
  shownDefault: 'none, required',
  scope: 'mount',
});
export const DATASET = setting({
  key: 'dataset',
  argument: '<id>',
  description: 'BigQuery dataset the log sink writes to',
  shownDefault: 'none, required',
  scope: 'mount',
});
export const API_ENDPOINT = setting({
  key: 'api-endpoint',
  argument: '<url>',
  description: 'BigQuery endpoint; which credentials it gets: see auth (BQLOGFS_AUTH)',
  shownDefault: "Google's",
  scope: 'mount',
});
export const AUTH = setting({
  key: 'auth',
  argument: '<mode>',
  description:
    'credentials sent to BigQuery: auto (Application Default Credentials, none for a loopback endpoint), ' +
    'adc (always Application Default Credentials), none (never; for a BigQuery emulator under another host name)',
  defaultValue: 'auto',
  scope: 'mount',
});
export const CACHE_DIR = setting({
  key: 'cache-dir',
  argument: '<dir>',
  description: 'disk cache of fetched hour files, mode 0700',
  defaultValue: defaultCacheDir,
  shownDefault: '$XDG_CACHE_HOME/bqlogfs, i.e. ~/.cache/bqlogfs',
  scope: 'mount',
});
export const CACHE_SIZE = setting({
  key: 'cache-size',
  argument: '<size>',
  description:
    'bound on the disk cache, least recently used container-days go first; a bare number is bytes, at least 64M',
  defaultValue: '10G',
  scope: 'mount',
});
export const MAX_BYTES_BILLED = setting({
  key: 'max-bytes-billed',
  argument: '<size>',
  description: 'refuse any query that would bill more (e.g. 5G)',
  shownDefault: 'no limit',
  scope: 'mount',
});
export const MAX_BYTES_BILLED_PER_DAY = setting({
  key: 'max-bytes-billed-per-day',
  argument: '<size>',
  description:
    'what all queries of this mount (or fetch) may bill within any 24 hours; beyond it, reads that need a query ' +
    'fail with EIO and a log line naming the cap, and .bqlogfs/stats shows what is left (e.g. 1T)',
  shownDefault: 'no limit',
  scope: 'mount',
});
export const SCHEMA = setting({
  key: 'schema',
  argument: '<kind>',
  description:
    "layout of the log tables: auto (a sink's stdout/stderr tables, else a Log Analytics _AllLogs view), sink, " +
    'log-analytics, or custom (a [mounts.<name>.schema] table of the config file names the table and its columns)',
  defaultValue: 'auto',
  scope: 'mount',
  tableKeys: SCHEMA_TABLE_KEYS,
});
export const CLUSTER = setting({
  key: 'cluster',
  argument: '<name>',
  description: 'only entries of this GKE cluster, for datasets that hold several',
  shownDefault: 'all',
  scope: 'mount',
});

/** What every command that reads logs needs: `mount`, `fetch` and `doctor`. */
export const STORE_SETTINGS: readonly SettingSpec[] = [
  PROJECT,
  DATASET,
  API_ENDPOINT,
  AUTH,
  SCHEMA,
  CLUSTER,
  CACHE_DIR,
  CACHE_SIZE,
  MAX_BYTES_BILLED,
  MAX_BYTES_BILLED_PER_DAY,
  READ_API,
  READ_API_ENDPOINT,
];

export const LOG_LEVEL = setting({
  key: 'log-level',
  argument: '<level>',
  description: 'trace, debug, info, warn, error',
  defaultValue: 'info',
  scope: 'process',
});
export const METRICS_PORT = setting({
  key: 'metrics-port',
  argument: '<port>',
  description: 'serve Prometheus metrics at http://<metrics-host>:<port>/metrics',
  shownDefault: 'off',
  scope: 'process',
});
export const METRICS_HOST = setting({
  key: 'metrics-host',
  argument: '<host>',
  description: 'address the metrics endpoint listens on',
  defaultValue: '127.0.0.1',
  scope: 'process',
});

export const MOUNT_SETTINGS: readonly SettingSpec[] = [
  MOUNTPOINT,
  ...STORE_SETTINGS,
  setting({
    key: 'lookback',
    argument: '<duration>',
    description: 'how far back directory listings reach',
    defaultValue: '7d',
    scope: 'mount',
  }),
  setting({
    key: 'seal-after',
    argument: '<duration>',
    description: 'grace period before an hour counts as finished',
    defaultValue: '15m',
    scope: 'mount',
  }),
  setting({
    key: 'refresh',
    argument: '<duration>',
    description: 'how old a snapshot of the hour still filling may get',
    defaultValue: '10s',
    scope: 'mount',
  }),
  setting({
    key: 'refresh-budget',
    argument: '<size>',
    description: 'bytes refreshes of live hours may bill per hour; beyond it live files stop growing',
    defaultValue: '10G',
    scope: 'mount',
  }),
  setting({
    key: 'listing-ttl',
    argument: '<duration>',
    description: 'how long listings of days that can still change are reused',
    defaultValue: '60s',
    scope: 'mount',
  }),
  setting({
    key: 'query-timeout',
    argument: '<duration>',
    description: 'a query not done by then fails the read with EIO',
    defaultValue: '5m',
    scope: 'mount',
  }),
  setting({
    key: 'max-concurrent-queries',
    argument: '<n>',
    description: 'queries running at once; the rest wait',
    defaultValue: '4',
    scope: 'mount',
  }),
  setting({
    key: 'allow-other',
    description: 'let other users read the mount (allow_other + default_permissions; non-root needs user_allow_other)',
    defaultValue: false,
    scope: 'mount',
  }),
  setting({
    key: 'uid',
    argument: '<uid>',
    description: 'owner the files show',
    shownDefault: 'the mounting user',
    scope: 'mount',
  }),
  setting({
    key: 'gid',
    argument: '<gid>',
    description: 'group the files show',
    shownDefault: "the mounting user's group",
    scope: 'mount',
  }),
  setting({
    key: 'mode',
    argument: '<octal>',
    description: 'permission bits of the files (read bits only; directories get x where r is set)',
    defaultValue: '0444',
    scope: 'mount',
  }),
  setting({
    key: 'namespaces',
    argument: '<a,b,...>',
    description: 'expose only these namespaces; others are invisible and unreadable',
    shownDefault: 'all',
    scope: 'mount',
  }),
  setting({
    key: 'namespace-regex',
    argument: '<regex>',
    description: 'expose only namespaces whose whole name matches (RE2 syntax, as BigQuery uses)',
    shownDefault: 'all',
    scope: 'mount',
  }),
  setting({
    key: 'tz',
    argument: '<zone>',
    description: 'IANA time zone of the day directories and hour files (e.g. Europe/Berlin)',
    defaultValue: DEFAULT_TIME_ZONE,
    scope: 'mount',
  }),
  setting({
    key: 'timestamps',
    description: 'start each line with the entry timestamp (RFC 3339)',
    defaultValue: false,
    scope: 'mount',
  }),
  setting({
    key: 'format',
    argument: '<text|json>',
    description: 'lines as the payload (text) or as one JSON object per entry (json)',
    defaultValue: 'text',
    scope: 'mount',
  }),
  LOG_LEVEL,
  METRICS_PORT,
  METRICS_HOST,
];

/** BQLOGFS_CACHE_SIZE for `cache-size`. */
export function envName(key: string): string {
  return `BQLOGFS_${key.toUpperCase().replaceAll('-', '_')}`;
}

export function defaultOf(spec: SettingSpec): RawValue | undefined {
  return typeof spec.defaultValue === 'function' ? spec.defaultValue() : spec.defaultValue;
}

/** `(default: 10G)` for --help. */
export function helpDefault(spec: SettingSpec): string {
  return `(default: ${spec.shownDefault ?? String(defaultOf(spec))})`;
}
