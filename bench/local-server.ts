// The local server of the benches runs in the bench's own process, on the same two cores as the
// daemon, `cat` and the baselines: it stands in for BigQuery's servers, whose CPU a user's machine
// never spends. Its Buffers (record batches, JSON pages) started V8 full collections as the daemon's
// did (docs/performance.md, "The heap's growing factor"): 149 during one cold read of the 1 GiB hour,
// about 12% of the machine's CPU. The daemon's growing factor brought the server's CPU for that read
// from 9.5–12.6 s to 6.3–7.1 s, for the mount and for every baseline alike.
import { setFlagsFromString } from 'node:v8';
import { startEmulator, type Emulator, type EmulatorOptions } from '../src/emulator/server.js';
import { NODE_FLAGS } from '../test/support/cli-process.js';

export async function startLocalServer(options: EmulatorOptions = {}): Promise<Emulator> {
  const growing = NODE_FLAGS.find((flag) => flag.startsWith('--heap-growing-percent='));
  if (growing !== undefined) setFlagsFromString(growing);
  return startEmulator(options);
}
