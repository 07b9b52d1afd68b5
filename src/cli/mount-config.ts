// Turns resolved settings into checked options: which mounts to start (one, a named one from the
// config file, or all of them), each mount's options, and the options of the daemon as a whole.
import { DEFAULT_TIME_ZONE } from '../model/defaults.js';
import { resolve } from 'node:path';
import { layerOf, resolveSettings, type ConfigFile, type Layer, type Resolved } from './config.js';
import { parseReadApi, parseReadApiEndpoint } from './read-settings.js';
import { AUTH_MODES } from '../bigquery/client.js';
import type { MountOptions } from '../daemon/mount.js';
import type { MountPlan, PlannedMount, ProcessOptions } from '../daemon/mount-plan.js';
import type { LogStoreOptions } from '../store/log-store.js';
import { parseSchemaChoice, type SchemaChoice } from '../bigquery/log-schemas.js';
import { isDns1123Label } from '../model/log-path.js';
import type { NamespaceRestriction } from '../bigquery/query-builder.js';
import { MOUNT_SETTINGS, type RawValue, type SettingSpec } from './settings.js';
import { checkTimeZone, parseDuration } from '../model/time-model.js';
import { UsageError } from '../model/usage-error.js';
import { parseByteSize, parseCacheSize } from './byte-size.js';

export interface MountRequest {
  /** `[name-or-mountpoint]` or `<name> <mountpoint>`. */
  positionals: string[];
  all: boolean;
  flags: Layer;
  env: Layer;
  config: ConfigFile | undefined;
}

