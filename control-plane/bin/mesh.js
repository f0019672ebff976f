#!/usr/bin/env node
// `mesh` CLI entry (package.json "bin"): runs the TypeScript CLI with tsx.
'use strict';
const { spawnSync } = require('node:child_process');
const path = require('node:path');
const root = path.resolve(__dirname, '..', '..');
const result = spawnSync(path.join(root, 'node_modules', '.bin', 'tsx'), [path.join(root, 'control-plane', 'src', 'cli', 'mesh.ts'), ...process.argv.slice(2)], { stdio: 'inherit' });
process.exit(result.status ?? 1);
