// A one-line progress bar redrawn in place on a terminal, at most ten times a second.
import type { WriteStream } from 'node:tty';

const REDRAW_EVERY_MS = 100;
const BAR_WIDTH = 24;

export class ProgressBar {
  private lastDrawMs = -Infinity;
  private readonly ticker: NodeJS.Timeout;
  private drawn = false;

  /** `describe` gives the bar's fill (0–1) and the text after it; it is asked again on every redraw. */
  constructor(
    private readonly stream: WriteStream,
    private readonly describe: () => { fraction: number; text: string },
  ) {
    // Keeps the elapsed time moving while a long query has nothing new to report.
    this.ticker = setInterval(() => this.update(), 1000).unref();
  }

  /** Redraws, unless the last redraw was very recent. */
  update(): void {
    const nowMs = Date.now();
    if (nowMs - this.lastDrawMs < REDRAW_EVERY_MS) return;
    this.lastDrawMs = nowMs;
    const { fraction, text } = this.describe();
    const filled = Math.round(Math.min(1, Math.max(0, fraction)) * BAR_WIDTH);
    const line = `[${'#'.repeat(filled)}${'.'.repeat(BAR_WIDTH - filled)}] ${text}`;
    this.stream.write(`\r\x1b[2K${line.slice(0, Math.max(0, (this.stream.columns || 80) - 1))}`);
    this.drawn = true;
  }

  /** Replaces the bar with a final line, or just ends it. */
  finish(finalLine?: string): void {
    clearInterval(this.ticker);
    if (this.drawn) this.stream.write('\r\x1b[2K');
    if (finalLine !== undefined) this.stream.write(`${finalLine}\n`);
    this.drawn = false;
  }
}
