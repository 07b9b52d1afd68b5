#!/usr/bin/env -S node --max-semi-space-size=2 --max-old-space-size=128
// Runs the compiled command line in dist/, which `npm run build` writes and `npm pack` builds first.
// The heap flags keep the daemon's memory small while it streams large results (see
// docs/performance.md). From a checkout without a build, `npm run bqlogfs --` runs the sources.
import process from 'node:process';
try {
  await import('../dist/cli/main.js');
} catch (error) {
  if (error?.code !== 'ERR_MODULE_NOT_FOUND' || !/Cannot find module '[^']*dist\/cli\/main\.js'/.test(error.message))
    throw error;
  process.stderr.write('bqlogfs: dist/ is missing: run npm run build first (or npm run bqlogfs -- <args>)\n');
  process.exit(1);
}
