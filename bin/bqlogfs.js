#!/usr/bin/env -S node --max-semi-space-size=2 --max-old-space-size=128
// Runs the TypeScript sources directly through tsx, so the package needs no build step. The heap
// flags keep the daemon's memory small while it streams large results (see docs/performance.md).
import { register } from 'tsx/esm/api';

register();
await import('../src/cli/main.ts');
