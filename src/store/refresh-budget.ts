// A bound on what refreshing live hours may bill. Each refresh scans today's partition so far, so a
// forgotten `tail -f` on a big cluster would otherwise bill that scan every few seconds, for as long
// as it runs. Refreshes that would exceed the budget of the last hour are skipped: readers keep the
// snapshot they have, and finished hours are unaffected.
import type { Logger } from 'pino';

const WINDOW_MS = 3_600_000;

export class RefreshBudget {
  private readonly spent: { atMs: number; bytes: number }[] = [];
  /** What the latest refresh billed: the best guess for the next one. */
  private lastRefreshBytes = 0;
  private exhaustedUntilMs = -Infinity;

  constructor(
    /** Bytes billed by refreshes that any hour may hold. */
    readonly bytesPerHour: number,
    private readonly log: Pick<Logger, 'warn'>,
  ) {}

  /** Bytes billed by refreshes within the last hour. */
  spentInWindow(nowMs: number): number {
    while (this.spent.length > 0 && (this.spent[0]?.atMs ?? nowMs) <= nowMs - WINDOW_MS) this.spent.shift();
    return this.spent.reduce((total, entry) => total + entry.bytes, 0);
  }

  /** Whether a refresh may start now; says once per exhaustion why live files stop growing. */
  allows(nowMs: number): boolean {
    const spent = this.spentInWindow(nowMs);
    if (spent + this.lastRefreshBytes <= this.bytesPerHour) return true;
    if (nowMs >= this.exhaustedUntilMs) {
      this.exhaustedUntilMs = (this.spent[0]?.atMs ?? nowMs) + WINDOW_MS;
      this.log.warn(
        { spentBytes: spent, budgetBytes: this.bytesPerHour, resumesAt: new Date(this.exhaustedUntilMs).toISOString() },
        'refresh budget used up: live hour files stop growing until older refreshes leave the hour window; ' +
          'raise --refresh-budget or --refresh to change this (finished hours are not affected)',
      );
    }
    return false;
  }

  record(nowMs: number, bytesBilled: number): void {
    this.spent.push({ atMs: nowMs, bytes: bytesBilled });
    this.lastRefreshBytes = bytesBilled;
  }
}
