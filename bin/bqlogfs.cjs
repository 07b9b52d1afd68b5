#!/usr/bin/env -S node --max-semi-space-size=2 --max-old-space-size=128 --heap-growing-percent=200
// Runs the compiled command line in dist/, which `npm run build` writes and `npm pack` builds first.
// The heap flags keep the daemon's memory small, and its full garbage collections few, while it
// streams large results (see docs/performance.md). From a checkout without a build, `npm run bqlogfs --`
// runs the sources.
//
// Help and version (`--help`, `mount --help`, `help mount`, `--version`, no arguments, ...) are
// printed from dist/cli/help.json, rendered at build time from the command line itself (see
// src/cli/help-texts.ts), without loading it: Node.js then only starts and reads this file and
// that one. CommonJS, because Node.js 20 starts a CommonJS file faster than an ES module; written
// with writeSync, because creating process.stdout costs more than the rest.
'use strict';
const { readFileSync, writeSync } = require('node:fs');
const { Buffer } = require('node:buffer');
const { join } = require('node:path');

/** `[exit code, output]` of the command line for `argv` if it asks only for help or the version. */
function printedHelp(argv) {
  if (argv.length > 2) return undefined;
  try {
    return JSON.parse(readFileSync(join(__dirname, '..', 'dist', 'cli', 'help.json'), 'utf8'))[JSON.stringify(argv)];
  } catch {
    return undefined;
  }
}

function writeOut(text) {
  const bytes = Buffer.from(text);
  let written = 0;
  try {
    while (written < bytes.length) written += writeSync(1, bytes, written);
  } catch (error) {
    // A non-blocking stdout that is full: let the stream wait for it. A reader that left: done.
    if (error.code === 'EAGAIN') process.stdout.write(bytes.subarray(written));
    else if (error.code !== 'EPIPE') throw error;
  }
}

const help = printedHelp(process.argv.slice(2));
if (help !== undefined) {
  process.exitCode = help[0];
  writeOut(help[1]);
} else {
  import('../dist/cli/main.js').catch((error) => {
    if (error?.code !== 'ERR_MODULE_NOT_FOUND' || !/Cannot find module '[^']*dist\/cli\/main\.js'/.test(error.message))
      throw error;
    process.stderr.write('bqlogfs: dist/ is missing: run npm run build first (or npm run bqlogfs -- <args>)\n');
    process.exit(1);
  });
}
