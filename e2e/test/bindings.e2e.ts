// The committed search-parameter bindings of sql-mappings/*.json are the ones derived from what the running
// trusts advertise (CapabilityStatement + search parameter expressions), so the files cannot drift from
// the servers the connector pushes searches to.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { expect } from 'chai';
import { loadServerSearchParams, ServerSearchParams } from '../../control-plane/src/catalogs/capability';
import { deriveForFile, mappingFiles } from '../../control-plane/src/catalogs/derive-bindings-cli';
import { runCaptured } from '../runtime/processes';
import { DOMAINS, fhirBaseUrl, MESH_HOME, ROOT } from '../runtime/topology';

describe('mapping bindings against the live FHIR servers', () => {
  const servers = new Map<string, ServerSearchParams>();

  before(async () => {
    for (const domain of DOMAINS) servers.set(domain.id, await loadServerSearchParams(fhirBaseUrl(domain)));
  });

  it('finds mapping files to check', () => {
    expect(mappingFiles().length).to.be.greaterThan(0);
  });

  for (const domain of DOMAINS) {
    describe(`domain ${domain.id}`, () => {
      it('advertises, with a known expression, every search parameter a committed binding uses', () => {
        const server = servers.get(domain.id)!;
        for (const file of mappingFiles()) {
          const result = deriveForFile(file, server);
          const resource = (JSON.parse(result.text) as { view: { resource: string } }).view.resource;
          const params = new Map(server.forResource(resource).params.map((p) => [p.code, p]));
          for (const [column, binding] of Object.entries(result.committed)) {
            const param = params.get(binding.param);
            expect(param, `${path.basename(file)} ${column}: ${resource}?${binding.param} advertised`).to.not.equal(undefined);
            expect(param!.type, `${path.basename(file)} ${column}: ${binding.param} type`).to.equal(binding.type);
            expect(param!.expression, `${path.basename(file)} ${column}: ${binding.param} expression`).to.be.a('string');
          }
        }
      });

      for (const file of mappingFiles()) {
        it(`${path.basename(file)}: committed bindings equal the derived ones, in column order`, () => {
          const result = deriveForFile(file, servers.get(domain.id)!);
          expect(result.differences, result.differences.join('\n')).to.deep.equal([]);
          expect(result.committed).to.deep.equal(result.derived);
          expect(Object.keys(result.committed)).to.deep.equal(Object.keys(result.derived));
        });
      }
    });
  }

  // The registry derives a product's bindings once, when it is published, with the search parameter
  // definitions its process loaded: a control plane older than a new resource type's definitions would
  // keep serving that table with fewer bindings (less pushdown) for good.
  for (const file of mappingFiles()) {
    it(`${path.basename(file)}: the mapping the connector reads from the registry has the committed bindings`, () => {
      const committed = (JSON.parse(fs.readFileSync(file, 'utf8')) as { bindings: unknown }).bindings;
      const generated = path.join(MESH_HOME, 'generated', 'sql-mappings', path.basename(file));
      expect((JSON.parse(fs.readFileSync(generated, 'utf8')) as { bindings: unknown }).bindings, generated).to.deep.equal(committed);
    });
  }

  it('npm run mappings:bindings -- --check passes against the first domain', async () => {
    const run = await runCaptured(
      path.join(ROOT, 'node_modules', '.bin', 'tsx'),
      ['control-plane/src/catalogs/derive-bindings-cli.ts', '--check', '--base-url', fhirBaseUrl(DOMAINS[0]!)],
      { cwd: ROOT },
    );
    expect(run.status, `${run.stdout}\n${run.stderr}`).to.equal(0);
    expect(run.stdout).to.contain('all committed bindings match the server');
  });

  it('the CLI fails with a clear message when no FHIR server answers', async () => {
    const run = await runCaptured(
      path.join(ROOT, 'node_modules', '.bin', 'tsx'),
      ['control-plane/src/catalogs/derive-bindings-cli.ts', '--check', '--base-url', 'http://127.0.0.1:9/fhir/none'],
      { cwd: ROOT },
    );
    expect(run.status).to.equal(2);
    expect(run.stderr).to.match(/cannot reach the FHIR server at http:\/\/127\.0\.0\.1:9\/fhir\/none\/metadata .*is the mesh up\?/);
  });
});
