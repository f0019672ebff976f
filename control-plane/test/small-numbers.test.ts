// Small-number suppression (NHS rule), secondary suppression against recovery from margins, k-anonymity and
// l-diversity. The adversary is exact linear algebra over the row, column and grand totals, written
// independently of the library's graph argument.
import { expect } from 'chai';
import { seededRandom } from '../src/privacy/random-source';
import { type Cell, checkKAnonymity, NHS_SUPPRESSION, roundCount, suppressTable } from '../src/privacy/small-numbers';

describe('privacy: NHS small-number rule', function () {
  this.timeout(120_000); // statistical runs: seconds on a loaded machine
  it('suppresses 1..7, keeps 0, rounds the rest to the nearest 5 (halves up)', () => {
    const expected: [number, number | null][] = [
      [0, 0],
      [1, null],
      [5, null],
      [7, null],
      [8, 10],
      [10, 10],
      [12, 10],
      [13, 15],
      [17, 15],
      [18, 20],
      [22, 20],
      [23, 25],
      [1002, 1000],
      [1003, 1005],
    ];
    for (const [count, published] of expected) expect(roundCount(count, NHS_SUPPRESSION), String(count)).to.equal(published);
  });

  it('takes other rules and refuses bad ones by name', () => {
    expect(roundCount(10, { threshold: 9, roundTo: 10 })).to.equal(10);
    expect(roundCount(15, { threshold: 9, roundTo: 10 })).to.equal(20);
    expect(roundCount(3, { threshold: 2, roundTo: 1 })).to.equal(3);
    expect(() => roundCount(-1, NHS_SUPPRESSION)).to.throw(/count must be an integer ≥ 0/);
    expect(() => roundCount(2.5, NHS_SUPPRESSION)).to.throw(/count/);
    expect(() => roundCount(10, { threshold: -1, roundTo: 5 })).to.throw(/rule.threshold/);
    expect(() => roundCount(10, { threshold: 7, roundTo: 0 })).to.throw(/rule.roundTo/);
    // 3 would round to 0 and claim there are none.
    expect(() => roundCount(10, { threshold: 2, roundTo: 10 })).to.throw(/round to 0/);
  });
});

/** Whether suppressed cell j's count follows exactly from the published cells and every line total (rank test). */
function determinedByTotals(cells: readonly Cell[], suppressed: readonly boolean[], j: number): boolean {
  const hidden = cells.flatMap((_, i) => (suppressed[i] ? [i] : []));
  const lines = new Map<string, number[]>([['grand', hidden]]);
  for (const i of hidden) {
    cells[i]!.keys.forEach((key, d) => {
      const id = `${d}:${key}`;
      lines.set(id, [...(lines.get(id) ?? []), i]);
    });
  }
  const equations = [...lines.values()].map((members) => hidden.map((i) => (members.includes(i) ? 1n : 0n)));
  const unit = hidden.map((i) => (i === j ? 1n : 0n));
  return rank([...equations, unit]) === rank(equations);
}

/** Rank over the rationals by fraction-free Gaussian elimination on bigints. */
function rank(matrix: bigint[][]): number {
  const m = matrix.map((row) => [...row]);
  let r = 0;
  const width = m[0]?.length ?? 0;
  for (let col = 0; col < width && r < m.length; col++) {
    const pivot = m.findIndex((row, i) => i >= r && row[col] !== 0n);
    if (pivot < 0) continue;
    [m[r], m[pivot]] = [m[pivot]!, m[r]!];
    for (let i = 0; i < m.length; i++) {
      if (i === r || m[i]![col] === 0n) continue;
      const factor = m[i]![col]!;
      const p = m[r]![col]!;
      m[i] = m[i]!.map((v, k) => v * p - m[r]![k]! * factor);
    }
    r++;
  }
  return r;
}

function grid(rows: Record<string, number[]>, columns: string[]): Cell[] {
  return Object.entries(rows).flatMap(([row, counts]) => counts.map((count, c) => ({ keys: [row, columns[c]!], count })));
}

