import * as fs from 'node:fs';
import * as path from 'node:path';
import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { expect } from 'chai';
import { catalogProperties, ProductVersionForServing, renderCatalogFile, renderMappingFile, servingTables } from '../src/catalogs/generation';

const view = (name: string, columns: string[]): Record<string, unknown> => ({
  name,
  resource: 'Encounter',
  select: [{ column: columns.map((c) => ({ name: c, path: c, type: 'string' })) }],
});

function version(major: number, minor: number, lifecycle: string, views = [view('enc', ['id'])]): ProductVersionForServing {
  return { product: 'encounters', description: 'Encounters.', version: { major, minor, patch: 0, lifecycle, views }, bindings: {}, sources: ['RX1'] };
}

describe('catalog generation', () => {
  it('renders the same catalog whatever order the registry returns domains in, with secrets by reference only', () => {
    const a = catalogProperties(
      [
        { odsCode: 'RTH', baseUrl: 'http://h/rth', authSecretRef: 'env:FHIR_MESH_TOKEN_RTH' },
        { odsCode: 'RX1', baseUrl: 'http://h/rx1', authSecretRef: 'file:/run/secrets/rx1' },
        { odsCode: 'RR8', baseUrl: 'http://h/rr8', authSecretRef: null },
      ],
      '/maps',
      { 'fhir.page-size': '500', 'fhir.max-concurrent-requests-per-endpoint': '4' },
    );
    const b = catalogProperties(
      [
        { odsCode: 'RR8', baseUrl: 'http://h/rr8', authSecretRef: null },
        { odsCode: 'RX1', baseUrl: 'http://h/rx1', authSecretRef: 'file:/run/secrets/rx1' },
        { odsCode: 'RTH', baseUrl: 'http://h/rth', authSecretRef: 'env:FHIR_MESH_TOKEN_RTH' },
      ],
      '/maps',
      { 'fhir.max-concurrent-requests-per-endpoint': '4', 'fhir.page-size': '500' },
    );
    expect(renderCatalogFile(a)).to.equal(renderCatalogFile(b));
    expect(a['fhir.domains']).to.equal('RR8,RTH,RX1');
    expect(a['fhir.domain.RTH.auth.bearer-token-env']).to.equal('FHIR_MESH_TOKEN_RTH');
    expect(a['fhir.domain.RX1.auth.bearer-token-file']).to.equal('/run/secrets/rx1');
    expect(Object.keys(a).filter((k) => k.startsWith('fhir.domain.RR8.auth'))).to.deep.equal([]);
  });

  it("writes each domain's name, kind and region for the connector's mesh.domains, as text the connector accepts", () => {
    const long = 'é'.repeat(150) + '\u{1F3E5}'.repeat(60);
    const properties = catalogProperties(
      [
        { odsCode: 'RX1', baseUrl: 'http://h/rx1', authSecretRef: null, name: '  Nottingham\nUniversity\tHospitals ', kind: 'trust', region: 'Midlands' },
        { odsCode: 'RTH', baseUrl: 'http://h/rth', authSecretRef: null, name: long, kind: 'trust', region: ' \u0085 ' },
        { odsCode: 'RR8', baseUrl: 'http://h/rr8', authSecretRef: null },
      ],
      '/maps',
      {},
    );
    expect(properties['fhir.domain.RX1.name']).to.equal('Nottingham University Hospitals');
    expect(properties['fhir.domain.RX1.kind']).to.equal('trust');
    expect(properties['fhir.domain.RX1.region']).to.equal('Midlands');
    // 200 UTF-16 units at most (the connector counts as Java does), never half a surrogate pair.
    expect(properties['fhir.domain.RTH.name']).to.equal('é'.repeat(150) + '\u{1F3E5}'.repeat(25));
    expect(Object.keys(properties).filter((k) => /^fhir\.domain\.(RTH\.region|RR8\.(name|kind|region))$/.test(k))).to.deep.equal([]);
    expect(
      renderCatalogFile(properties)
        .split('\n')
        .filter((line) => line.startsWith('fhir.domain.RX1.')),
    ).to.deep.equal([
      'fhir.domain.RX1.base-url=http://h/rx1',
      'fhir.domain.RX1.name=Nottingham University Hospitals',
      'fhir.domain.RX1.kind=trust',
      'fhir.domain.RX1.region=Midlands',
    ]);
  });

  it('refuses a secret reference it cannot express as a catalog property', () => {
    expect(() => catalogProperties([{ odsCode: 'RX1', baseUrl: 'http://h', authSecretRef: 'vault:x' }], '/m', {})).to.throw(/vault:x/);
  });

  it('serves the newest version of each major as <view>_v<major>, and the newest major as <view>', () => {
    const tables = servingTables([
      version(1, 0, 'published'),
      version(1, 1, 'published', [view('enc', ['id', 'status'])]),
      version(2, 0, 'published', [view('enc', ['id', 'class'])]),
    ]);
    expect(tables.map((t) => t.table)).to.deep.equal(['enc', 'enc_v1', 'enc_v2']);
    const cols = (name: string) => (tables.find((t) => t.table === name)!.view.select as { column: { name: string }[] }[])[0]!.column.map((c) => c.name);
    expect(cols('enc_v1')).to.deep.equal(['id', 'status']);
    expect(cols('enc_v2')).to.deep.equal(['id', 'class']);
    expect(cols('enc')).to.deep.equal(['id', 'class']);
  });

  it('drafts and retired versions are not served; deprecated ones are, and say so', () => {
    expect(servingTables([version(1, 0, 'draft')])).to.deep.equal([]);
    expect(servingTables([version(1, 0, 'published'), version(2, 0, 'retired')]).map((t) => t.table)).to.deep.equal(['enc', 'enc_v1']);
    const deprecated = servingTables([version(1, 0, 'deprecated'), version(2, 0, 'published')]);
    expect(deprecated.map((t) => t.table)).to.deep.equal(['enc', 'enc_v1', 'enc_v2']);
    expect(deprecated.find((t) => t.table === 'enc_v1')!.description).to.include('(deprecated)');
  });

  it('renders mapping files deterministically: sorted domains and bindings, trailing newline', () => {
    const table = {
      table: 'enc',
      description: 'd',
      view: view('enc', ['id']),
      domains: ['RX1', 'RR8'],
      bindings: { b: { param: 'b', type: 'token' as const }, a: { param: 'a', type: 'token' as const } },
    };
    const text = renderMappingFile(table);
    expect(text).to.equal(renderMappingFile({ ...table, domains: ['RR8', 'RX1'], bindings: { a: table.bindings.a, b: table.bindings.b } }));
    const parsed = JSON.parse(text) as { domains: string[]; bindings: Record<string, unknown> };
    expect(parsed.domains).to.deep.equal(['RR8', 'RX1']);
    expect(Object.keys(parsed.bindings)).to.deep.equal(['a', 'b']);
    expect(text.endsWith('}\n')).to.equal(true);
  });
});

