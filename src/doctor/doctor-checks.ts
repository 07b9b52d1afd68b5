// What a `bqlogfs doctor` check reports, and a time bound for checks that talk to the network.
import { withDeadline } from '../model/deadline.js';

export type CheckStatus = 'ok' | 'FAIL' | 'warn' | 'skip';

export interface CheckResult {
  status: CheckStatus;
  /** What was checked, e.g. `/dev/fuse`. */
  name: string;
  detail: string;
  /** What to do about a failure or a warning. */
  fix?: string;
}

export const ok = (name: string, detail: string): CheckResult => ({ status: 'ok', name, detail });
export const skip = (name: string, detail: string): CheckResult => ({ status: 'skip', name, detail });
export const warn = (name: string, detail: string, fix: string): CheckResult => ({ status: 'warn', name, detail, fix });
export const fail = (name: string, detail: string, fix: string): CheckResult => ({ status: 'FAIL', name, detail, fix });

/** Rejects when `work` has not settled within `ms`; doctor must never hang on the network. */
export function within<T>(ms: number, what: string, work: Promise<T>): Promise<T> {
  return withDeadline(work, ms, () => new Error(`${what}: no answer within ${ms / 1000} s`));
}

export function formatResult(result: CheckResult): string {
  const line = `${result.status.padEnd(5)} ${result.name}: ${result.detail}`;
  return result.fix === undefined ? line : `${line}\n      fix: ${result.fix}`;
}
