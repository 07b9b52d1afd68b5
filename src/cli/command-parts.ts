// Pieces several commands share: the config file option, and the window and pod filters of
// `fetch` and `grep`, with their help.
import { Option, type Command } from 'commander';
import { flagLayer } from './cli-options.js';
import { environmentLayer, type ConfigFile, type Resolved } from './config.js';
import { FETCH_SETTINGS } from './fetch-settings.js';
import { MOUNT_SETTINGS } from './settings.js';

export const WINDOW_HELP = `Window (default: the last hour up to now, i.e. the previous hour and the current one):
  --since DURATION        the last DURATION up to now, e.g. 2h, 90m, 3d
  --day D [--hours N]     N hours (default 1) up to the current clock time of --tz on day D
                          (1-31) of this month, or of the previous month when day D is still to come
  --from T --to T         [T, T): RFC 3339 (2026-11-25T10:30:00Z, 2026-11-25T16:00:00+05:30), or
                          a local time of --tz without an offset (2026-11-25T10:30, 2026-11-25T10)
`;

export const configOption = () =>
  new Option(
    '--config <file>',
    'config file (default: $BQLOGFS_CONFIG, else ~/.config/bqlogfs/config.toml if it exists)',
  );

export async function loadConfig(explicit: string | undefined): Promise<ConfigFile | undefined> {
  const { loadConfigFile } = await import('./config-file.js');
  return loadConfigFile(explicit, process.env, MOUNT_SETTINGS);
}

/** --namespace, --pod and the window options. */
export function addWindowOptions(command: Command): Command {
  return command
    .option('--namespace <ns>', 'only this namespace')
    .option('--pod <regex>', 'only pods whose name matches (JavaScript regex, unanchored)')
    .option('-l, --selector <selector>', "only pods whose labels match (kubectl's label selector syntax)")
    .option('--since <duration>', 'window: the last DURATION up to now')
    .option('--day <d>', 'window: day D of this month (or the previous one)')
    .option('--hours <n>', 'window: N hours up to the current clock time on --day (default: 1)')
    .option('--from <time>', 'window start, inclusive')
    .option('--to <time>', 'window end, exclusive');
}

/** The settings of `fetch` (and `grep`): flags, then the environment, then the config file's [defaults]. */
export async function resolveFetchSettings(command: Command): Promise<Resolved> {
  const { resolveCommandSettings } = await import('./mount-config.js');
  const config = await loadConfig(command.opts<{ config?: string }>().config);
  const env = environmentLayer(FETCH_SETTINGS, process.env);
  return resolveCommandSettings(FETCH_SETTINGS, flagLayer(command, FETCH_SETTINGS), env, config);
}
