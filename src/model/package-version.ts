// The version of bqlogfs: the one in its package.json, two directories above this module both in
// src/ and in the compiled dist/.
import { readFile } from 'node:fs/promises';

/** The version in package.json, or `unknown` if it cannot be read. */
export async function packageVersion(): Promise<string> {
  try {
    const text = await readFile(new URL('../../package.json', import.meta.url), 'utf8');
    return (JSON.parse(text) as { version?: string }).version ?? 'unknown';
  } catch {
    return 'unknown';
  }
}
