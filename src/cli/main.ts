// The command line: `bqlogfs mount | fetch | grep | doctor | emulator | demo | unmount`, whose
// commands are in program.ts.
import { buildProgram, runCommandLine } from './program.js';
import { UsageError } from '../model/usage-error.js';
import { packageVersion } from '../model/package-version.js';

// Node's own report of an uncaught error prints the whole error object, and an HTTP client's errors
// carry request headers (an access token) and token-exchange bodies.
function exitOnUncaught(error: unknown): void {
  process.stderr.write(`bqlogfs: unexpected error: ${(error as Error)?.message ?? String(error)}\n`);
  process.exit(1);
}
process.on('uncaughtException', exitOnUncaught);
process.on('unhandledRejection', exitOnUncaught);

// google-auth-library warns when no metadata server answers, on every machine outside Google Cloud;
// a missing credential is reported as one sentence with its fix instead (see requireCredentials).
const emitWarning = process.emitWarning.bind(process) as (...args: unknown[]) => void;
process.emitWarning = ((warning: string | Error, ...rest: unknown[]) => {
  const type = typeof rest[0] === 'string' ? rest[0] : (rest[0] as { type?: string } | undefined)?.type;
  if (type === 'MetadataLookupWarning') return;
  emitWarning(warning, ...rest);
}) as typeof process.emitWarning;

async function main(argv: string[]): Promise<void> {
  await runCommandLine(buildProgram(await packageVersion()), argv);
}

main(process.argv.slice(2)).catch((error: unknown) => {
  process.stderr.write(`bqlogfs: ${(error as Error).message ?? String(error)}\n`);
  process.exit(error instanceof UsageError ? 2 : 1);
});
