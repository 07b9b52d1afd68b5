import { execFile } from 'node:child_process';

export interface ShellResult {
  stdout: string;
  stderr: string;
  code: number;
}

/** Runs a bash command line without blocking the event loop (the mount may be served by this process). */
export function sh(command: string, cwd?: string): Promise<ShellResult> {
  return new Promise((resolve) => {
    execFile(
      'bash',
      ['-c', command],
      { cwd, maxBuffer: 256 * 1024 * 1024, encoding: 'buffer', env: { ...process.env, LC_ALL: 'C.UTF-8' } },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        resolve({ stdout: stdout.toString('utf8'), stderr: stderr.toString('utf8'), code });
      },
    );
  });
}

export async function shOk(command: string, cwd?: string): Promise<string> {
  const result = await sh(command, cwd);
  if (result.code !== 0) throw new Error(`"${command}" exited ${result.code}: ${result.stderr}`);
  return result.stdout;
}
