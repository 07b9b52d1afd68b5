// Runs the demo with the options given as JSON, so a test can shorten its history and its ticks.
import { DEMO_DEFAULTS, runDemo } from '../../src/demo/demo.js';

const [mountpoint = 'mount', options = '{}'] = process.argv.slice(2);
await runDemo(mountpoint, { ...DEMO_DEFAULTS, ...(JSON.parse(options) as object) });
