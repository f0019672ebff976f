// The control plane stands on its own: nothing under control-plane/ imports the mesh runtime or the test
// harness (e2e/). The runtime passes settings in; the reverse dependency is the only one allowed.

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { expect } from 'chai';
import * as ts from 'typescript';

const REPO_ROOT = path.resolve(__dirname, '..', '..');
const CONTROL_PLANE = path.join(REPO_ROOT, 'control-plane');
const E2E = path.join(REPO_ROOT, 'e2e');
const SOURCE = /\.(ts|tsx|mts|cts|js|mjs|cjs)$/;

function sourceFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'node_modules' ? [] : sourceFiles(full);
    return SOURCE.test(entry.name) ? [full] : [];
  });
}

/** Where a specifier leads, resolved as TypeScript would (relative paths, node_modules, tsconfig paths). */
function resolve(specifier: string, fromFile: string, root: string): string {
  const options: ts.CompilerOptions = { moduleResolution: ts.ModuleResolutionKind.Node10, allowJs: true, resolveJsonModule: true, baseUrl: root };
  const resolved = ts.resolveModuleName(specifier, fromFile, options, ts.sys).resolvedModule?.resolvedFileName;
  return resolved ?? path.resolve(path.dirname(fromFile), specifier);
}

/**
 * `file: specifier` for every import, export-from, require(), import() and reference path under `dir` that
 * leads into `forbidden`. Specifiers come from TypeScript's own pre-processor, so comments and strings
 * that merely mention a path are not imports.
 */
function importsInto(dir: string, forbidden: string, root: string): string[] {
  const found: string[] = [];
  for (const file of sourceFiles(dir)) {
    const info = ts.preProcessFile(fs.readFileSync(file, 'utf8'), true, true);
    const specifiers = [...info.importedFiles, ...info.referencedFiles].map((ref) => ref.fileName);
    for (const specifier of specifiers) {
      const target = resolve(specifier, file, root);
      if (target === forbidden || target.startsWith(forbidden + path.sep)) found.push(`${path.relative(root, file)}: ${specifier}`);
    }
  }
  return found;
}

describe('the control plane stands on its own', () => {
  it('imports nothing from e2e/ (runtime or harness) in any source or test file', () => {
    expect(sourceFiles(CONTROL_PLANE).length).to.be.greaterThan(50);
    expect(importsInto(CONTROL_PLANE, E2E, REPO_ROOT)).to.deep.equal([]);
  });

  describe('the import finder', () => {
    let root: string;
    before(() => {
      root = fs.mkdtempSync(path.join(os.tmpdir(), 'cp-standalone-'));
      fs.mkdirSync(path.join(root, 'e2e', 'runtime'), { recursive: true });
      fs.writeFileSync(path.join(root, 'e2e', 'runtime', 'topology.ts'), 'export const HOST = "127.0.0.1";\n');
      fs.mkdirSync(path.join(root, 'cp', 'src', 'deep'), { recursive: true });
      fs.writeFileSync(path.join(root, 'cp', 'src', 'ok.ts'), 'export const x = 1;\n');
    });
    after(() => fs.rmSync(root, { recursive: true, force: true }));

    const write = (name: string, text: string): string => {
      const file = path.join(root, 'cp', 'src', name);
      fs.writeFileSync(file, text);
      return file;
    };

    it('finds every form of import that reaches e2e/', () => {
      write('a.ts', "import { HOST } from '../../e2e/runtime/topology';\n");
      write('b.ts', 'export * from \'../../e2e/runtime/topology\';\nimport type { X } from "../../e2e/runtime";\n');
      write('c.js', "const t = require('../../e2e/runtime/topology.ts');\n");
      write('deep/d.ts', "async function f() { return import('../../../e2e/runtime/topology'); }\nimport t = require('../../../e2e');\n");
      write('e.ts', '/// <reference path="../../e2e/runtime/topology.ts" />\n');
      expect(importsInto(path.join(root, 'cp'), path.join(root, 'e2e'), root).sort()).to.deep.equal([
        'cp/src/a.ts: ../../e2e/runtime/topology',
        'cp/src/b.ts: ../../e2e/runtime',
        'cp/src/b.ts: ../../e2e/runtime/topology',
        'cp/src/c.js: ../../e2e/runtime/topology.ts',
        'cp/src/deep/d.ts: ../../../e2e',
        'cp/src/deep/d.ts: ../../../e2e/runtime/topology',
        'cp/src/e.ts: ../../e2e/runtime/topology.ts',
      ]);
    });

    it('ignores comments, strings and sibling folders whose names start with e2e', () => {
      for (const name of ['a.ts', 'b.ts', 'c.js', 'deep/d.ts', 'e.ts']) fs.rmSync(path.join(root, 'cp', 'src', name), { force: true });
      fs.mkdirSync(path.join(root, 'e2e-fixtures'), { recursive: true });
      fs.writeFileSync(path.join(root, 'e2e-fixtures', 'f.ts'), 'export const f = 1;\n');
      write(
        'quiet.ts',
        [
          "// the runtime (e2e/runtime/control-plane.ts) passes settings; see import '../../e2e/runtime/topology'",
          'const hint = "from \'../../e2e/runtime/topology\'";',
          "/* require('../../e2e/runtime/topology') */",
          "import { x } from './ok';",
          "import { f } from '../../e2e-fixtures/f';",
          'export { hint, x, f };',
        ].join('\n'),
      );
      expect(importsInto(path.join(root, 'cp'), path.join(root, 'e2e'), root)).to.deep.equal([]);
    });
  });
});