function suppressedKeys(cells: readonly Cell[], suppressed: readonly boolean[]): string[] {
  return cells.flatMap((c, i) => (suppressed[i] ? [c.keys.join('/')] : [])).sort();
}

describe('privacy: secondary suppression', function () {
  this.timeout(120_000); // statistical runs: seconds on a loaded machine
  it('1-D: one small cell takes the smallest non-zero cell with it', () => {
    const cells: Cell[] = [
      { keys: ['A'], count: 3 },
      { keys: ['B'], count: 0 },
      { keys: ['C'], count: 50 },
      { keys: ['D'], count: 20 },
    ];
    const result = suppressTable(cells, NHS_SUPPRESSION);
    expect(result.primary).to.deep.equal([true, false, false, false]);
    expect(result.suppressed).to.deep.equal([true, false, false, true]);
    expect(result.exposed).to.deep.equal([]);
  });

  it('1-D: two small cells protect each other; a zero is taken only as the last resort; one cell alone is exposed', () => {
    const two = suppressTable(
      [
        { keys: ['A'], count: 3 },
        { keys: ['B'], count: 6 },
        { keys: ['C'], count: 40 },
      ],
      NHS_SUPPRESSION,
    );
    expect(two.suppressed).to.deep.equal([true, true, false]);
    expect(
      suppressTable(
        [
          { keys: ['A'], count: 3 },
          { keys: ['B'], count: 0 },
        ],
        NHS_SUPPRESSION,
      ).suppressed,
    ).to.deep.equal([true, true]);
    const alone = suppressTable([{ keys: ['A'], count: 4 }], NHS_SUPPRESSION);
    expect(alone).to.deep.equal({ suppressed: [true], primary: [true], exposed: [0] });
    expect(suppressTable([], NHS_SUPPRESSION)).to.deep.equal({ suppressed: [], primary: [], exposed: [] });
  });

  it('2-D: one small cell becomes a rectangle of four, none recoverable', () => {
    const cells = grid({ x: [5, 40, 30], y: [20, 12, 50], z: [60, 70, 80] }, ['p', 'q', 'r']);
    const { suppressed, primary, exposed } = suppressTable(cells, NHS_SUPPRESSION);
    expect(primary.filter(Boolean).length).to.equal(1);
    expect(suppressedKeys(cells, suppressed)).to.deep.equal(['x/p', 'x/r', 'y/p', 'y/r']);
    expect(exposed).to.deep.equal([]);
    for (const [i, cell] of cells.entries()) {
      if (suppressed[i]) expect(determinedByTotals(cells, suppressed, i), cell.keys.join('/')).to.equal(false);
    }
  });

  it('2-D: no row or column is left with exactly one suppressed cell', () => {
    const cells = grid({ a: [2, 9, 40, 0], b: [30, 3, 25, 14], c: [8, 60, 0, 6], d: [90, 15, 11, 70] }, ['w', 'x', 'y', 'z']);
    const { suppressed } = suppressTable(cells, NHS_SUPPRESSION);
    for (const d of [0, 1]) {
      for (const key of new Set(cells.map((c) => c.keys[d]!))) {
        const n = cells.filter((c, i) => c.keys[d] === key && suppressed[i]).length;
        expect(n, `${d ? 'column' : 'row'} ${key}`).to.not.equal(1);
      }
    }
  });

  it('2-D: two blocks of small cells joined by one small cell: every line has two, yet the margins give it away unless a cycle is added', () => {
    // Rows r1, r2 × columns c1, c2 and rows r3, r4 × columns c3, c4 are all small, and so is r2/c3.
    const cells = grid({ r1: [3, 4, 50, 60], r2: [5, 6, 7, 70], r3: [80, 90, 2, 3], r4: [100, 110, 4, 5] }, ['c1', 'c2', 'c3', 'c4']);
    const bridge = cells.findIndex((c) => c.keys.join('/') === 'r2/c3');
    const { suppressed, primary } = suppressTable(cells, NHS_SUPPRESSION);
    // Primary suppression alone passes the "two per line" test but r2/c3 = (r1 + r2 totals) − (c1 + c2 totals).
    expect(determinedByTotals(cells, primary, bridge)).to.equal(true);
    expect(suppressed.filter(Boolean).length).to.be.above(primary.filter(Boolean).length);
    for (const [i, cell] of cells.entries()) {
      if (suppressed[i]) expect(determinedByTotals(cells, suppressed, i), cell.keys.join('/')).to.equal(false);
    }
  });

  it('2-D: a small cell alone in its column is reported as exposed (its column total is the cell), nothing else is hidden for it', () => {
    const cells: Cell[] = [
      { keys: ['a', 'x'], count: 40 },
      { keys: ['a', 'y'], count: 3 },
      { keys: ['b', 'x'], count: 25 },
    ];
    const { suppressed, exposed } = suppressTable(cells, NHS_SUPPRESSION);
    expect(suppressed).to.deep.equal([false, true, false]);
    expect(exposed).to.deep.equal([1]);
    // A cell alone in its column is no use as a complement: row a's small cell takes a/y (9), not the smaller a/z (8).
    const withLoneCandidate = suppressTable(grid({ a: [3, 9, 40], b: [30, 20, 0] }, ['x', 'y', 'w']).concat([{ keys: ['a', 'z'], count: 8 }]), NHS_SUPPRESSION);
    expect(withLoneCandidate.suppressed).to.deep.equal([true, true, false, true, true, false, false]);
    expect(withLoneCandidate.exposed).to.deep.equal([]);
  });

  it('the result does not depend on the order of the cells', () => {
    const cells = grid({ a: [2, 9, 40, 9], b: [30, 3, 25, 14], c: [8, 60, 10, 6] }, ['w', 'x', 'y', 'z']);
    const forwards = suppressTable(cells, NHS_SUPPRESSION);
    const reversed = [...cells].reverse();
    const backwards = suppressTable(reversed, NHS_SUPPRESSION);
    expect(suppressedKeys(reversed, backwards.suppressed)).to.deep.equal(suppressedKeys(cells, forwards.suppressed));
  });

  it('refuses malformed tables', () => {
    expect(() => suppressTable([{ keys: ['a', 'b', 'c'], count: 1 }], NHS_SUPPRESSION)).to.throw(/1 or 2 dimensions/);
    expect(() =>
      suppressTable(
        [
          { keys: ['a', 'b'], count: 1 },
          { keys: ['a'], count: 1 },
        ],
        NHS_SUPPRESSION,
      ),
    ).to.throw(/cell 1 must have 2 string keys/);
    expect(() => suppressTable([{ keys: ['a'], count: -2 }], NHS_SUPPRESSION)).to.throw(/cell 0's count/);
  });

  it('adversary: in 200 random complete tables no suppressed cell follows from the totals; in 100 sparse ones exactly the reported cells do', () => {
    const rng = seededRandom('suppression adversary');
    const pick = (n: number): number => Number(rng.below(BigInt(n)));
    const randomCount = (): number => {
      const kind = pick(20);
      return kind < 5 ? 1 + pick(7) : kind < 8 ? 0 : 8 + pick(300);
    };
    let primaryCells = 0;
    let secondaryCells = 0;
    for (let t = 0; t < 300; t++) {
      const complete = t < 200;
      const rows = 2 + pick(5);
      const columns = 2 + pick(5);
      const cells: Cell[] = [];
      for (let r = 0; r < rows; r++) {
        for (let c = 0; c < columns; c++) if (complete || pick(10) < 7) cells.push({ keys: [`r${r}`, `c${c}`], count: randomCount() });
      }
      const { suppressed, primary, exposed } = suppressTable(cells, NHS_SUPPRESSION);
      cells.forEach((cell, i) => {
        expect(primary[i], 'primary').to.equal(cell.count >= 1 && cell.count <= 7);
        if (primary[i]) expect(suppressed[i]).to.equal(true);
      });
      const determined = cells.flatMap((_, i) => (suppressed[i] && determinedByTotals(cells, suppressed, i) ? [i] : []));
      expect(determined, `table ${t}: ${JSON.stringify(cells)}`).to.deep.equal(exposed);
      if (complete) {
        expect(exposed, `table ${t}`).to.deep.equal([]);
        // The criterion follows: every row and column holding a suppressed cell holds at least two.
        for (const d of [0, 1]) {
          for (const key of new Set(cells.map((c) => c.keys[d]!))) {
            const n = cells.filter((c, i) => c.keys[d] === key && suppressed[i]).length;
            expect(n, `table ${t}, ${d ? 'column' : 'row'} ${key}`).to.not.equal(1);
          }
        }
        primaryCells += primary.filter(Boolean).length;
        secondaryCells += suppressed.filter(Boolean).length - primary.filter(Boolean).length;
      }
    }
    expect(primaryCells).to.be.above(0);
    expect(secondaryCells).to.be.above(0);
  });
});

describe('privacy: k-anonymity and l-diversity', function () {
  this.timeout(120_000); // statistical runs: seconds on a loaded machine
  // [age band, sex, postcode district, diagnosis, ethnicity]
  const rows: unknown[][] = [
    ['40-49', 'F', 'LS1', 'I63', 'A'],
    ['40-49', 'F', 'LS1', 'I61', 'B'],
    ['40-49', 'F', 'LS1', 'I63', 'A'],
    ['50-59', 'M', 'LS2', 'I63', 'A'],
    ['50-59', 'M', 'LS2', 'I63', 'B'],
    ['50-59', 'M', 'LS2', 'I63', 'C'],
    [null, 'M', 'LS2', 'I10', 'A'],
    [null, 'M', 'LS2', 'I11', 'B'],
    [null, 'M', 'LS2', null, 'C'],
    ['60-69', 'F', 'LS3', 'J45', 'A'],
  ];
  const quasi = [0, 1, 2];

  it('k = 3: classes of fewer than 3 rows are withheld; nulls form a class of their own', () => {
    const result = checkKAnonymity(rows, quasi, [], 3, 1);
    expect(result.classes).to.equal(4);
    expect(result.failingClasses).to.equal(1);
    expect(result.suppressedRows).to.equal(1);
    expect(result.keep).to.deep.equal([true, true, true, true, true, true, true, true, true, false]);
  });

  it('l = 2 on the diagnosis withholds a class where everyone has I63 (a homogeneity attack)', () => {
    const result = checkKAnonymity(rows, quasi, [3], 3, 2);
    expect(result.failingClasses).to.equal(2);
    expect(result.keep).to.deep.equal([true, true, true, false, false, false, true, true, true, false]);
  });

  it('nulls in a sensitive column do not count towards l; each sensitive column must be diverse', () => {
    // The null-age class has I10, I11 and one null: 2 distinct diagnoses, not 3.
    expect(checkKAnonymity(rows, quasi, [3], 3, 3).keep.slice(6, 9)).to.deep.equal([false, false, false]);
    expect(checkKAnonymity(rows, quasi, [3, 4], 3, 2).keep).to.deep.equal([true, true, true, false, false, false, true, true, true, false]);
    expect(checkKAnonymity(rows, quasi, [4], 3, 3).keep).to.deep.equal([false, false, false, true, true, true, true, true, true, false]);
  });

  it('distinguishes types: the string "1" is not the number 1, null is not "null"', () => {
    const typed = [[1], ['1'], [null], ['null'], [undefined]];
    const result = checkKAnonymity(typed, [0], [], 1, 1);
    expect(result.classes).to.equal(4);
  });

  it('refuses bad parameters', () => {
    expect(() => checkKAnonymity(rows, quasi, [], 0, 1)).to.throw(/k must be an integer ≥ 1/);
    expect(() => checkKAnonymity(rows, quasi, [], 2, 0)).to.throw(/l must be an integer ≥ 1/);
    expect(() => checkKAnonymity(rows, [7], [], 2, 1)).to.throw(/quasi-identifier column 7/);
    expect(() => checkKAnonymity(rows, quasi, [-1], 2, 1)).to.throw(/sensitive column -1/);
  });
});