const LOG_LEVELS = new Set(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']);
const PROCESS_KEYS = MOUNT_SETTINGS.filter((spec) => spec.scope === 'process').map((spec) => spec.key);

function wholeNumber(min: number, max = Number.MAX_SAFE_INTEGER): (text: string) => number {
  return (text) => {
    const number = /^\d+$/.test(text.trim()) ? Number(text) : NaN;
    if (!(number >= min && number <= max)) throw new Error(`takes a whole number from ${min} to ${max}, not "${text}"`);
    return number;
  };
}

/** The log tables' layout: a kind, or a custom description from the config file. */
function schemaChoice(resolved: Resolved): { schema?: SchemaChoice } {
  const found = resolved.get('schema');
  if (found === undefined || typeof found.value === 'boolean') return {};
  try {
    return { schema: parseSchemaChoice(found.value) };
  } catch (error) {
    throw new UsageError(`${found.source}: ${(error as Error).message}`);
  }
}

/** Reads one resolved setting through `parse`; a failure names where the value was written. */
function read<T>(resolved: Resolved, key: string, parse: (text: string) => T): T | undefined {
  const found = resolved.get(key);
  if (found === undefined) return undefined;
  try {
    return parse(String(found.value));
  } catch (error) {
    throw new UsageError(`${found.source}: ${(error as Error).message}`);
  }
}

function required(resolved: Resolved, key: string): string {
  const value = read(resolved, key, (text) => text);
  if (value === undefined || value === '') {
    throw new UsageError(`--${key} is required (or BQLOGFS_${key.toUpperCase()}, or ${key} in the config file)`);
  }
  return value;
}

function flag(resolved: Resolved, key: string): boolean {
  return resolved.get(key)?.value === true;
}

/** Where the logs are and the cache: what `mount`, `fetch` and `doctor` share. */
export function storeOptionsFrom(
  resolved: Resolved,
): Pick<
  LogStoreOptions,
  | 'projectId'
  | 'datasetId'
  | 'apiEndpoint'
  | 'auth'
  | 'schema'
  | 'cluster'
  | 'cacheDir'
  | 'cacheMaxBytes'
  | 'maxBytesBilled'
  | 'maxBytesBilledPerDay'
  | 'readApi'
  | 'readApiEndpoint'
> {
  const apiEndpoint = read(resolved, 'api-endpoint', (text) => {
    if (!URL.canParse(text)) throw new Error(`not a URL: "${text}"`);
    return text;
  });
  const auth = read(resolved, 'auth', (text) => {
    const mode = AUTH_MODES.find((known) => known === text);
    if (mode === undefined) throw new Error(`takes one of ${AUTH_MODES.join(', ')}, not "${text}"`);
    if (mode === 'none' && apiEndpoint === undefined) {
      throw new Error("none needs --api-endpoint: Google's endpoint answers no request without credentials");
    }
    return mode;
  });
  const readApi = read(resolved, 'read-api', parseReadApi);
  const readApiEndpoint = read(resolved, 'read-api-endpoint', parseReadApiEndpoint);
  const maxBytesBilled = read(resolved, 'max-bytes-billed', parseByteSize);
  const maxBytesBilledPerDay = read(resolved, 'max-bytes-billed-per-day', parseByteSize);
  const cluster = read(resolved, 'cluster', (text) => {
    if (text.trim() === '') throw new Error('takes a cluster name');
    return text;
  });
  return {
    projectId: required(resolved, 'project'),
    datasetId: required(resolved, 'dataset'),
    ...(apiEndpoint !== undefined && { apiEndpoint }),
    ...(auth !== undefined && { auth }),
    ...schemaChoice(resolved),
    ...(cluster !== undefined && { cluster }),
    cacheDir: resolve(read(resolved, 'cache-dir', (text) => text) ?? ''),
    cacheMaxBytes: read(resolved, 'cache-size', parseCacheSize) ?? 0,
    ...(maxBytesBilled !== undefined && { maxBytesBilled }),
    ...(maxBytesBilledPerDay !== undefined && { maxBytesBilledPerDay }),
    ...(readApi !== undefined && { readApi }),
    ...(readApiEndpoint !== undefined && { readApiEndpoint }),
  };
}

function optional<K extends string, V>(key: K, value: V | undefined): Partial<Record<K, V>> {
  return value === undefined ? {} : ({ [key]: value } as Record<K, V>);
}

function parseMode(text: string): number {
  if (!/^0?[0-7]{3}$/.test(text)) throw new Error(`takes octal permission bits such as 0444, not "${text}"`);
  return parseInt(text, 8);
}

function namespaceRestriction(resolved: Resolved): { namespaces?: NamespaceRestriction } {
  const names = read(resolved, 'namespaces', (text) => {
    const list = text.split(',').map((name) => name.trim());
    const bad = list.find((name) => !isDns1123Label(name));
    if (bad !== undefined) throw new Error(`"${bad}" is not a Kubernetes namespace name`);
    return list;
  });
  const pattern = read(resolved, 'namespace-regex', (text) => {
    new RegExp(text);
    return text;
  });
  if (names === undefined && pattern === undefined) return {};
  return { namespaces: { ...(names && { names }), ...(pattern !== undefined && { pattern }) } };
}

/** How queries run and how hour files are cut and written: what `mount` and `fetch` share beyond the store. */
export function queryAndFileOptionsFrom(
  resolved: Resolved,
): Pick<LogStoreOptions, 'queryTimeoutMs' | 'maxConcurrentQueries' | 'timeZone' | 'timestamps' | 'format'> {
  return {
    queryTimeoutMs: read(resolved, 'query-timeout', parseDuration) ?? 0,
    maxConcurrentQueries: read(resolved, 'max-concurrent-queries', wholeNumber(1)) ?? 1,
    timeZone: read(resolved, 'tz', checkTimeZone) ?? DEFAULT_TIME_ZONE,
    timestamps: flag(resolved, 'timestamps'),
    format: read(resolved, 'format', (text) => {
      if (text !== 'text' && text !== 'json') throw new Error(`takes text or json, not "${text}"`);
      return text;
    }),
  };
}

export function mountOptionsFrom(resolved: Resolved): MountOptions {
  const mountpoint = read(resolved, 'mountpoint', (text) => text);
  if (!mountpoint) {
    throw new UsageError('no mountpoint: give it as the argument, --mountpoint, BQLOGFS_MOUNTPOINT or in the config');
  }
  const duration = (key: string) => read(resolved, key, parseDuration) ?? 0;
  return {
    mountpoint,
    ...storeOptionsFrom(resolved),
    lookbackMs: duration('lookback'),
    sealAfterMs: duration('seal-after'),
    refreshMs: duration('refresh'),
    refreshBudgetBytes: read(resolved, 'refresh-budget', parseByteSize) ?? 0,
    listingTtlMs: duration('listing-ttl'),
    ...queryAndFileOptionsFrom(resolved),
    ...namespaceRestriction(resolved),
    allowOther: flag(resolved, 'allow-other'),
    ...optional('uid', read(resolved, 'uid', wholeNumber(0, 2 ** 32 - 2))),
    ...optional('gid', read(resolved, 'gid', wholeNumber(0, 2 ** 32 - 2))),
    fileMode: read(resolved, 'mode', parseMode) ?? 0o444,
  };
}

export function processOptionsFrom(resolved: Resolved): ProcessOptions {
  const logLevel = read(resolved, 'log-level', (text) => {
    if (!LOG_LEVELS.has(text)) throw new Error(`takes one of ${[...LOG_LEVELS].join(', ')}, not "${text}"`);
    return text;
  });
  const port = read(resolved, 'metrics-port', wholeNumber(0, 65_535));
  return {
    logLevel: logLevel ?? 'info',
    ...(port !== undefined && {
      metrics: { port, host: read(resolved, 'metrics-host', (text) => text) ?? '127.0.0.1' },
    }),
  };
}

/** The layers of one mount, strongest first. */
function layersFor(request: MountRequest, table: Layer | undefined): Layer[] {
  const layers = [request.flags, request.env];
  if (table) layers.push(table);
  if (request.config) layers.push(request.config.defaults);
  return layers;
}

function planAll(request: MountRequest): MountPlan {
  const { config } = request;
  if (!config) throw new UsageError('--all needs a config file (--config FILE or BQLOGFS_CONFIG)');
  if (request.positionals.length > 0) throw new UsageError('--all takes no mount name or mountpoint');
  if (config.mounts.size === 0) throw new UsageError(`config file ${config.path} defines no [mounts.<name>] table`);
  const mounts: PlannedMount[] = [];
  const byMountpoint = new Map<string, string>();
  for (const [name, table] of config.mounts) {
    const misplaced = PROCESS_KEYS.find((key) => table.values.has(key));
    if (misplaced !== undefined) {
      throw new UsageError(
        `${table.describe(misplaced)}: with --all one daemon serves every mount, so set ${misplaced} in [defaults]`,
      );
    }
    const options = mountOptionsFrom(resolveSettings(MOUNT_SETTINGS, layersFor(request, table)));
    const mountpoint = resolve(options.mountpoint);
    const other = byMountpoint.get(mountpoint);
    if (other !== undefined) throw new UsageError(`mounts ${other} and ${name} both use the mountpoint ${mountpoint}`);
    byMountpoint.set(mountpoint, name);
    mounts.push({ name, options });
  }
  const process = processOptionsFrom(resolveSettings(MOUNT_SETTINGS, layersFor(request, undefined)));
  return { mounts, process };
}

function noSuchMount(name: string, request: MountRequest, mountpointGiven: boolean): string {
  const { config } = request;
  if (!config) return `no mount named "${name}" because no config file was found`;
  const names = [...config.mounts.keys()];
  const known = names.length > 0 ? `; its mounts: ${names.join(', ')}` : '';
  const asPath = mountpointGiven ? '' : ` (to mount on a directory of that name, write ./${name})`;
  return `no mount named "${name}" in ${config.path}${known}${asPath}`;
}

/** Splits the positionals into a config mount name and a mountpoint. */
function nameAndMountpoint(request: MountRequest): { name?: string; mountpoint?: string } {
  const [first, second, ...rest] = request.positionals;
  if (rest.length > 0) throw new UsageError('mount takes a mount name and a mountpoint at most');
  const known = first !== undefined && request.config?.mounts.has(first) === true;
  // With named mounts to choose from, a bare word is taken for a name: a typo must not mount at ./prd.
  const isPath = first === undefined || first.includes('/') || first === '.' || first === '..';
  const looksLikeName = !isPath && (request.config?.mounts.size ?? 0) > 0;
  if (!known && (second !== undefined || looksLikeName))
    throw new UsageError(noSuchMount(first ?? '', request, second !== undefined));
  if (known) return { name: first, ...(second !== undefined && { mountpoint: second }) };
  return first === undefined ? {} : { mountpoint: first };
}

export function planMounts(request: MountRequest): MountPlan {
  if (request.all) return planAll(request);
  const { name, mountpoint } = nameAndMountpoint(request);
  let flags = request.flags;
  if (mountpoint !== undefined) {
    if (flags.values.has('mountpoint'))
      throw new UsageError('give the mountpoint once: as the argument or --mountpoint');
    const values = new Map<string, RawValue>([...flags.values, ['mountpoint', mountpoint]]);
    flags = layerOf(values, (key) => (key === 'mountpoint' ? 'the mountpoint argument' : request.flags.describe(key)));
  }
  const table = name === undefined ? undefined : request.config?.mounts.get(name);
  const resolved = resolveSettings(MOUNT_SETTINGS, layersFor({ ...request, flags }, table));
  const options = mountOptionsFrom(resolved);
  return { mounts: [{ name: name ?? resolve(options.mountpoint), options }], process: processOptionsFrom(resolved) };
}

/**
 * The settings of `fetch` and `doctor`, strongest first: flags, the environment, a mount table of the
 * config file when one is named, its [defaults], built-in defaults.
 */
export function resolveCommandSettings(
  settings: readonly SettingSpec[],
  flags: Layer,
  env: Layer,
  config: ConfigFile | undefined,
  table?: Layer,
): Resolved {
  return resolveSettings(settings, [flags, env, ...(table ? [table] : []), ...(config ? [config.defaults] : [])]);
}
