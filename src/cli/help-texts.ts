// The help and version texts of the command line, rendered by `npm run build` from the real program
// into dist/cli/help/<command>.json. bin/bqlogfs.cjs prints them for exactly the argument lists below
// without loading the command line, so `bqlogfs --help` costs little more than starting Node.js.
// Commander wraps help to the terminal's width, so each text is kept with the widths it is printed
// at; the texts of one command share most lines, so a file holds each line once.
import { buildProgram, runCommandLine } from './program.js';

/** What the command line prints for one argument list at one help width. */
interface Printed {
  code: number;
  stdout: string;
}

/** One text for a range of widths: `[from, to]`, `to` null for every wider terminal. */
export interface WidthRange extends Printed {
  from: number;
  to: number | null;
}

/** Keyed by the argument list as JSON (`["mount","--help"]`). */
export type HelpTexts = Record<string, WidthRange[]>;

/**
 * One file of dist/cli/help/: `printed` maps an argument list (as JSON) to its entry in `texts`
 * (`help mount` prints what `mount --help` does), a list of `[from, to, exit code, indexes into
 * lines]`, `to` null for every wider terminal.
 */
export interface HelpFile {
  lines: string[];
  texts: [number, number | null, number, number[]][][];
  printed: Record<string, number>;
}

const NARROWEST = 0;
/** Widths are rendered one by one up to here; the last text must hold for any wider terminal. */
const WIDEST = 400;
const UNBOUNDED = 100_000;

class Exited extends Error {
  constructor(readonly code: number) {
    super(`exit ${code}`);
  }
}

/** The argument lists that only ask for help or the version, for the commands of `version`'s program. */
export function helpArgumentLists(version: string): string[][] {
  const commands = buildProgram(version).commands.map((command) => command.name());
  return [
    [],
    ['--help'],
    ['-h'],
    ['help'],
    ['--version'],
    ['-V'],
    ...commands.flatMap((name) => [
      [name, '--help'],
      [name, '-h'],
      ['help', name],
    ]),
  ];
}

/**
 * What the full command line prints for `argv` at a help width (a terminal's columns, 80 for no
 * terminal), as a function of that width. Commander restores a program's state before each parse.
 */
export function commandLinePrinting(version: string, argv: string[]): (width: number) => Promise<Printed> {
  const program = buildProgram(version, (code) => {
    throw new Exited(code);
  });
  let stdout = '';
  let stderr = '';
  let helpWidth = 80;
  for (const command of [program, ...program.commands]) {
    command.configureOutput({
      writeOut: (text) => (stdout += text),
      writeErr: (text) => (stderr += text),
      getOutHelpWidth: () => helpWidth,
      getErrHelpWidth: () => helpWidth,
    });
  }
  return async (width) => {
    [stdout, stderr, helpWidth] = ['', '', width];
    let code = 0;
    try {
      await runCommandLine(program, argv);
    } catch (error) {
      if (!(error instanceof Exited)) throw error;
      code = error.code;
    }
    if (stderr !== '') throw new Error(`bqlogfs ${argv.join(' ')} wrote to stderr: ${stderr}`);
    return { code, stdout };
  };
}

/** Every help and version text, with the widths it is printed at. */
export async function renderHelpTexts(version: string): Promise<HelpTexts> {
  const texts: HelpTexts = {};
  for (const argv of helpArgumentLists(version)) {
    const printedAt = commandLinePrinting(version, argv);
    const ranges: WidthRange[] = [];
    for (let width = NARROWEST; width <= WIDEST; width++) {
      const printed = await printedAt(width);
      const last = ranges.at(-1);
      if (last?.stdout === printed.stdout && last.code === printed.code) last.to = width;
      else ranges.push({ from: width, to: width, ...printed });
    }
    const widest = ranges.at(-1);
    const unbounded = await printedAt(UNBOUNDED);
    if (widest?.stdout !== unbounded.stdout || widest.code !== unbounded.code) {
      throw new Error(`bqlogfs ${argv.join(' ')}: the help still changes beyond ${WIDEST} columns`);
    }
    widest.to = null;
    texts[JSON.stringify(argv)] = ranges;
  }
  return texts;
}

/**
 * The file an argument list's texts are in: `bqlogfs` for the program's own (no argument or one),
 * else the command's name (`mount --help`, `help mount`). bin/bqlogfs.cjs picks the file the same way.
 */
export function helpFileName(argv: string[]): string {
  if (argv.length < 2) return 'bqlogfs';
  return (argv[0] === 'help' ? argv[1] : argv[0]) ?? 'bqlogfs';
}

/** The texts as the files of dist/cli/help/, by name. */
export function helpFiles(texts: HelpTexts): Map<string, HelpFile> {
  type Building = HelpFile & { lineIndex: Map<string, number>; textIndex: Map<string, number> };
  const files = new Map<string, Building>();
  for (const [key, ranges] of Object.entries(texts)) {
    const name = helpFileName(JSON.parse(key) as string[]);
    const empty: Building = { lines: [], texts: [], printed: {}, lineIndex: new Map(), textIndex: new Map() };
    const file = files.get(name) ?? empty;
    files.set(name, file);
    const text = ranges.map(({ from, to, code, stdout }): [number, number | null, number, number[]] => {
      const indexes = stdout.split('\n').map((line) => {
        const known = file.lineIndex.get(line);
        if (known !== undefined) return known;
        file.lineIndex.set(line, file.lines.push(line) - 1);
        return file.lines.length - 1;
      });
      return [from, to, code, indexes];
    });
    const same = file.textIndex.get(JSON.stringify(text));
    const index = same ?? file.texts.push(text) - 1;
    file.textIndex.set(JSON.stringify(text), index);
    file.printed[key] = index;
  }
  return new Map([...files].map(([name, { lines, texts, printed }]) => [name, { lines, texts, printed }]));
}
