// Settings as commander options, and back: the flags a user gave, as the strongest layer.
import { Option, type Command } from 'commander';
import { layerOf, type Layer } from './config.js';
import { helpDefault, type RawValue, type SettingSpec } from './settings.js';

/** commander's attribute name of a flag: `cache-size` → `cacheSize`. */
function attributeOf(key: string): string {
  return key.replace(/-([a-z])/g, (_match, letter: string) => letter.toUpperCase());
}

/**
 * Adds one option per setting. No commander defaults: a value is present only when given on the
 * command line, so the environment and the config file can fill in the rest.
 */
export function addSettingOptions(command: Command, specs: readonly SettingSpec[]): Command {
  for (const spec of specs) {
    const flags = spec.argument === undefined ? `--${spec.key}` : `--${spec.key} ${spec.argument}`;
    command.addOption(new Option(flags, `${spec.description} ${helpDefault(spec)}`));
    if (spec.argument === undefined) command.addOption(new Option(`--no-${spec.key}`).hideHelp());
  }
  return command;
}

export function flagLayer(command: Command, specs: readonly SettingSpec[]): Layer {
  const given = command.opts<Record<string, RawValue | undefined>>();
  const values = new Map<string, RawValue>();
  for (const spec of specs) {
    const value = given[attributeOf(spec.key)];
    if (value !== undefined) values.set(spec.key, value);
  }
  return layerOf(values, (key) => `--${key}`);
}
