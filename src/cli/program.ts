// The command tree of bqlogfs: every command, its options and help texts. Only what every command
// needs is imported here; each command loads its own modules when it runs, so `--help` starts fast
// and a mount never loads DuckDB, which only the local server and the demo use.
import { Command, CommanderError } from 'commander';
import { addSettingOptions, flagLayer } from './cli-options.js';
import { addWindowOptions, configOption, loadConfig, resolveFetchSettings, WINDOW_HELP } from './command-parts.js';
import { environmentLayer } from './config.js';
import { addGrepCommand } from './grep-command-line.js';
import { FETCH_SETTINGS, type FetchArgs } from './fetch-settings.js';
import { API_ENDPOINT, AUTH, CLUSTER, DATASET, MOUNT_SETTINGS, PROJECT, SCHEMA, STORE_SETTINGS } from './settings.js';
import { READ_API, READ_API_ENDPOINT } from './read-settings.js';
import { UsageError } from '../model/usage-error.js';

/**
 * Help is wrapped at this width on every terminal, as git's and kubectl's is, so that the texts the
 * build renders for bin/bqlogfs.cjs are the ones the command line prints, whatever the terminal.
 */
export const HELP_WIDTH = 80;

const SOURCES_HELP = `
Settings come from, strongest first: flags > environment (BQLOGFS_<OPTION>, e.g. BQLOGFS_CACHE_SIZE
for --cache-size, BQLOGFS_TIMESTAMPS=true) > the named mount's [mounts.<name>] table in the config
file > its [defaults] table > built-in defaults. The config file is --config FILE, else
$BQLOGFS_CONFIG, else $XDG_CONFIG_HOME/bqlogfs/config.toml (~/.config/bqlogfs/config.toml) if it
exists. Its keys are the option names without dashes in front, e.g. cache-size = "10G".

Sizes: 10G, 10GiB and 10Gi are 10 × 2^30 bytes (K, M, G, T count in 1024s, as du and df do); 10GB
is 10 × 10^9 (KB, MB, GB, TB count in 1000s); a bare number is bytes. Durations: 500ms, 90s, 15m,
1h30m, 7d, 1w (units largest first, each at most once; decimals such as 1.5h are allowed).`;

const MOUNT_HELP = `
Forms:
  bqlogfs mount <mountpoint> --project P --dataset D [options]
  bqlogfs mount [--config FILE] <name> [mountpoint]    the [mounts.<name>] table of the config file
  bqlogfs mount [--config FILE] --all                  every mount of the config file, one daemon

The daemon runs in the foreground, logs JSON lines on stderr (readable lines on a terminal),
tells systemd when the mounts are up (Type=notify), and unmounts on SIGINT/SIGTERM. A mountpoint
left stale by a crash ("Transport endpoint is not connected") is recovered by the next mount.
${SOURCES_HELP}`;

const FETCH_HELP = `
One file per pod that has <container> with entries in the window, no FUSE needed:
<out>/<namespace>_<pod>_<container>.log, the pod's hour files for every hour the window touches,
in time order: byte for byte what a mount with the same --tz, --timestamps and --format shows.
Hours are local hours of --tz (default UTC); a window is widened to whole local hours.

${WINDOW_HELP}
Files appear whole or not at all (temporary name, fsync, rename). On a terminal a progress bar
shows on stderr; otherwise one line per file written. The options from --project on also come
from the environment (BQLOGFS_<OPTION>) and the config file's [defaults], flags first, and mean
what they mean for mount, with the same defaults.`;

/** Commander's own messages start lower-case after "error: "; they read as the others do. */
function commanderMessage(text: string): string {
  const message = text.replace(/^error: /, '');
  return `bqlogfs: ${message.charAt(0).toUpperCase()}${message.slice(1)}`;
}

