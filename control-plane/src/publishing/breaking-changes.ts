// Which columns a ViewDefinition produces, and what changed between two versions of a product's views:
// removed or retyped columns and removed views break consumers; added ones do not.

export interface ViewColumnLike {
  name: string;
  path?: string;
  type?: string;
}
export interface SelectLike {
  column?: ViewColumnLike[];
  select?: SelectLike[];
  unionAll?: SelectLike[];
  forEach?: string;
  forEachOrNull?: string;
}
export interface ViewLike {
  name?: string;
  select?: SelectLike[];
}

/** Output columns in order: a select's own columns, then its nested selects, then its unionAll (first branch). */
export function viewColumns(view: ViewLike): { name: string; type: string }[] {
  const out: { name: string; type: string }[] = [];
  const walk = (selects: SelectLike[] | undefined): void => {
    for (const s of selects ?? []) {
      for (const c of s.column ?? []) out.push({ name: c.name, type: c.type ?? '' });
      walk(s.select);
      if (s.unionAll?.length) walk([s.unionAll[0]!]);
    }
  };
  walk(view.select);
  return out;
}

export interface ViewDiff {
  removed: { view: string; column: string; type: string }[];
  retyped: { view: string; column: string; from: string; to: string }[];
  added: { view: string; column: string; type: string }[];
  removedViews: string[];
  addedViews: string[];
}

export function compareViews(before: ViewLike[], after: ViewLike[]): ViewDiff {
  const diff: ViewDiff = { removed: [], retyped: [], added: [], removedViews: [], addedViews: [] };
  const afterByName = new Map(after.map((v) => [String(v.name), v]));
  const beforeNames = new Set(before.map((v) => String(v.name)));
  for (const old of before) {
    const name = String(old.name);
    const next = afterByName.get(name);
    if (!next) {
      diff.removedViews.push(name);
      continue;
    }
    const newColumns = new Map(viewColumns(next).map((c) => [c.name, c.type]));
    const oldColumns = viewColumns(old);
    for (const c of oldColumns) {
      const type = newColumns.get(c.name);
      if (type === undefined) diff.removed.push({ view: name, column: c.name, type: c.type });
      else if (type !== c.type) diff.retyped.push({ view: name, column: c.name, from: c.type, to: type });
    }
    const oldNames = new Set(oldColumns.map((c) => c.name));
    for (const [column, type] of newColumns) if (!oldNames.has(column)) diff.added.push({ view: name, column, type });
  }
  for (const v of after) if (!beforeNames.has(String(v.name))) diff.addedViews.push(String(v.name));
  return diff;
}

/** Readable reasons a diff breaks consumers; empty when it only adds. */
export function breakingChanges(diff: ViewDiff): string[] {
  return [
    ...diff.removedViews.map((v) => `view '${v}' removed`),
    ...diff.removed.map((c) => `view '${c.view}': column '${c.column}' removed`),
    ...diff.retyped.map((c) => `view '${c.view}': column '${c.column}' retyped from ${c.from} to ${c.to}`),
  ];
}
