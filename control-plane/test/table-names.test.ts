import { expect } from 'chai';
import { claimConflicts, heldTables, TableClaim, versionedName, versionTables } from '../src/publishing/table-names';

const names: Record<string, string> = { A: 'gp_encounters', B: 'squatter' };
const nameOf = (id: string): string => names[id]!;
const claims = (productId: string, view: string, majors: number[]): TableClaim[] => [
  { tableName: view, productId, viewName: view },
  ...majors.map((m) => ({ tableName: `${view}_v${m}`, productId, viewName: view })),
];
const views = (...n: string[]) => n.map((name) => ({ name }));

describe('table names: who may claim <view> and <view>_v<N>', () => {
  it('a view serves as <view> and <view>_v<major>; `_v<N>` parses only as a version suffix', () => {
    expect(versionTables(views('enc'), 3)).to.deep.equal([
      { table: 'enc', view: 'enc' },
      { table: 'enc_v3', view: 'enc' },
    ]);
    expect(versionedName('gp_encounters_v3')).to.deep.equal({ view: 'gp_encounters', major: 3 });
    expect(versionedName('a_v1_v2')).to.deep.equal({ view: 'a_v1', major: 2 });
    expect(versionedName('survey_v')).to.equal(undefined);
    expect(versionedName('survey_v03')).to.equal(undefined);
  });

  it('only published and deprecated versions hold names; drafts and retired versions release theirs', () => {
    const held = heldTables([
      { lifecycle: 'retired', major: 1, views: views('enc') },
      { lifecycle: 'deprecated', major: 2, views: views('enc') },
      { lifecycle: 'published', major: 3, views: views('enc', 'obs') },
      { lifecycle: 'draft', major: 4, views: views('enc') },
    ]).map((t) => t.table);
    expect(held).to.deep.equal(['enc', 'enc_v2', 'enc_v3', 'obs', 'obs_v3']);
  });

  it('another product may not take <view>_v<N> of a view it does not own, even before that major exists', () => {
    const existing = claims('A', 'gp_encounters', [1, 2]);
    const problems = claimConflicts('B', versionTables(views('gp_encounters_v3'), 1), existing, nameOf);
    expect(problems).to.have.length(1);
    expect(problems[0])
      .to.include("'gp_encounters_v3' is reserved for data product 'gp_encounters'")
      .and.include('names <view>_v<N> belong to the product that owns <view>');
  });

  it("the owner's next majors are free, and a plain name another product holds is named", () => {
    expect(claimConflicts('A', versionTables(views('gp_encounters'), 3), claims('A', 'gp_encounters', [1, 2]), nameOf)).to.deep.equal([]);
    const taken = claimConflicts('B', versionTables(views('gp_encounters'), 1), claims('A', 'gp_encounters', [1]), nameOf);
    expect(taken.join()).to.include("'gp_encounters' already belongs to data product 'gp_encounters'");
  });

  it('a new view whose versioned names another product already holds is refused (it would collide at that major)', () => {
    const problems = claimConflicts('A', versionTables(views('survey'), 1), claims('B', 'survey_v3', [1]), nameOf);
    expect(problems.join()).to.include("view name 'survey' cannot be used").and.include("'survey_v3'").and.include("'squatter'");
  });

  it("a product's own views may not meet on one name across versions", () => {
    const problems = claimConflicts('A', [...versionTables(views('enc'), 2), ...versionTables(views('enc_v2'), 2)], [], nameOf);
    expect(problems.join()).to.include("'enc_v2' would be served for both view 'enc' and view 'enc_v2'");
    const held = claimConflicts('A', versionTables(views('enc'), 2), claims('A', 'enc_v2', [1]), nameOf);
    expect(held.join()).to.include("'enc_v2' is already served for view 'enc_v2' of this product");
  });

  it('names like constructor and __proto__ are ordinary names', () => {
    expect(claimConflicts('B', versionTables(views('constructor'), 1), claims('A', 'gp_encounters', [1]), nameOf)).to.deep.equal([]);
    expect(claimConflicts('B', versionTables(views('constructor_v2'), 1), claims('A', 'constructor', [1]), nameOf).join()).to.include(
      'reserved for data product',
    );
  });
});
