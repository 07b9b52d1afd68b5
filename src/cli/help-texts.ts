// The help and version texts of the command line, rendered by `npm run build` from the real program
// into dist/cli/help.json. bin/bqlogfs.cjs prints them for exactly the argument lists below without
// loading the command line, so `bqlogfs --help` costs little more than starting Node.js. The program
// wraps help at a fixed width (HELP_WIDTH in program.ts), so one text serves every terminal.
import { buildProgram, runCommandLine } from './program.js';

/** What the command line prints for one argument list: its exit code and standard output. */
export type Printed = [code: number, stdout: string];

/** The contents of dist/cli/help.json, keyed by the argument list as JSON (`["mount","--help"]`). */
export type HelpTexts = Record<string, Printed>;

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

/** What the full command line prints for `argv`; help or version output only, never an error. */
export async function commandLinePrinting(version: string, argv: string[]): Promise<Printed> {
  const program = buildProgram(version, (code) => {
    throw new Exited(code);
  });
  let stdout = '';
  let stderr = '';
  for (const command of [program, ...program.commands]) {
    command.configureOutput({ writeOut: (text) => (stdout += text), writeErr: (text) => (stderr += text) });
  }
  let code = 0;
  try {
    await runCommandLine(program, argv);
  } catch (error) {
    if (!(error instanceof Exited)) throw error;
    code = error.code;
  }
  if (stderr !== '') throw new Error(`bqlogfs ${argv.join(' ')} wrote to stderr: ${stderr}`);
  return [code, stdout];
}

/** Every help and version text. */
export async function renderHelpTexts(version: string): Promise<HelpTexts> {
  const texts: HelpTexts = {};
  for (const argv of helpArgumentLists(version)) texts[JSON.stringify(argv)] = await commandLinePrinting(version, argv);
  return texts;
}
