// Statistical disclosure control without noise: the NHS small-number rule, secondary suppression of frequency
// tables, and k-anonymity / l-diversity of row-level extracts. Pure. Sources: ../shared/notes/privacy.md §3.

export interface SuppressionRule {
  /** Counts 1..threshold are suppressed. */
  threshold: number;
  /** Other non-zero counts are rounded to the nearest multiple of this. */
  roundTo: number;
}

/**
 * NHS England's rule for HES/ECDS outputs since 2018, also OpenSAFELY's default: counts of 1 to 7 are
 * suppressed, all others rounded to the nearest 5, and 0 is published as 0.
 */
export const NHS_SUPPRESSION: SuppressionRule = Object.freeze({ threshold: 7, roundTo: 5 });

/**
 * A count as it may be published: 0 stays 0, 1..threshold is suppressed (null), others are rounded half away
 * from zero to a multiple of roundTo (the NHS rule: 8 → 10, 12 → 10, 13 → 15).
 */
export function roundCount(count: number, rule: SuppressionRule): number | null {
  checkRule(rule);
  checkCount(count, 'count');
  if (count === 0) return 0;
  if (count <= rule.threshold) return null;
  const remainder = count % rule.roundTo;
  return count - remainder + (2 * remainder >= rule.roundTo ? rule.roundTo : 0);
}

/** One cell of a frequency table of one dimension (keys = [value]) or two (keys = [row, column]). */
export interface Cell {
  keys: readonly string[];
  count: number;
}

export interface TableSuppression {
  /** Per cell: withheld (primary or secondary). */
  suppressed: boolean[];
  /** Per cell: withheld because its count is 1..threshold. */
  primary: boolean[];
  /**
   * Indices of suppressed cells whose value still follows exactly from the row, column and grand totals,
   * because no cell could be added to protect them: a cell alone in its row or column (the total is the cell),
   * or a sparse 2-D table with no cell left to close a cycle. The caller should refuse such a table, or at
   * least never release those totals. A complete table (every row × column present) has none unless 1 × n.
   */
  exposed: number[];
}

/**
 * Primary suppression (counts 1..threshold), then secondary suppression so that no suppressed cell can be
 * computed exactly from the published cells and the exact row, column and grand totals (which an analyst can
 * always obtain with other queries). Lines are the whole table (1-D), or each row (cells sharing keys[0]) and
 * each column (cells sharing keys[1]) (2-D); cells may repeat a key pair (several cells in one row and column).
 *
 * Repeat until stable (Cox 1980 and the NHS/ONS practice of "complementary suppression"):
 * 1. every line with exactly one suppressed cell gets a second one: the preferred unsuppressed cell of the line,
 *    preferring a non-zero count (a suppressed 0 next to a small count can be seen through: the pair sums to at
 *    most threshold, so the zero must be 0), then the smallest count, then key order — deterministic. A cell alone
 *    in its crossing line is never taken: that line's total publishes it, so hiding it protects nothing;
 * 2. (2-D) a suppressed cell that lies on no cycle of suppressed cells (rows and columns as nodes, suppressed cells
 *    as edges) is still determined: summing the row and column totals on one side of it isolates it, even when
 *    every line holds two suppressed cells. Such a "bridge" gets a cycle by suppressing the preferred cell that
 *    joins its two sides. A suppressed cell is determined by the totals exactly when it is a bridge, since the
 *    kernel of a bipartite graph's incidence matrix is spanned by its cycles.
 * Rule chosen for a suppressed cell alone in its row or column: that total publishes it whatever else is hidden,
 * so it gets no complementary cells (they would be lost for nothing) and is reported in `exposed`.
 * The protection is against exact recovery; bounds (e.g. a suppressed primary cell is 1..threshold) stay known.
 */
export function suppressTable(cells: readonly Cell[], rule: SuppressionRule): TableSuppression {
  checkRule(rule);
  if (!Array.isArray(cells)) throw new TypeError('cells must be an array');
  const dimensions = cells[0]?.keys.length ?? 1;
  if (dimensions !== 1 && dimensions !== 2) throw new RangeError(`a table has 1 or 2 dimensions, got cells with ${dimensions} keys`);
  cells.forEach((c, i) => {
    if (!c || !Array.isArray(c.keys) || c.keys.length !== dimensions || c.keys.some((k: unknown) => typeof k !== 'string'))
      throw new RangeError(`cell ${i} must have ${dimensions} string key${dimensions > 1 ? 's' : ''}, like cell 0`);
    checkCount(c.count, `cell ${i}'s count`);
  });
  const primary = cells.map((c) => c.count >= 1 && c.count <= rule.threshold);
  const table = new Table(cells, dimensions);
  const suppressed = [...primary];
  const preferred = (candidates: number[]): number | undefined => candidates.sort((i, j) => table.preference(i, j))[0];

  for (let changed = true; changed; ) {
    changed = false;
    for (const line of table.lines) {
      const hidden = line.filter((i) => suppressed[i]);
      if (hidden.length !== 1 || table.alone(hidden[0]!)) continue;
      const complement = preferred(line.filter((i) => !suppressed[i] && !table.alone(i)));
      if (complement === undefined) continue;
      suppressed[complement] = true;
      changed = true;
    }
    if (changed || dimensions === 1) continue;
    for (const bridge of table.bridges(suppressed)) {
      const join = preferred(table.crossing(bridge, suppressed));
      if (join === undefined) continue;
      suppressed[join] = true;
      changed = true;
      break;
    }
  }
  const exposed =
    dimensions === 1 ? (suppressed.filter(Boolean).length === 1 ? [suppressed.indexOf(true)] : []) : [...table.bridges(suppressed)].sort((i, j) => i - j);
  return { suppressed, primary, exposed };
}

