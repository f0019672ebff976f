import * as fs from 'node:fs';
import * as path from 'node:path';
import { BadRequestException } from '@nestjs/common';
import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { expect } from 'chai';
import { openApiDocument } from '../src/api/openapi';
import { SchemaValidator } from '../src/api/schema-validator';

const ROOT = path.join(__dirname, '..', '..');
const SPEC = path.join(ROOT, 'connector-spec');
const CONFORMANCE = path.join(ROOT, '..', 'shared', 'conformance', 'sql-on-fhir');
const validator = new SchemaValidator(SPEC);

type View = Record<string, unknown>;
interface Case {
  title: string;
  view: View;
  expectError?: boolean;
}

const conformanceCases: { file: string; test: Case }[] = fs
  .readdirSync(path.join(CONFORMANCE, 'tests'))
  .filter((f) => f.endsWith('.json'))
  .flatMap((file) => (JSON.parse(fs.readFileSync(path.join(CONFORMANCE, 'tests', file), 'utf8')) as { tests: Case[] }).tests.map((test) => ({ file, test })));

function publish(views: View[], mode: 'create' | 'patch' = 'create'): void {
  validator.validate('data-product', { name: 'p', domain: 'RX1', version: '1.0.0', views, privacy: {} }, mode);
}

/** The message of the 400 that publishing `view` gets. */
function refusal(view: View, mode: 'create' | 'patch' = 'create'): string {
  try {
    publish([view], mode);
  } catch (e) {
    expect(e).to.be.instanceOf(BadRequestException);
    return String(((e as BadRequestException).getResponse() as { message: string }).message);
  }
  throw new Error(`accepted: ${JSON.stringify(view)}`);
}

function encounters(select: unknown[], extra: View = {}): View {
  return { resourceType: 'ViewDefinition', name: 'enc', resource: 'Encounter', select, ...extra };
}

