import { expect } from 'chai';
import { Publication } from '../src/publishing/publication';
import { canonicalPrettyJson, previousVersion, publicationContent, publicationDiff, StoredVersion, storedPublication } from '../src/publishing/version-diff';

const view = (columns: { name: string; type: string }[]) => ({
  resourceType: 'ViewDefinition',
  name: 'enc',
  resource: 'Encounter',
  select: [{ column: columns.map((c) => ({ ...c, path: c.name })) }],
});
const v1Columns = [
  { name: 'id', type: 'id' },
  { name: 'class_code', type: 'code' },
];
const stored = (version: string, lifecycle: string, columns = v1Columns): StoredVersion => {
  const [major, minor, patch] = version.split('.').map(Number) as [number, number, number];
  return {
    version,
    major,
    minor,
    patch,
    lifecycle,
    views: [view(columns)],
    columnTags: { enc: Object.fromEntries(columns.map((c) => [c.name, 'none'])) } as StoredVersion['columnTags'],
    sources: ['RX1'],
    sla: { freshnessHours: 24, availabilityPercent: 99 },
  };
};
const publication = (version: string, columns: { name: string; type: string }[]): Publication => ({
  name: 'enc',
  domain: 'RX1',
  version,
  lifecycle: 'published',
  views: [view(columns)],
  privacy: { enc: Object.fromEntries(columns.map((c) => [c.name, 'none'])) } as Publication['privacy'],
});

describe('version diff: what a new data product version changes', () => {
  it('compares with the newest published or deprecated version, else the newest of any lifecycle, never itself', () => {
    const versions = [stored('1.0.0', 'deprecated'), stored('1.1.0', 'published'), stored('1.2.0', 'draft'), stored('2.0.0', 'retired')];
    expect(previousVersion(versions, '1.3.0')?.version).to.equal('1.1.0');
    expect(previousVersion([stored('1.0.0', 'deprecated'), stored('1.1.0', 'retired')], '1.2.0')?.version).to.equal('1.0.0');
    expect(previousVersion([stored('1.0.0', 'draft'), stored('1.1.0', 'draft')], '1.2.0')?.version).to.equal('1.1.0');
    expect(previousVersion([stored('1.0.0', 'published')], '1.0.0')).to.equal(undefined);
    expect(previousVersion([], '1.0.0')).to.equal(undefined);
  });

  it('a first version diffs as the empty string; the same content as the empty string too', () => {
    const next = { version: '1.0.0', content: publicationContent(publication('1.0.0', v1Columns), '') };
    expect(publicationDiff(undefined, next, 'enc')).to.equal('');
    const before = { version: '1.0.0', content: publicationContent(storedPublication('enc', 'RX1', '', stored('1.0.0', 'published')), '') };
    expect(publicationDiff(before, { version: '1.0.1', content: publicationContent(publication('1.0.1', v1Columns), '') }, 'enc')).to.equal('');
  });

  it('an added column shows as added lines of the view and its privacy tag, under a header naming both versions', () => {
    const before = { version: '1.0.0', content: publicationContent(storedPublication('enc', 'RX1', 'Encounters', stored('1.0.0', 'published')), 'Encounters') };
    const after = {
      version: '1.1.0',
      content: publicationContent(publication('1.1.0', [...v1Columns, { name: 'period_end', type: 'dateTime' }]), 'Encounters'),
    };
    const diff = publicationDiff(before, after, 'enc');
    expect(diff).to.include('--- enc@1.0.0').and.include('+++ enc@1.1.0');
    const added = diff.split('\n').filter((l) => l.startsWith('+') && !l.startsWith('+++'));
    expect(added.join('\n')).to.include('"name": "period_end"').and.include('"period_end": "none"').and.include('"type": "dateTime"');
    // Nothing removed: a line shown as removed only gained a comma (JSON's separator before the added key).
    const removed = diff.split('\n').filter((l) => l.startsWith('-') && !l.startsWith('---'));
    for (const line of removed) expect(added, line).to.include(`+${line.slice(1)},`);
  });

  it('is canonical: key order in the request does not show as a change', () => {
    const a = { b: 1, a: { d: [1, { z: 1, y: 2 }], c: 'x' } };
    const b = { a: { c: 'x', d: [1, { y: 2, z: 1 }] }, b: 1 };
    expect(canonicalPrettyJson(a)).to.equal(canonicalPrettyJson(b));
    expect(canonicalPrettyJson(a)).to.equal(
      '{\n  "a": {\n    "c": "x",\n    "d": [\n      1,\n      {\n        "y": 2,\n        "z": 1\n      }\n    ]\n  },\n  "b": 1\n}\n',
    );
  });

  it('fills in the defaults publishing applies, so omitting them is no change', () => {
    const content = publicationContent(publication('1.0.0', v1Columns), 'Encounters');
    expect(content).to.deep.include({ description: 'Encounters', sources: ['RX1'], sla: { freshnessHours: 24, availabilityPercent: 99 } });
    expect(content).to.not.have.property('version');
    expect(content).to.not.have.property('lifecycle');
  });
});
