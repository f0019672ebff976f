import * as fs from 'node:fs';
import * as path from 'node:path';
import { expect } from 'chai';
import { breakingChanges, compareViews, viewColumns } from '../src/publishing/breaking-changes';
import { Publication, staticProblems } from '../src/publishing/publication';
import { validateViewDefinition } from '../src/publishing/view-validation';

const MAPPINGS = path.join(__dirname, '..', '..', 'sql-mappings');
const demoViews = fs
  .readdirSync(MAPPINGS)
  .filter((f) => f.endsWith('.json'))
  .map((f) => (JSON.parse(fs.readFileSync(path.join(MAPPINGS, f), 'utf8')) as { view: Record<string, unknown> }).view);

function encounters(extra: Record<string, unknown>[] = []): Record<string, unknown> {
  return {
    resourceType: 'ViewDefinition',
    name: 'enc',
    resource: 'Encounter',
    url: 'https://x/enc',
    fhirVersion: ['4.0.1'],
    select: [{ column: [{ name: 'id', path: 'getResourceKey()', type: 'id' }, { name: 'start', path: 'period.start', type: 'dateTime' }, ...extra] }],
  };
}

function publication(views: Record<string, unknown>[], privacy: Publication['privacy']): Publication {
  return { name: 'enc', domain: 'RX1', version: '1.0.0', lifecycle: 'published', views, privacy };
}

describe('publication: static checks', () => {
  it('every demo ViewDefinition validates clean', () => {
    expect(demoViews.length).to.be.greaterThan(5);
    for (const view of demoViews) expect(validateViewDefinition(view), String(view.name)).to.deep.equal([]);
  });

  it('names the column whose FHIRPath uses a function the connector does not implement', () => {
    const problems = validateViewDefinition(encounters([{ name: 'late', path: 'period.end.toDate()', type: 'date' }]));
    expect(problems).to.have.length(1);
    expect(problems[0]!.path).to.equal('/select/0/column/2/path');
    expect(problems[0]!.message).to.include("column 'late'").and.include("'toDate()'");
  });

  it('refuses unparseable FHIRPath, unknown resource types, undefined constants and duplicate columns', () => {
    expect(validateViewDefinition(encounters([{ name: 'x', path: 'period.(start', type: 'string' }]))[0]!.message)
      .to.include("column 'x'")
      .and.include('not valid FHIRPath');
    expect(validateViewDefinition({ ...encounters(), resource: 'Encountre' })[0]!.message).to.include('Encountre');
    expect(validateViewDefinition(encounters([{ name: 'c', path: '%missing', type: 'string' }]))[0]!.message).to.include('%missing');
    expect(validateViewDefinition(encounters([{ name: 'start', path: 'period.end', type: 'dateTime' }]))[0]!.message).to.include("'start' is defined twice");
  });

  it('refuses column types the connector cannot map', () => {
    expect(validateViewDefinition(encounters([{ name: 'when', path: 'period.end', type: 'dateTme' }]))[0]!.message).to.include("column 'when': type 'dateTme'");
    expect(validateViewDefinition(encounters([{ name: 'n', path: 'id', type: 'string', tag: [{ name: 'ansi/type', value: 'BLOB' }] }]))[0]!.message).to.include(
      "ansi/type 'BLOB'",
    );
  });

  it('refuses unionAll branches that disagree', () => {
    const view = {
      ...encounters(),
      select: [{ unionAll: [{ column: [{ name: 'a', path: 'id', type: 'id' }] }, { column: [{ name: 'b', path: 'id', type: 'id' }] }] }],
    };
    expect(
      validateViewDefinition(view)
        .map((p) => p.message)
        .join(),
    ).to.include('unionAll branch 1');
  });

  it('every column needs a privacy tag, and tags must name real columns', () => {
    expect(staticProblems(publication([encounters()], { enc: { id: 'none', start: 'quasi-identifier' } }))).to.deep.equal([]);
    const missing = staticProblems(publication([encounters()], { enc: { id: 'none' } }));
    expect(missing.map((p) => p.message).join()).to.include("'start' have no privacy tag");
    const stray = staticProblems(publication([encounters()], { enc: { id: 'none', start: 'none', nhs: 'direct-identifier' } }));
    expect(stray.map((p) => p.message).join()).to.include("no column(s) 'nhs'");
  });

  it('view names must be usable as table names', () => {
    const problems = staticProblems(publication([{ ...encounters(), name: 'Encounters' }], { Encounters: { id: 'none', start: 'none' } }));
    expect(problems.map((p) => p.message).join()).to.include('lower case');
  });
});

describe('publication: breaking changes', () => {
  it('lists output columns through nested selects and unionAll', () => {
    const view = {
      select: [
        { column: [{ name: 'id', type: 'id' }], select: [{ forEach: 'x', column: [{ name: 'n', type: 'string' }] }] },
        { unionAll: [{ column: [{ name: 'u', type: 'code' }] }, { column: [{ name: 'u', type: 'code' }] }] },
      ],
    };
    expect(viewColumns(view)).to.deep.equal([
      { name: 'id', type: 'id' },
      { name: 'n', type: 'string' },
      { name: 'u', type: 'code' },
    ]);
  });

  it('adding a column is compatible; removing or retyping one, or a view, is not', () => {
    const v1 = encounters();
    expect(breakingChanges(compareViews([v1], [encounters([{ name: 'status', path: 'status', type: 'code' }])]))).to.deep.equal([]);
    const removed = { ...v1, select: [{ column: [{ name: 'id', path: 'getResourceKey()', type: 'id' }] }] };
    expect(breakingChanges(compareViews([v1], [removed]))).to.deep.equal(["view 'enc': column 'start' removed"]);
    const retyped = {
      ...v1,
      select: [
        {
          column: [
            { name: 'id', path: 'getResourceKey()', type: 'id' },
            { name: 'start', path: 'period.start', type: 'string' },
          ],
        },
      ],
    };
    expect(breakingChanges(compareViews([v1], [retyped]))).to.deep.equal(["view 'enc': column 'start' retyped from dateTime to string"]);
    expect(breakingChanges(compareViews([v1], [{ ...v1, name: 'other' }]))).to.deep.equal(["view 'enc' removed"]);
  });
});