/** The lines of a table, and its suppressed cells as a graph on row and column nodes. */
class Table {
  readonly lines: number[][];
  /** Per cell, [row node, column node] (2-D); row nodes come first. */
  private readonly ends: [number, number][] = [];
  private readonly lineSize: number[] = [];
  private readonly nodes: number;

  constructor(
    private readonly cells: readonly Cell[],
    dimensions: number,
  ) {
    if (dimensions === 1) {
      this.lines = cells.length ? [cells.map((_, i) => i)] : [];
      this.nodes = 0;
      return;
    }
    const rows = [...new Set(cells.map((c) => c.keys[0]!))].sort(compareStrings);
    const columns = [...new Set(cells.map((c) => c.keys[1]!))].sort(compareStrings);
    const rowNode = new Map(rows.map((k, i) => [k, i]));
    const columnNode = new Map(columns.map((k, i) => [k, rows.length + i]));
    this.nodes = rows.length + columns.length;
    this.lines = Array.from({ length: this.nodes }, () => []);
    cells.forEach((c, i) => {
      const ends: [number, number] = [rowNode.get(c.keys[0]!)!, columnNode.get(c.keys[1]!)!];
      this.ends.push(ends);
      this.lines[ends[0]]!.push(i);
      this.lines[ends[1]]!.push(i);
    });
    for (const line of this.lines) this.lineSize.push(line.length);
  }

  /** Sort order of candidate cells, most preferred first (see suppressTable). */
  preference(i: number, j: number): number {
    const a = this.cells[i]!;
    const b = this.cells[j]!;
    return Number(a.count === 0) - Number(b.count === 0) || a.count - b.count || compareKeys(a.keys, b.keys) || i - j;
  }

  /** Whether a 2-D cell is the only cell of its row or of its column. */
  alone(i: number): boolean {
    const ends = this.ends[i];
    return ends !== undefined && (this.lineSize[ends[0]] === 1 || this.lineSize[ends[1]] === 1);
  }

  /** Suppressed cells on no cycle of suppressed cells (Tarjan's bridge-finding, iterative, multi-edges allowed). */
  bridges(suppressed: readonly boolean[]): Set<number> {
    const adjacency: [number, number][][] = Array.from({ length: this.nodes }, () => []);
    this.ends.forEach(([row, column], cell) => {
      if (!suppressed[cell]) return;
      adjacency[row]!.push([column, cell]);
      adjacency[column]!.push([row, cell]);
    });
    const discovered = new Array<number>(this.nodes).fill(-1);
    const low = new Array<number>(this.nodes).fill(0);
    const bridges = new Set<number>();
    let time = 0;
    for (let start = 0; start < this.nodes; start++) {
      if (discovered[start] !== -1 || adjacency[start]!.length === 0) continue;
      discovered[start] = low[start] = time++;
      const stack: { node: number; via: number; next: number }[] = [{ node: start, via: -1, next: 0 }];
      while (stack.length) {
        const frame = stack[stack.length - 1]!;
        const edges = adjacency[frame.node]!;
        if (frame.next < edges.length) {
          const [neighbour, cell] = edges[frame.next++]!;
          if (cell === frame.via) continue;
          if (discovered[neighbour] === -1) {
            discovered[neighbour] = low[neighbour] = time++;
            stack.push({ node: neighbour, via: cell, next: 0 });
          } else low[frame.node] = Math.min(low[frame.node]!, discovered[neighbour]!);
          continue;
        }
        stack.pop();
        const parent = stack[stack.length - 1];
        if (!parent) continue;
        low[parent.node] = Math.min(low[parent.node]!, low[frame.node]!);
        if (low[frame.node]! > discovered[parent.node]!) bridges.add(frame.via);
      }
    }
    return bridges;
  }

