// Whether an access to an hour is served from what the store has, or fetches the day (again). A
// final hour, or a snapshot younger than the refresh interval, is served as it is. An older snapshot
// of a live hour is fetched again only for a reader, and only if the refresh budget allows; an hour
// that has no file yet is fetched so that it can appear.
import type { DayState } from './day-state.js';
import type { RefreshBudget } from './refresh-budget.js';

export type AccessDecision =
  /** Fresh enough: serve what the store has. */
  | { action: 'hit' }
  /** Stale, but it stays as it is: nobody reads it, or the budget refused a refresh. */
  | { action: 'skip'; refusedByBudget: boolean }
  /** Fetch the day; a refresh when an earlier fetch delivered a snapshot. */
  | { action: 'fetch'; refresh: boolean };

export interface HourAccess {
  hourEndMs: number;
  /**
   * The store's file for the hour, if any. A final one never changes: it is served as it is, even
   * when a manifest recorded it before its day's fetch ended.
   */
  file: { final: boolean } | undefined;
  /** A reader opens the hour or has it open. */
  mayRefresh: boolean;
  nowMs: number;
}

export class RefreshPolicy {
  constructor(
    /** How old a snapshot may be before a reader's access fetches it again. */
    private readonly refreshMs: number,
    /** Bounds what refreshes bill; unbounded when absent. */
    private readonly budget?: RefreshBudget,
  ) {}

  decide(state: Pick<DayState, 'knownThroughMs' | 'fetching' | 'lastFetchMs'>, access: HourAccess): AccessDecision {
    const { nowMs } = access;
    const fresh =
      access.file?.final === true ||
      access.hourEndMs <= state.knownThroughMs ||
      state.fetching ||
      nowMs - state.lastFetchMs < this.refreshMs;
    if (fresh) return { action: 'hit' };
    const refresh = state.lastFetchMs > -Infinity;
    if (!refresh) return { action: 'fetch', refresh };
    const wanted = access.mayRefresh || !access.file;
    if (!wanted) return { action: 'skip', refusedByBudget: false };
    if (this.budget && !this.budget.allows(nowMs)) return { action: 'skip', refusedByBudget: true };
    return { action: 'fetch', refresh };
  }

  /** Counts what a refresh billed against the budget. */
  billed(fetchStartMs: number, bytesBilled: number): void {
    this.budget?.record(fetchStartMs, bytesBilled);
  }
}
