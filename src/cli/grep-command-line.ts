// `bqlogfs grep` on the command line: its options and help. Its settings are fetch's.
import type { Command } from 'commander';
import { addSettingOptions } from './cli-options.js';
import { addWindowOptions, configOption, resolveFetchSettings, WINDOW_HELP } from './command-parts.js';
import { FETCH_SETTINGS } from './fetch-settings.js';
import type { GrepArgs } from './grep-args.js';

const DEFAULT_CONFIRM_ABOVE = '100GB';

const GREP_HELP = `
Searches every container's entries of the window in BigQuery, with one query that bills the
window's partitions of the entry columns once (as one sweep per day would) and downloads only the
entries that match. Prints each matching line as grep prints matches across files:
<namespace>/<pod>/<container>:<line>, in time order: the lines grep prints over the text hour files
of the window (a mount's or fetch's, without --timestamps), an entry of several lines matching line
by line. --format json prints one JSON object per matching line instead (its container, the line
and the full entry); --count the number of matching lines per container with entries in the window,
0 for one without a match, as grep -c prints per file (the same query and bill); --out DIR writes
the matching lines one file per pod, as fetch names and writes them (with --timestamps and
--format as fetch's). Exit status: 0 when a line matched, 1 when none did, 2 for a usage error.

Patterns (always sent as a query parameter):
  (default)               a basic regular expression, as grep's: \\( \\) \\{ \\} \\| \\+ \\? are operators,
                          ( ) { } | + ? literal; run as RE2 after translation
  -E                      an extended regular expression in RE2 syntax (BigQuery's REGEXP_CONTAINS),
                          not POSIX: no back-references or lookaround, [[:alpha:]] and the other
                          POSIX classes, \\w, \\d and \\s are ASCII only, and the leftmost-first match
                          rule does not change which lines match
  -F                      a fixed string, matched as a substring (exact, not BigQuery's token search)
  -i                      case-insensitive (Unicode simple case folding)
JSON payloads are matched on their line: compact JSON without null fields, as the hour files hold
them. The filter in BigQuery sees the JSON text BigQuery writes, rewritten to that form for null
fields and whole numbers; a line whose JSON BigQuery escapes differently (e.g. other escapes of
control characters) may be missed; every line printed matches.

Before it runs, a dry run estimates what the query bills. Above --confirm-above it asks on a
terminal, and fails elsewhere with the estimate and the flag to pass.

${WINDOW_HELP}
--workload W selects pods whose top-level controller (Deployment, StatefulSet, DaemonSet, Job or
CronJob) is W; -l takes a kubectl label selector (app=api,tier!=db,env in (a,b),env notin (c),app,!app)
over the pods' labels as the sink stores them (labels.k8s_pod_<key>); a label no entry of the
dataset has is a label no pod has.`;

export function addGrepCommand(program: Command): void {
  const grep = program
    .command('grep')
    .summary('search a window of logs inside BigQuery: one query, only the matches downloaded')
    .usage('PATTERN [options] [window]')
    .argument('[pattern]')
    .allowExcessArguments()
    .option('-E, --extended-regexp', 'PATTERN is an extended regular expression (RE2)')
    .option('-F, --fixed-strings', 'PATTERN is a fixed string')
    .option('-i, --ignore-case', 'ignore case')
    .option('-c, --count', 'print the number of matching lines per container instead (0 without a match)')
    .option('--container <name>', 'only containers of this name')
    .option('--workload <name>', 'only pods of this workload (its top-level controller)');
  addWindowOptions(grep)
    .option('--out <dir>', 'write the matching lines one file per pod, as fetch names and writes them')
    .option('--confirm-above <size>', 'ask (or fail) before a search estimated to bill more', DEFAULT_CONFIRM_ABOVE)
    .addOption(configOption())
    .addHelpText('after', GREP_HELP);
  addSettingOptions(grep, FETCH_SETTINGS).action(async (...args: unknown[]) => {
    const command = args[args.length - 1] as Command;
    const { grepOptionsFrom } = await import('./grep-args.js');
    const { runGrep } = await import('../fetch/grep-command.js');
    const { createLogger } = await import('../model/logger.js');
    const resolved = await resolveFetchSettings(command);
    const options = grepOptionsFrom(command.args, command.opts<GrepArgs>(), resolved);
    const lines = await runGrep(options, createLogger('warn'));
    process.exitCode = lines > 0 ? 0 : 1;
  });
}
