import { BadRequestException } from '@nestjs/common';
import { expect } from 'chai';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { openApiDocument } from '../src/api/openapi';
import { SchemaValidator } from '../src/api/schema-validator';

const ROOT = path.join(__dirname, '..', '..');
const SPEC = path.join(ROOT, 'connector-spec');
const CONFORMANCE = path.join(ROOT, '..', 'shared', 'conformance', 'sql-on-fhir');
const validator = new SchemaValidator(SPEC);

type View = Record<string, unknown>;
interface Case { title: string; view: View; expectError?: boolean }

const conformanceCases: { file: string; test: Case }[] = fs.readdirSync(path.join(CONFORMANCE, 'tests')).filter((f) => f.endsWith('.json'))
  .flatMap((file) => (JSON.parse(fs.readFileSync(path.join(CONFORMANCE, 'tests', file), 'utf8')) as { tests: Case[] }).tests.map((test) => ({ file, test })));

function publish(views: View[]): void {
  validator.validate('data-product', { name: 'p', domain: 'RX1', version: '1.0.0', views, privacy: {} });
}

/** The message of the 400 that publishing `view` gets. */
function refusal(view: View): string {
  try {
    publish([view]);
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

  it('refuses the conformance views whose fault is structural, and leaves FHIRPath faults to the later checks', () => {
    const refused = conformanceCases.filter((c) => c.test.expectError === true).filter(({ test }) => {
      try {
        publish([test.view]);
        return false;
      } catch {
        return true;
      }
    }).map(({ file, test }) => `${file}: ${test.title}`);
    expect(refused).to.include.members(['validate.json: empty', 'validate.json: missing resource', 'validate.json: wrong type in forEach', 'constant.json: incorrect constant definition']);
    expect(refused).not.to.include('validate.json: wrong fhirpath');
  });

  it("accepts the specification's example ViewDefinitions and every shipped mapping's view", () => {
    const examples = path.join(CONFORMANCE, 'spec', 'ballot-3.0.0-main');
    const views = [
      ...fs.readdirSync(examples).filter((f) => /^ViewDefinition-.*\.json$/.test(f)).map((f) => JSON.parse(fs.readFileSync(path.join(examples, f), 'utf8')) as View),
      ...fs.readdirSync(path.join(ROOT, 'sql-mappings')).filter((f) => f.endsWith('.json')).map((f) => (JSON.parse(fs.readFileSync(path.join(ROOT, 'sql-mappings', f), 'utf8')) as { view: View }).view),
    ];
    expect(views.length).to.be.greaterThan(15);
    for (const view of views) expect(() => publish([view]), String(view.name)).not.to.throw();
  });

  it('names the path of each structural fault', () => {
    expect(refusal(encounters([{ column: [{ name: 'id', path: 'id', nme: 'x' }] }]))).to.include('/views/0/select/0/column/0/nme is not a known field');
    expect(refusal(encounters([{ forEach: 'location', forEachOrNull: 'participant', column: [{ name: 'id', path: 'id' }] }])))
      .to.include('/views/0/select/0/forEachOrNull cannot be combined with forEach, forEachOrNull or repeat on the same select');
    expect(refusal({ resourceType: 'ViewDefinition', name: 'enc', resource: 'Encounter' })).to.include('/views/0/select is required');
    expect(refusal(encounters([{ column: [{ name: 'id' }] }]))).to.include('/views/0/select/0/column/0/path is required');
    expect(refusal(encounters([{ column: [{ name: 'id', path: '  ' }] }]))).to.include('/views/0/select/0/column/0/path must match pattern');
    expect(refusal(encounters([{ column: [{ name: 'id', path: 'id', collection: 'yes' }] }]))).to.include('/views/0/select/0/column/0/collection must be boolean');
    expect(refusal(encounters([{ column: [{ name: 'id', path: 'id' }] }], { constant: [{ name: 'c', valueString: 'a', valueInteger: 1 }] })))
      .to.include('/views/0/constant/0 needs a name and exactly one value[x]');
    expect(refusal(encounters([{ column: [{ name: 'id', path: 'id' }] }], { constant: [{ name: 'c' }] }))).to.include('/views/0/constant/0 needs a name and exactly one value[x]');
    expect(refusal(encounters([{ column: [{ name: '1st', path: 'id' }] }]))).to.include('/views/0/select/0/column/0/name must match pattern');
    expect(refusal(encounters([{ unionAll: [{ column: [{ name: 'id', path: 'id', tag: [{ name: 'ansi/type' }] }] }] }])))
      .to.include('/views/0/select/0/unionAll/0/column/0/tag/0/value is required');
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
      const target = ref.slice(2).split('/').reduce<unknown>((node, key) => (node as Record<string, unknown> | undefined)?.[key], doc);
      expect(target, `${ref} resolves`).to.be.an('object');
    }
  });
});
