import { runShell } from './helper-process.js';

export interface ShellResult {
  stdout: string;
  stderr: string;
  code: number;
}

/** Runs a bash command line without blocking the event loop (the mount may be served by this process). */
export async function sh(command: string, cwd?: string): Promise<ShellResult> {
  const { stdout, stderr, code } = await runShell(command, cwd);
  return { stdout: stdout.toString('utf8'), stderr: stderr.toString('utf8'), code };
}

export async function shOk(command: string, cwd?: string): Promise<string> {
  const result = await sh(command, cwd);
  if (result.code !== 0) throw new Error(`"${command}" exited ${result.code}: ${result.stderr}`);
  return result.stdout;
}
