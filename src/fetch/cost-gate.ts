// Asks before a search that would bill more than `--confirm-above`: on a terminal the user answers;
// anywhere else the search fails with the estimate and the flag that lets it run.
import { createInterface } from 'node:readline/promises';
import { formatBytes } from '../model/byte-units.js';

export interface CostGate {
  /** Bytes above which the search needs a yes. */
  confirmAboveBytes: number;
  input: NodeJS.ReadStream;
  output: NodeJS.WriteStream;
}

/** Resolves when the search may run; rejects when it may not, saying why. */
export async function passCostGate(estimateBytes: number, gate: CostGate): Promise<void> {
  if (estimateBytes <= gate.confirmAboveBytes) return;
  const estimate = `this search would bill about ${formatBytes(estimateBytes)} (dry run)`;
  const limit = `above --confirm-above ${formatBytes(gate.confirmAboveBytes)}`;
  if (!gate.input.isTTY || !gate.output.isTTY) {
    throw new Error(`${estimate}, ${limit}; to run it, pass --confirm-above ${Math.ceil(estimateBytes / 2 ** 30)}G`);
  }
  const prompt = createInterface({ input: gate.input, output: gate.output });
  try {
    const answer = await prompt.question(`${estimate}, ${limit}. Run it? [y/N] `);
    if (!/^y(es)?$/i.test(answer.trim())) throw new Error('search not run');
  } finally {
    prompt.close();
  }
}
