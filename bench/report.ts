// The bench's table: samples of each side of a measure, their medians and ratios against goals.

interface Row {
  measure: string;
  compared: string;
  value: string;
  goal: string;
  met: boolean;
}

export function median(samples: number[]): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? NaN;
}

function shown(ms: number): string {
  return ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(1)} ms`;
}

export class Report {
  private readonly samples = new Map<string, Map<string, number[]>>();
  private readonly rows: Row[] = [];
  private readonly notes: string[] = [];

  constructor(readonly runs: number) {}

  sample(measure: string, side: string, ms: number): void {
    const sides = this.samples.get(measure) ?? new Map<string, number[]>();
    this.samples.set(measure, sides);
    sides.set(side, [...(sides.get(side) ?? []), ms]);
    process.stderr.write(`${measure}: ${side} ${shown(ms)}\n`);
  }

  /** The ratio of the medians of two sides of a measure, against a goal of at most `goal`. */
  ratio(measure: string, compared: string, key: string, side: string, other: string, goal: number): void {
    const sides = this.samples.get(key);
    const ratio = median(sides?.get(side) ?? []) / median(sides?.get(other) ?? []);
    this.rows.push({ measure, compared, value: ratio.toFixed(2), goal: `≤ ${goal}`, met: ratio <= goal });
  }

  value(measure: string, compared: string, value: string, goal: string, met: boolean): void {
    this.rows.push({ measure, compared, value, goal, met });
  }

  note(line: string): void {
    this.notes.push(line);
  }

  render(): string {
    const table = [
      '| Measure | Compared with | Result | Goal | Met |',
      '|---|---|---|---|---|',
      ...this.rows.map(
        (row) => `| ${row.measure} | ${row.compared} | ${row.value} | ${row.goal} | ${row.met ? 'yes' : 'no'} |`,
      ),
    ];
    const samples = [...this.samples].map(
      ([measure, sides]) =>
        `${measure}: ${[...sides].map(([side, list]) => `${side} ${list.map(shown).join(', ')}`).join('; ')}`,
    );
    return `${table.join('\n')}\n\n${[...samples, ...this.notes].map((line) => `- ${line}`).join('\n')}\n`;
  }
}
