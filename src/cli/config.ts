// Where settings come from, and which one wins: flags > environment > the named mount's table in
// the config file > its [defaults] table > built-in defaults. Each source is a layer that knows how
// to name itself, so an error can say where a bad value was written.
import { defaultOf, envName, type RawValue, type SettingSpec } from './settings.js';
import { UsageError } from '../model/usage-error.js';

/** Values for some settings from one source. */
export interface Layer {
  values: ReadonlyMap<string, RawValue>;
  /** Where a key's value was written, e.g. `--cache-size` or `BQLOGFS_CACHE_SIZE`. */
  describe(key: string): string;
}

export interface ResolvedValue {
  value: RawValue;
  source: string;
}

/** The winning value of every setting that has one, with where it came from. */
export type Resolved = ReadonlyMap<string, ResolvedValue>;

export interface ConfigFile {
  path: string;
  defaults: Layer;
  mounts: ReadonlyMap<string, Layer>;
}

const TRUE_WORDS = new Set(['1', 'true', 'yes', 'on']);
const FALSE_WORDS = new Set(['0', 'false', 'no', 'off', '']);

export function layerOf(values: Map<string, RawValue>, describe: (key: string) => string): Layer {
  return { values, describe };
}

/** `BQLOGFS_<OPTION>` variables for the given settings; an empty variable counts as unset. */
export function environmentLayer(specs: readonly SettingSpec[], env: NodeJS.ProcessEnv): Layer {
  const values = new Map<string, RawValue>();
  for (const spec of specs) {
    const text = env[envName(spec.key)];
    if (text === undefined || text === '') continue;
    if (spec.argument !== undefined) {
      values.set(spec.key, text);
      continue;
    }
    const word = text.trim().toLowerCase();
    if (!TRUE_WORDS.has(word) && !FALSE_WORDS.has(word)) {
      throw new UsageError(`${envName(spec.key)}: "${text}" is not on or off (use true or false)`);
    }
    values.set(spec.key, TRUE_WORDS.has(word));
  }
  return layerOf(values, envName);
}

/** For each setting, the value of the first layer that has one, else its built-in default. */
export function resolveSettings(specs: readonly SettingSpec[], layers: readonly Layer[]): Resolved {
  const resolved = new Map<string, ResolvedValue>();
  for (const spec of specs) {
    const layer = layers.find((candidate) => candidate.values.has(spec.key));
    const value = layer?.values.get(spec.key);
    if (layer && value !== undefined) {
      resolved.set(spec.key, { value, source: layer.describe(spec.key) });
      continue;
    }
    const builtIn = defaultOf(spec);
    if (builtIn !== undefined) resolved.set(spec.key, { value: builtIn, source: `the default of ${spec.key}` });
  }
  return resolved;
}
