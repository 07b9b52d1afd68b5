// `bqlogfs grep`'s arguments checked into GrepOptions: the pattern and how to read it, which
// containers, and what to print. The window, the pod filter and the settings are fetch's.
import type { GrepOptions } from '../fetch/grep-command.js';
import type { GrepPrint } from '../fetch/grep-output.js';
import { grepPattern, type PatternSyntax } from '../model/grep-pattern.js';
import { isDns1123Label, isDns1123Subdomain } from '../model/log-path.js';
import { UsageError } from '../model/usage-error.js';
import { parseByteSize } from './byte-size.js';
import type { Resolved } from './config.js';
import { windowedReadFrom } from './fetch-args.js';
import type { FetchArgs } from './fetch-settings.js';

export interface GrepArgs extends FetchArgs {
  container?: string;
  workload?: string;
  ignoreCase?: boolean;
  fixedStrings?: boolean;
  extendedRegexp?: boolean;
  count?: boolean;
  confirmAbove: string;
}

function usage(message: string): never {
  throw new UsageError(message);
}

function syntaxOf(args: GrepArgs): PatternSyntax {
  if (args.fixedStrings && args.extendedRegexp) usage('-F and -E exclude each other');
  return args.fixedStrings ? 'fixed' : args.extendedRegexp ? 'extended' : 'basic';
}

function printOf(args: GrepArgs, format: string): GrepPrint {
  if (args.count && args.out !== undefined) usage('--count and --out exclude each other');
  if (args.count) return 'count';
  if (args.out !== undefined) return 'files';
  return format === 'json' ? 'json' : 'lines';
}

export function grepOptionsFrom(positionals: string[], args: GrepArgs, resolved: Resolved): GrepOptions {
  const [pattern] = positionals;
  if (pattern === undefined || positionals.length > 1) usage('grep takes exactly one PATTERN');
  if (args.container !== undefined && !isDns1123Label(args.container)) {
    usage(`invalid container name "${args.container}" (Kubernetes: a DNS-1123 label)`);
  }
  if (args.workload !== undefined && !isDns1123Subdomain(args.workload)) {
    usage(`invalid workload name "${args.workload}" (Kubernetes: a DNS-1123 subdomain)`);
  }
  let confirmAboveBytes: number;
  try {
    confirmAboveBytes = parseByteSize(args.confirmAbove);
  } catch (error) {
    usage(`--confirm-above: ${(error as Error).message}`);
  }
  const read = windowedReadFrom(args, resolved);
  return {
    pattern: grepPattern(pattern, syntaxOf(args), args.ignoreCase === true),
    scope: {
      ...(args.namespace !== undefined && { namespace: args.namespace }),
      ...(args.container !== undefined && { container: args.container }),
      ...(args.workload !== undefined && { workload: args.workload }),
      ...(read.labels !== undefined && { labels: read.labels }),
    },
    ...read,
    print: printOf(args, read.store.format ?? 'text'),
    ...(args.out !== undefined && { outDir: args.out }),
    confirmAboveBytes,
  };
}