describe('view-definition.schema.json, as publishing applies it', () => {
  it('accepts every view of the official conformance suite that is not meant to fail', () => {
    const valid = conformanceCases.filter((c) => c.test.expectError !== true);
    expect(valid.length).to.be.greaterThan(100);
    for (const { file, test } of valid) expect(() => publish([test.view]), `${file}: ${test.title}`).not.to.throw();
  });

  it('refuses the conformance views whose fault is structural, and leaves FHIRPath and unionAll faults to the later checks', () => {
    const [refused, accepted] = [true, false].map((wanted) =>
      conformanceCases
        .filter((c) => c.test.expectError === true)
        .filter(({ test }) => {
          try {
            publish([test.view]);
            return !wanted;
          } catch {
            return wanted;
          }
        })
        .map(({ file, test }) => `${file}: ${test.title}`),
    );
    expect(refused).to.have.members([
      'validate.json: empty',
      'validate.json: missing resource',
      'validate.json: wrong type in forEach',
      'constant.json: incorrect constant definition',
      'view_resource.json: resource not specified',
    ]);
    // Only a FHIRPath evaluator can tell: bad syntax, an undefined constant, a non-boolean where, a
    // multi-valued path without collection: true, unionAll branches whose columns differ.
    expect(accepted).to.have.members([
      "collection.json: fail when 'collection' is not true",
      'constant.json: accessing an undefined constant',
      'union.json: column mismatch',
      'union.json: column order mismatch',
      'validate.json: wrong fhirpath',
      'validate.json: where with path resolving to not boolean',
    ]);
  });

  it("accepts the specification's example ViewDefinitions", () => {
    const examples = path.join(CONFORMANCE, 'spec', 'ballot-3.0.0-main');
    const files = fs.readdirSync(examples).filter((f) => /^ViewDefinition-.*\.json$/.test(f));
    expect(files.length).to.be.greaterThan(5);
    for (const f of files) expect(() => publish([JSON.parse(fs.readFileSync(path.join(examples, f), 'utf8')) as View]), f).not.to.throw();
  });

  it("accepts every shipped mapping's view", () => {
    const files = fs.readdirSync(path.join(ROOT, 'sql-mappings')).filter((f) => f.endsWith('.json'));
    expect(files.length).to.be.greaterThan(5);
    for (const f of files)
      expect(() => publish([(JSON.parse(fs.readFileSync(path.join(ROOT, 'sql-mappings', f), 'utf8')) as { view: View }).view]), f).not.to.throw();
  });

  it('names the path of each structural fault', () => {
    expect(refusal(encounters([{ column: [{ name: 'id', path: 'id' }] }, { column: [{ name: 'id', path: 'id', nme: 'x' }] }]))).to.include(
      '/views/0/select/1/column/0/nme is not a known field',
    );
    expect(refusal({ ...encounters([{ column: [{ name: 'id', path: 'id' }] }]), selct: [] })).to.include('/views/0/selct is not a known field');
    expect(refusal(encounters([{ forEach: 'location', forEachOrNull: 'participant', column: [{ name: 'id', path: 'id' }] }]))).to.include(
      '/views/0/select/0/forEachOrNull cannot be combined with forEach',
    );
    expect(refusal(encounters([{ select: [{ forEachOrNull: 'location', repeat: ['partOf'] }] }]))).to.include(
      '/views/0/select/0/select/0/repeat cannot be combined with forEachOrNull',
    );
    expect(refusal({ resourceType: 'ViewDefinition', name: 'enc', resource: 'Encounter' })).to.include('/views/0/select is required');
    expect(refusal(encounters([]))).to.include('/views/0/select must NOT have fewer than 1 items');
    expect(refusal(encounters([{ column: [{ name: 'id' }] }]))).to.include('/views/0/select/0/column/0/path is required');
    expect(refusal(encounters([{ column: [{ name: 'id', path: '  ' }] }]))).to.include('/views/0/select/0/column/0/path must match pattern');
    expect(refusal(encounters([{ column: [{ name: 'id', path: 'id', collection: 'yes' }] }]))).to.include(
      '/views/0/select/0/column/0/collection must be boolean',
    );
    expect(refusal(encounters([{ column: [{ name: '1st', path: 'id' }] }]))).to.include('/views/0/select/0/column/0/name must match pattern');
    expect(refusal(encounters([{ unionAll: [{ column: [{ name: 'id', path: 'id', tag: [{ name: 'ansi/type' }] }] }] }]))).to.include(
      '/views/0/select/0/unionAll/0/column/0/tag/0/value is required',
    );
    expect(refusal(encounters([{ column: [{ name: 'id', path: 'id' }] }], { where: [{ description: 'no path' }] }))).to.include(
      '/views/0/where/0/path is required',
    );
  });

  it('wants exactly one value[x] in a constant, and says which', () => {
    const twice = refusal(encounters([{ column: [{ name: 'id', path: 'id' }] }], { constant: [{ name: 'c', valueString: 'a', valueInteger: 1 }] }));
    expect(twice).to.include('/views/0/constant/0 has valueInteger and valueString; exactly one value[x] is allowed');
    const none = refusal(encounters([{ column: [{ name: 'id', path: 'id' }] }], { constant: [{ name: 'c' }] }));
    expect(none).to.include('/views/0/constant/0 needs exactly one value[x] (valueBase64Binary, valueBoolean,');
    // Reported once, not as one "is required" per value[x] type.
    expect(none).not.to.include('is required');
    expect(refusal(encounters([{ column: [{ name: 'id', path: 'id' }] }], { constant: [{ name: 'c', valueInteger: 1.5 }] }))).to.include(
      '/views/0/constant/0/valueInteger must be integer',
    );
    expect(refusal(encounters([{ column: [{ name: 'id', path: 'id' }] }], { constant: [{ name: 'c', valueStrin: 'a' }] }))).to.include(
      '/views/0/constant/0/valueStrin is not a known field',
    );
  });

  it('allows id and extensions where FHIR does', () => {
    const extension = [{ url: 'https://example.org/x', valueString: 'y' }];
    expect(() =>
      publish([
        encounters(
          [
            {
              id: 's',
              extension,
              modifierExtension: extension,
              column: [{ id: 'c', extension, name: 'id', path: 'id', tag: [{ id: 't', extension, modifierExtension: extension, name: 'a', value: 'b' }] }],
            },
          ],
          {
            id: 'enc-1',
            extension,
            modifierExtension: extension,
            meta: { versionId: '1' },
            text: { status: 'generated', div: '<div/>' },
            constant: [{ id: 'k', extension, name: 'c', valueCode: 'final' }],
            where: [{ id: 'w', extension, modifierExtension: extension, path: 'status = %c' }],
          },
        ),
      ]),
    ).not.to.throw();
  });

  it('applies to PATCH bodies too', () => {
    expect(refusal(encounters([{ column: [{ name: 'id', path: 'id', nme: 'x' }] }]), 'patch')).to.include(
      '/views/0/select/0/column/0/nme is not a known field',
    );
  });

  it('keeps the wording of other oneOf failures', () => {
    expect(() => validator.validate('consumer', { domain: 'rx1' }, 'patch')).to.throw(
      BadRequestException,
      /\/domain must match pattern .*\/domain must be null/,
    );
  });

  it('is embedded in the OpenAPI document with every $ref resolving inside it', () => {
    const doc = openApiDocument(validator);
    const refs: string[] = [];
    const walk = (value: unknown): void => {
      if (Array.isArray(value)) value.forEach(walk);
      else if (value && typeof value === 'object') {
        for (const [key, v] of Object.entries(value)) {
          if (key === '$ref' && typeof v === 'string') refs.push(v);
          else walk(v);
        }
      }
    };
    walk(doc);
    expect(refs).to.include('#/components/schemas/view-definition');
    expect(refs).to.include('#/components/schemas/view-definition/$defs/select');
    for (const ref of refs) {
      expect(ref.startsWith('#/'), ref).to.equal(true);
      const target = ref
        .slice(2)
        .split('/')
        .reduce<unknown>((node, key) => (node as Record<string, unknown> | undefined)?.[key], doc);
      expect(target, `${ref} resolves`).to.be.an('object');
    }
    // No component keeps an $id: under one, '#/components/...' would resolve against that $id, not this document.
    expect(JSON.stringify(doc.components)).not.to.include('"$id"');
    const ajv = addFormats(new Ajv2020({ allErrors: true, strict: false })).addSchema({ $id: 'https://openapi.test/doc', components: doc.components });
    const product = ajv.getSchema('https://openapi.test/doc#/components/schemas/data-product')!;
    const body = (view: View): unknown => ({ name: 'p', domain: 'RX1', version: '1.0.0', views: [view], privacy: {} });
    expect(product(body(encounters([{ column: [{ name: 'id', path: 'id' }] }])))).to.equal(true);
    expect(product(body(encounters([{ select: [{ column: [{ name: 'id', path: 'id', nme: 'x' }] }] }])))).to.equal(false);
    expect(product.errors!.map((e) => e.instancePath)).to.include('/views/0/select/0/select/0/column/0');
  });
});

