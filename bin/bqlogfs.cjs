#!/usr/bin/env -S node --max-semi-space-size=2 --max-old-space-size=128
// Runs the compiled command line in dist/, which `npm run build` writes and `npm pack` builds first.
// The heap flags keep the daemon's memory small while it streams large results (see
// docs/performance.md). From a checkout without a build, `npm run bqlogfs --` runs the sources.
//
// Help and version (`--help`, `mount --help`, `help mount`, `--version`, no arguments, ...) are
// printed from dist/cli/help/, rendered at build time from the command line itself (see
// src/cli/help-texts.ts), without loading it: Node.js then only starts and reads this file and
// one JSON file. CommonJS, because Node.js 20 starts a CommonJS file faster than an ES module.
'use strict';
const { readFileSync } = require('node:fs');
const { join } = require('node:path');

/** What the command line prints for `argv` if it asks only for help or the version, else undefined. */
function printedHelp(argv) {
  if (argv.length > 2) return undefined;
  // The file is chosen as helpFileName in src/cli/help-texts.ts does.
  const name = argv.length < 2 ? 'bqlogfs' : argv[0] === 'help' ? argv[1] : argv[0];
  if (!/^[a-z]+$/.test(name)) return undefined;
  let file;
  try {
    file = JSON.parse(readFileSync(join(__dirname, '..', 'dist', 'cli', 'help', `${name}.json`), 'utf8'));
  } catch {
    return undefined;
  }
  const texts = file.texts[file.printed[JSON.stringify(argv)]];
  if (texts === undefined) return undefined;
  // The width commander wraps help to: the terminal's columns, else 80.
  const width = (process.stdout.isTTY ? process.stdout.columns : undefined) ?? 80;
  const text = texts.find(([from, to]) => from <= width && (to === null || width <= to));
  if (text === undefined) return undefined;
  const [, , code, lines] = text;
  return { code, stdout: lines.map((index) => file.lines[index]).join('\n') };
}

const help = printedHelp(process.argv.slice(2));
if (help !== undefined) {
  process.exitCode = help.code;
  process.stdout.write(help.stdout);
} else {
  import('../dist/cli/main.js').catch((error) => {
    if (error?.code !== 'ERR_MODULE_NOT_FOUND' || !/Cannot find module '[^']*dist\/cli\/main\.js'/.test(error.message))
      throw error;
    process.stderr.write('bqlogfs: dist/ is missing: run npm run build first (or npm run bqlogfs -- <args>)\n');
    process.exit(1);
  });
}
