import * as fs from 'node:fs';
import { expect } from 'chai';
import { parse } from 'yaml';
import { COMPOSE_CATALOG_FILE, COMPOSE_FILE, renderCompose, renderComposeCatalog } from './compose';
import { DOMAINS, DEFAULT_PORTS as ports, versions } from './topology';

describe('compose.yaml', () => {
  it('is exactly what topology.ts generates (run `npm run compose` after changing the topology)', () => {
    expect(fs.readFileSync(COMPOSE_FILE, 'utf8')).to.equal(renderCompose());
  });

  it('mounts the fhir catalog that topology.ts generates (catalogs/fhir.properties)', () => {
    expect(fs.readFileSync(COMPOSE_CATALOG_FILE, 'utf8')).to.equal(renderComposeCatalog());
  });

  it('runs the same Trino version, ports and FHIR domains as the local runtime', () => {
    const compose = parse(renderCompose()) as { services: Record<string, { image: string; ports: string[]; command?: string[] }> };
    expect(compose.services.trino?.image).to.equal(`trinodb/trino:${versions.trino}`);
    expect(compose.services.trino?.ports).to.deep.equal([`127.0.0.1:${ports.trino}:8080`]);
    expect(compose.services.fhir?.command).to.include(`--mesh.tenants=${DOMAINS.map((d) => d.id).join(',')}`);
    expect(compose.services.postgres?.ports).to.deep.equal([`127.0.0.1:${ports.postgres}:5432`]);
  });
});