describe('mapping.schema.json, with the view schema it refers to', () => {
  // strictRequired off: the view's `required` names properties the referenced schema defines.
  const ajv = addFormats(new Ajv2020({ allErrors: true, strict: true, strictRequired: false })).addSchema(
    JSON.parse(fs.readFileSync(path.join(SPEC, 'view-definition.schema.json'), 'utf8')) as object,
  );
  const mapping = ajv.compile(JSON.parse(fs.readFileSync(path.join(SPEC, 'mapping.schema.json'), 'utf8')) as object);
  const files = fs.readdirSync(path.join(ROOT, 'sql-mappings')).filter((f) => f.endsWith('.json'));
  const read = (f: string): { view: View } & Record<string, unknown> =>
    JSON.parse(fs.readFileSync(path.join(ROOT, 'sql-mappings', f), 'utf8')) as { view: View };

  it('accepts every shipped mapping file as it is', () => {
    expect(files.length).to.be.greaterThan(5);
    for (const f of files) expect(mapping(read(f)), `${f}: ${JSON.stringify(mapping.errors)}`).to.equal(true);
  });

  it('refuses a mapping whose view is misspelt or not shareable', () => {
    const m = read(files[0]!);
    const select = m.view.select as { column: Record<string, unknown>[] }[];
    expect(mapping({ ...m, view: { ...m.view, select: [{ ...select[0], column: [{ ...select[0]!.column[0], nme: 'x' }] }] } })).to.equal(false);
    expect(mapping.errors!.map((e) => `${e.instancePath} ${e.keyword}`)).to.include('/view/select/0/column/0 additionalProperties');
    const { url: _url, ...withoutUrl } = m.view;
    expect(mapping({ ...m, view: withoutUrl })).to.equal(false);
    expect(mapping.errors!.map((e) => `${e.instancePath} ${String(e.params.missingProperty)}`)).to.include('/view url');
  });
});
