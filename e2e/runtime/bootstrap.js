#!/usr/bin/env node
// The npm scripts enter here: install the npm dependencies when they are missing or stale (a fresh
// clone has none), then hand over to the TypeScript CLI. Plain JavaScript: it must run before tsx exists.
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..', '..');
const installed = path.join(root, 'node_modules', '.package-lock.json');
const lock = path.join(root, 'package-lock.json');

const stale = !fs.existsSync(installed) || fs.statSync(installed).mtimeMs < fs.statSync(lock).mtimeMs;
if (stale) {
  process.stdout.write('[mesh] npm: installing dependencies (npm ci)\n');
  const npm = spawnSync('npm', ['ci', '--no-audit', '--no-fund', '--loglevel=warn'], { cwd: root, stdio: 'inherit' });
  if (npm.status !== 0) {
    process.stderr.write('[mesh] npm: `npm ci` failed; see the output above\n');
    process.exit(npm.status ?? 1);
  }
}

// Ctrl-C reaches the whole foreground process group: let the CLI below shut the mesh down and exit
// first, instead of this wrapper dying and handing the prompt back mid-shutdown.
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => undefined);

const tsx = path.join(root, 'node_modules', '.bin', 'tsx');
const cli = spawnSync(tsx, [path.join(__dirname, 'cli.ts'), ...process.argv.slice(2)], { stdio: 'inherit' });
process.exit(cli.status ?? 1);