/** The local server and the demo need DuckDB, an optional dependency a mount-only install may lack. */
async function withDuckDB<T>(load: () => Promise<T>): Promise<T> {
  try {
    return await load();
  } catch (error) {
    if (
      /@duckdb\/node-api/.test((error as Error).message) &&
      (error as NodeJS.ErrnoException).code === 'ERR_MODULE_NOT_FOUND'
    ) {
      throw new Error('the local BigQuery server and the demo need @duckdb/node-api: npm install @duckdb/node-api', {
        cause: error,
      });
    }
    throw error;
  }
}

/**
 * The program of bqlogfs `version`. Commander's exits (after --help, --version or a usage error)
 * go to `exit`: 0 stays 0, any other code becomes 2.
 */
export function buildProgram(version: string, exit: (code: number) => never = process.exit): Command {
  const program = new Command('bqlogfs')
    .description('GKE container logs exported to BigQuery, mounted as plain hour files')
    .version(version, '-V, --version', 'print the version')
    .configureOutput({ outputError: (text, write) => write(commanderMessage(text)) })
    .configureHelp({ helpWidth: HELP_WIDTH })
    .showHelpAfterError('(add --help for usage)')
    .exitOverride((error: CommanderError) => exit(error.exitCode === 0 ? 0 : 2));

  const mount = program
    .command('mount')
    .summary('mount the logs of one dataset, of a named config mount, or of all config mounts')
    .usage('[options] [name|mountpoint] [mountpoint]')
    .argument('[name|mountpoint]', 'a [mounts.<name>] table of the config file, else the mountpoint')
    .argument('[mountpoint]', "after a name: overrides the table's mountpoint")
    .addOption(configOption())
    .option('--all', 'mount every [mounts.<name>] table of the config file in this one daemon')
    .addHelpText('after', MOUNT_HELP);
  addSettingOptions(mount, MOUNT_SETTINGS).action(async (...args: unknown[]) => {
    const command = args[args.length - 1] as Command;
    const { planMounts } = await import('./mount-config.js');
    const { runMounts } = await import('../daemon/run-mounts.js');
    const options = command.opts<{ config?: string; all?: boolean }>();
    const plan = planMounts({
      positionals: command.args,
      all: options.all === true,
      flags: flagLayer(command, MOUNT_SETTINGS),
      env: environmentLayer(MOUNT_SETTINGS, process.env),
      config: await loadConfig(options.config),
    });
    await runMounts(plan);
  });

  const fetch = program
    .command('fetch')
    .summary('write the hour files of every pod of one container over a window to plain files')
    .usage('<container> [options] [window]')
    .argument('[container]')
    .allowExcessArguments();
  addWindowOptions(fetch)
    .option('--out <dir>', 'output directory; files of the same name are replaced (default: ".")')
    .addOption(configOption())
    .addHelpText('after', FETCH_HELP);
  addSettingOptions(fetch, FETCH_SETTINGS).action(async (...args: unknown[]) => {
    const command = args[args.length - 1] as Command;
    const { fetchOptionsFrom } = await import('./fetch-args.js');
    const { runFetch } = await import('../fetch/fetch-command.js');
    const { createLogger } = await import('../model/logger.js');
    const resolved = await resolveFetchSettings(command);
    await runFetch(fetchOptionsFrom(command.args, command.opts<FetchArgs>(), resolved), createLogger('warn'));
  });

  addGrepCommand(program);

  const doctor = program
    .command('doctor')
    .summary('check FUSE, credentials, the dataset, and estimate what reading costs')
    .usage('[options] [name]')
    .argument('[name]', 'a [mounts.<name>] table of the config file to check')
    .addOption(configOption())
    .addHelpText(
      'after',
      '\nOne line per check: ok, warn, FAIL (with its fix) or skip. Exit code 1 when a check failed.\n' +
        'Cost estimates come from dry runs, which bill nothing.',
    );
  addSettingOptions(doctor, [
    PROJECT,
    DATASET,
    API_ENDPOINT,
    AUTH,
    READ_API,
    READ_API_ENDPOINT,
    SCHEMA,
    CLUSTER,
  ]).action(async (...args: unknown[]) => {
    const command = args[args.length - 1] as Command;
    const { resolveCommandSettings, storeOptionsFrom } = await import('./mount-config.js');
    const { runDoctor } = await import('../doctor/doctor.js');
    const options = command.opts<{ config?: string }>();
    const config = await loadConfig(options.config);
    const [name] = command.args;
    const table = name === undefined ? undefined : config?.mounts.get(name);
    if (name !== undefined && table === undefined) throw new UsageError(`no mount named "${name}" in the config file`);
    const env = environmentLayer(STORE_SETTINGS, process.env);
    const resolved = resolveCommandSettings(STORE_SETTINGS, flagLayer(command, STORE_SETTINGS), env, config, table);
    const given = ['project', 'dataset'].filter((key) => resolved.has(key));
    if (given.length === 1) throw new UsageError('doctor needs both --project and --dataset, or neither');
    const target = given.length === 2 ? storeOptionsFrom(resolved) : undefined;
    const code = await runDoctor(target, (line) => process.stdout.write(`${line}\n`));
    // Whatever the credential probes left open must not keep doctor running.
    process.exit(code);
  });

  program
    .command('emulator')
    .summary('a local BigQuery-compatible server on DuckDB, for tests and demos')
    .option('--port <port>', 'port to listen on', '9050')
    .option('--db <file>', 'DuckDB file (default: in memory)')
    .option('--load <file...>', 'load log entries from JSON-lines files, in the shape a sink writes them')
    .option('--demo [hours]', "load the demo's synthetic cluster, which keeps logging: hours of history (default 24)")
    .option('--project <id>', 'project of the loaded dataset', 'demo-project')
    .option('--dataset <id>', 'dataset the entries are loaded into', 'gke_logs')
    .action(
      async (options: {
        port: string;
        db?: string;
        load?: string[];
        demo?: boolean | string;
        project: string;
        dataset: string;
      }) => {
        const demoHours = options.demo === undefined ? undefined : options.demo === true ? 24 : Number(options.demo);
        if (demoHours !== undefined && !(demoHours > 0))
          throw new UsageError('--demo takes a number of hours, such as 24');
        const { startEmulator } = await withDuckDB(() => import('../emulator/server.js'));
        const { loadStandalone } = await import('../demo/standalone.js');
        const { createLogger } = await import('../model/logger.js');
        const { onStopSignal } = await import('../model/stop-signals.js');
        const log = createLogger('info');
        const emulator = await startEmulator({
          port: Number(options.port),
          logger: log,
          ...(options.db !== undefined && { dbPath: options.db }),
        });
        const data = { projectId: options.project, datasetId: options.dataset, files: options.load ?? [] };
        const live =
          data.files.length > 0 || demoHours !== undefined
            ? await loadStandalone(emulator.url, { ...data, ...(demoHours !== undefined && { demoHours }) }, log).catch(
                async (error: unknown) => {
                  await emulator.close();
                  throw new UsageError((error as Error).message);
                },
              )
            : undefined;
        log.info({ url: emulator.url, storageAddress: emulator.storageAddress }, 'local BigQuery server listening');
        onStopSignal(
          () =>
            void (async () => {
              await live?.stop();
              await emulator.close();
              process.exit(0);
            })(),
        );
      },
    );

  program
    .command('demo')
    .summary('local server + synthetic GKE logs + mount, no cloud account needed')
    .option('--mountpoint <dir>', 'where to mount', 'mount')
    .action(async (options: { mountpoint: string }) => {
      const { runDemo } = await withDuckDB(() => import('../demo/demo.js'));
      await runDemo(options.mountpoint);
    });

  program
    .command('unmount')
    .summary('unmount, also when the daemon is gone')
    .argument('<mountpoint>')
    .action(async (mountpoint: string) => {
      const { unmountPath } = await import('../daemon/mountpoint.js');
      await unmountPath(mountpoint);
    });

  return program;
}

/** Runs the command line `argv` (the arguments after `bqlogfs`); no arguments print the help. */
export async function runCommandLine(program: Command, argv: string[]): Promise<void> {
  if (argv.length === 0) {
    program.outputHelp();
    return;
  }
  await program.parseAsync(argv, { from: 'user' });
}