  /** Unsuppressed cells joining the two sides that the suppressed bridge cell separates. */
  crossing(bridge: number, suppressed: readonly boolean[]): number[] {
    const side = new Set<number>([this.ends[bridge]![0]]);
    const queue = [this.ends[bridge]![0]];
    const component = new Set<number>(this.ends[bridge]!);
    const reached = (node: number): void => {
      component.add(node);
      if (side.has(node)) return;
      side.add(node);
      queue.push(node);
    };
    // The bridge's row side: everything reachable from its row without the bridge.
    while (queue.length) {
      const node = queue.pop()!;
      for (const cell of this.lines[node]!) {
        if (!suppressed[cell] || cell === bridge) continue;
        const [row, column] = this.ends[cell]!;
        reached(node === row ? column : row);
      }
    }
    // The column side: the rest of the component.
    const other = [this.ends[bridge]![1]];
    while (other.length) {
      const node = other.pop()!;
      for (const cell of this.lines[node]!) {
        if (!suppressed[cell] || cell === bridge) continue;
        const [row, column] = this.ends[cell]!;
        const next = node === row ? column : row;
        if (!component.has(next)) {
          component.add(next);
          other.push(next);
        }
      }
    }
    return this.ends.flatMap(([row, column], cell) =>
      !suppressed[cell] && component.has(row) && component.has(column) && side.has(row) !== side.has(column) ? [cell] : [],
    );
  }
}

/**
 * k-anonymity (Sweeney 2002) with distinct l-diversity (Machanavajjhala et al. 2007) of a row-level extract.
 * Rows fall into equivalence classes by their quasi-identifier values (null and undefined are one value, so a
 * missing value is a class of its own); a class is released only when it has ≥ k rows and, for each sensitive
 * column, ≥ l distinct non-null values; the rows of other classes are withheld. Nulls do not count towards l
 * (rule chosen: "not recorded" is not a plausible alternative to hide a diagnosis among).
 */
export function checkKAnonymity(
  rows: readonly (readonly unknown[])[],
  quasiIdentifiers: readonly number[],
  sensitive: readonly number[],
  k: number,
  l: number,
): { keep: boolean[]; classes: number; failingClasses: number; suppressedRows: number } {
  if (!Array.isArray(rows)) throw new TypeError('rows must be an array of rows');
  if (!Number.isSafeInteger(k) || k < 1) throw new RangeError(`k must be an integer ≥ 1, got ${String(k)}`);
  if (!Number.isSafeInteger(l) || l < 1) throw new RangeError(`l must be an integer ≥ 1, got ${String(l)}`);
  const width = rows.reduce((w, r) => Math.min(w, Array.isArray(r) ? r.length : -1), Number.POSITIVE_INFINITY);
  if (width < 0) throw new TypeError('every row must be an array of column values');
  for (const [name, columns] of [
    ['quasi-identifier', quasiIdentifiers],
    ['sensitive', sensitive],
  ] as const) {
    for (const c of columns) {
      if (!Number.isSafeInteger(c) || c < 0 || (rows.length && c >= width)) throw new RangeError(`${name} column ${String(c)} is not a column of every row`);
    }
  }
  const classes = new Map<string, { rows: number[]; values: Set<string>[] }>();
  rows.forEach((row, i) => {
    const key = JSON.stringify(quasiIdentifiers.map((c) => valueKey(row[c])));
    const group = classes.get(key) ?? { rows: [], values: sensitive.map(() => new Set<string>()) };
    classes.set(key, group);
    group.rows.push(i);
    sensitive.forEach((c, s) => {
      const value = row[c];
      if (value !== null && value !== undefined) group.values[s]!.add(valueKey(value));
    });
  });
  const keep = rows.map(() => false);
  let failingClasses = 0;
  let suppressedRows = 0;
  for (const group of classes.values()) {
    if (group.rows.length >= k && group.values.every((v) => v.size >= l)) {
      for (const i of group.rows) keep[i] = true;
    } else {
      failingClasses++;
      suppressedRows += group.rows.length;
    }
  }
  return { keep, classes: classes.size, failingClasses, suppressedRows };
}

/** A value's identity for grouping: the type matters ('1' is not 1), null and undefined are one value. */
function valueKey(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'number' || typeof value === 'bigint') return `n:${String(value)}`;
  if (typeof value === 'string') return `s:${value}`;
  if (typeof value === 'boolean') return `b:${value}`;
  if (value instanceof Date) return `t:${value.toISOString()}`;
  return `j:${JSON.stringify(value)}`;
}

function checkRule(rule: SuppressionRule): void {
  if (!rule || !Number.isSafeInteger(rule.threshold) || rule.threshold < 0)
    throw new RangeError(`rule.threshold must be an integer ≥ 0, got ${String(rule?.threshold)}`);
  if (!Number.isSafeInteger(rule.roundTo) || rule.roundTo < 1) throw new RangeError(`rule.roundTo must be an integer ≥ 1, got ${String(rule.roundTo)}`);
  // The smallest published count, threshold + 1, must not round to 0 (a 0 would claim there are none).
  if (rule.roundTo > 2 * (rule.threshold + 1))
    throw new RangeError(
      `rule.roundTo (${rule.roundTo}) must be at most 2 × (threshold + 1) = ${2 * (rule.threshold + 1)}, or counts above the threshold would round to 0`,
    );
}

function checkCount(count: number, name: string): void {
  if (!Number.isSafeInteger(count) || count < 0) throw new RangeError(`${name} must be an integer ≥ 0, got ${String(count)}`);
}

function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function compareKeys(a: readonly string[], b: readonly string[]): number {
  for (let i = 0; i < a.length; i++) {
    const c = compareStrings(a[i]!, b[i]!);
    if (c) return c;
  }
  return 0;
}