describe('generated files against the connector-spec contract', () => {
  const spec = path.join(__dirname, '..', '..', 'connector-spec');
  const ajv = addFormats(new Ajv2020({ allErrors: true, strict: false })).addSchema(
    JSON.parse(fs.readFileSync(path.join(spec, 'view-definition.schema.json'), 'utf8')) as object,
  );
  const mappingSchema = ajv.compile(JSON.parse(fs.readFileSync(path.join(spec, 'mapping.schema.json'), 'utf8')));
  const catalogSchema = JSON.parse(fs.readFileSync(path.join(spec, 'catalog-properties.schema.json'), 'utf8')) as {
    properties: Record<string, unknown>;
    patternProperties: Record<string, unknown>;
  };

  it('every demo table renders to a mapping file the schema accepts, with its domains', () => {
    const dir = path.join(__dirname, '..', '..', 'sql-mappings');
    for (const file of fs.readdirSync(dir).filter((f) => f.endsWith('.json'))) {
      const m = JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8')) as { table: string; view: Record<string, unknown>; bindings: Record<string, never> };
      const rendered = JSON.parse(renderMappingFile({ table: `${m.table}_v1`, description: 'd', view: m.view, bindings: m.bindings, domains: ['RX1', 'RTH'] }));
      expect(mappingSchema(rendered), `${file}: ${JSON.stringify(mappingSchema.errors)}`).to.equal(true);
    }
  });

  it('every generated catalog key is one the connector documents, with a value its schema accepts', () => {
    const properties = catalogProperties(
      [
        { odsCode: 'RX1', baseUrl: 'http://h/rx1', authSecretRef: 'env:FHIR_MESH_TOKEN_T', name: 'N\r\nU\u0085H', kind: 'trust', region: 'x'.repeat(300) },
        { odsCode: 'RTH', baseUrl: 'http://h/rth', authSecretRef: 'file:/t', name: 'Oxford', kind: 'trust', region: 'South East' },
      ],
      '/maps',
      { 'fhir.page-size': '500', 'fhir.split.resources-per-split': '2000', 'fhir.max-concurrent-requests-per-endpoint': '4' },
    );
    for (const key of Object.keys(properties)) {
      const known = key in catalogSchema.properties || Object.keys(catalogSchema.patternProperties).some((p) => new RegExp(p).test(key));
      expect(known, key).to.equal(true);
    }
    const valid = ajv.compile(catalogSchema);
    expect(valid(properties), JSON.stringify(valid.errors)).to.equal(true);
    expect(properties['fhir.domain.RX1.region']).to.have.length(200);
  });
});
