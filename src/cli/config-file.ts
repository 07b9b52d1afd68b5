// The config file: where it is, and its TOML turned into layers, [defaults] and one per
// [mounts.<name>] table. Loaded only by commands that read it, so `--help` does without a TOML parser.
import { readFile, stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { parse } from 'smol-toml';
import { layerOf, type ConfigFile, type Layer } from './config.js';
import type { RawValue, SettingSpec } from './settings.js';
import { UsageError } from '../model/usage-error.js';

export const CONFIG_ENV = 'BQLOGFS_CONFIG';

/** Keys whose relative paths are taken relative to the config file, not to the working directory. */
const PATH_KEYS = new Set(['mountpoint', 'cache-dir']);
export function defaultConfigPath(env: NodeJS.ProcessEnv): string {
  return join(env.XDG_CONFIG_HOME || join(homedir(), '.config'), 'bqlogfs', 'config.toml');
}

/**
 * The config file named by `--config` or BQLOGFS_CONFIG (which must exist), else the default one
 * if it exists, else undefined.
 */
export async function loadConfigFile(
  explicit: string | undefined,
  env: NodeJS.ProcessEnv,
  specs: readonly SettingSpec[],
): Promise<ConfigFile | undefined> {
  const named = explicit ?? (env[CONFIG_ENV] || undefined);
  const path = resolve(named ?? defaultConfigPath(env));
  if (
    named === undefined &&
    !(await stat(path).then(
      (found) => found.isFile(),
      () => false,
    ))
  )
    return undefined;
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new UsageError(`config file ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  return parseConfig(text, path, specs);
}

export function parseConfig(text: string, path: string, specs: readonly SettingSpec[]): ConfigFile {
  let document: Record<string, unknown>;
  try {
    document = parse(text);
  } catch (error) {
    throw new UsageError(`config file ${path}: ${(error as Error).message}`);
  }
  for (const key of Object.keys(document)) {
    if (key !== 'defaults' && key !== 'mounts') {
      throw new UsageError(
        `config file ${path}: unknown key "${key}" (expected [defaults] and [mounts.<name>] tables)`,
      );
    }
  }
  const defaults = tableLayer(document.defaults ?? {}, '[defaults]', path, specs);
  const mounts = new Map<string, Layer>();
  for (const [name, table] of Object.entries(tableOf(document.mounts ?? {}, '[mounts]', path))) {
    mounts.set(name, tableLayer(table, `[mounts.${name}]`, path, specs));
  }
  return { path, defaults, mounts };
}

function tableOf(value: unknown, where: string, path: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value) || value instanceof Date) {
    throw new UsageError(`config file ${path}: ${where} must be a table`);
  }
  return value as Record<string, unknown>;
}

function tableLayer(value: unknown, where: string, path: string, specs: readonly SettingSpec[]): Layer {
  const values = new Map<string, RawValue>();
  for (const [key, raw] of Object.entries(tableOf(value, where, path))) {
    const spec = specs.find((candidate) => candidate.key === key);
    if (!spec) throw new UsageError(`config file ${path}: unknown key "${key}" in ${where}`);
    if (spec.tableKeys && typeof raw === 'object' && raw !== null && !Array.isArray(raw) && !(raw instanceof Date)) {
      values.set(key, settingTable(raw as Record<string, unknown>, spec.tableKeys, `${where} ${key}`, path));
    } else if (spec.argument === undefined) {
      if (typeof raw !== 'boolean') throw new UsageError(`config file ${path}: ${where} ${key} must be true or false`);
      values.set(key, raw);
    } else if (typeof raw === 'string') {
      values.set(key, PATH_KEYS.has(key) ? resolve(dirname(path), raw) : raw);
    } else if (typeof raw === 'number') {
      values.set(key, String(raw));
    } else {
      throw new UsageError(`config file ${path}: ${where} ${key} must be a string or a number`);
    }
  }
  return layerOf(values, (key) => `${key} in ${where} of ${path}`);
}

/** A setting given as a table: only the spec's keys, every value a string. */
function settingTable(
  table: Record<string, unknown>,
  keys: readonly string[],
  where: string,
  path: string,
): Record<string, string> {
  const values: Record<string, string> = {};
  for (const [key, raw] of Object.entries(table)) {
    if (!keys.includes(key)) {
      throw new UsageError(`config file ${path}: unknown key "${key}" in ${where} (known: ${keys.join(', ')})`);
    }
    if (typeof raw !== 'string') throw new UsageError(`config file ${path}: ${where} ${key} must be a string`);
    values[key] = raw;
  }
  return values;
}
