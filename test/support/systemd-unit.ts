// Reads a systemd unit file as systemd does, as far as the tests of contrib/ need: sections of
// `Key=value` lines (a key may repeat), the specifier %i, and command lines split into words with
// ${VAR} (one word) and $VAR (split at whitespace) taken from an environment.

export type Unit = Map<string, Map<string, string[]>>;

export function parseUnit(text: string): Unit {
  const unit: Unit = new Map();
  let section: Map<string, string[]> | undefined;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const header = /^\[(.+)\]$/.exec(line);
    if (header) {
      section = new Map();
      unit.set(header[1] ?? '', section);
      continue;
    }
    const equals = line.indexOf('=');
    if (section === undefined || equals < 0) throw new Error(`not a unit file line: ${line}`);
    const key = line.slice(0, equals).trim();
    section.set(key, [...(section.get(key) ?? []), line.slice(equals + 1).trim()]);
  }
  return unit;
}

/** Every value of `key` in `section`, in order. */
export function values(unit: Unit, section: string, key: string): string[] {
  return unit.get(section)?.get(key) ?? [];
}

/** `KEY=VALUE` lines of an environment file, comments and blank lines skipped. */
export function parseEnvironmentFile(text: string): Record<string, string> {
  const environment: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const match = /^\s*([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line);
    if (match) environment[match[1] ?? ''] = (match[2] ?? '').trim();
  }
  return environment;
}

export interface Command {
  /** `-`: a failure is ignored; `+`: runs with full privileges. */
  prefixes: string;
  argv: string[];
}

/** A command line of Exec*=, with %i and the environment's variables expanded. */
export function expandCommand(line: string, instance: string, environment: Record<string, string>): Command {
  const prefixes = /^[-+@:!]*/.exec(line)?.[0] ?? '';
  const argv: string[] = [];
  const pattern = /'([^']*)'|"([^"]*)"|(\S+)/g;
  for (const match of line.slice(prefixes.length).replaceAll('%i', instance).matchAll(pattern)) {
    const [, single, double, bare] = match;
    if (single !== undefined || double !== undefined) {
      argv.push(single ?? double ?? '');
    } else if (bare !== undefined && /^\$[A-Za-z_][A-Za-z0-9_]*$/.test(bare)) {
      argv.push(...(environment[bare.slice(1)] ?? '').split(/\s+/).filter((word) => word !== ''));
    } else if (bare !== undefined) {
      argv.push(bare.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (_, name: string) => environment[name] ?? ''));
    }
  }
  return { prefixes, argv };
}
