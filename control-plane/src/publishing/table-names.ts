// Which Trino table names a data product holds, and who may claim a name. Each view serves as `<view>`
// and `<view>_v<major>`, so a name of the form `<view>_v<N>` belongs to the product that owns `<view>`:
// otherwise another owner could take `<view>_v3` early and block that product's third major for good.

export interface TableClaim {
  tableName: string;
  productId: string;
  viewName: string;
}
export interface WantedTable {
  table: string;
  view: string;
}
export interface VersionForClaims {
  lifecycle: string;
  major: number;
  views: readonly { name?: unknown }[];
}

/** Lifecycles whose tables Trino serves; only they hold names (drafts and retired versions hold none). */
const HOLDING = new Set(['published', 'deprecated']);

/** The tables a version's views become: `<view>` and `<view>_v<major>`. */
export function versionTables(views: readonly { name?: unknown }[], major: number): WantedTable[] {
  return views
    .flatMap((v) => [
      { table: String(v.name), view: String(v.name) },
      { table: `${String(v.name)}_v${major}`, view: String(v.name) },
    ])
    .sort((a, b) => a.table.localeCompare(b.table));
}

/** `condition_v2` -> {view: 'condition', major: 2}; undefined for a name without a `_v<N>` suffix. */
export function versionedName(table: string): { view: string; major: number } | undefined {
  const match = /^(.+)_v(0|[1-9][0-9]*)$/.exec(table);
  return match ? { view: match[1]!, major: Number(match[2]) } : undefined;
}

/** The names a product must hold: those of its published and deprecated versions, each once. */
export function heldTables(versions: readonly VersionForClaims[]): WantedTable[] {
  const held = new Map<string, WantedTable>();
  for (const v of versions) {
    if (!HOLDING.has(v.lifecycle)) continue;
    for (const t of versionTables(v.views, v.major)) if (!held.has(t.table)) held.set(t.table, t);
  }
  return [...held.values()].sort((a, b) => a.table.localeCompare(b.table));
}

/**
 * Why `productId` may not take `wanted` given everyone's current claims, one sentence per name; empty when
 * it may. `productName` names a claim's holder for the message.
 */
export function claimConflicts(
  productId: string,
  wanted: readonly WantedTable[],
  claims: readonly TableClaim[],
  productName: (productId: string) => string,
): string[] {
  const byTable = new Map(claims.map((c) => [c.tableName, c]));
  const problems: string[] = [];
  const seen = new Map<string, string>();
  for (const { table, view } of wanted) {
    // Two of the product's own views meeting on one name (`a_v2` the view, and view `a` at major 2).
    const other = seen.get(table);
    if (other !== undefined && other !== view) {
      problems.push(
        `table name '${table}' would be served for both view '${other}' and view '${view}' of this product; rename view '${table === other ? other : view}'`,
      );
      continue;
    }
    seen.set(table, view);
    const holder = byTable.get(table);
    if (holder && holder.productId !== productId) {
      problems.push(`table name '${table}' already belongs to data product '${productName(holder.productId)}'; rename view '${view}'`);
      continue;
    }
    if (holder && holder.viewName !== view) {
      problems.push(`table name '${table}' is already served for view '${holder.viewName}' of this product; rename view '${view}'`);
      continue;
    }
    const versioned = versionedName(table);
    const owner = versioned && table === view ? byTable.get(versioned.view) : undefined;
    if (owner && owner.productId !== productId) {
      problems.push(
        `table name '${table}' is reserved for data product '${productName(owner.productId)}', which owns view '${versioned!.view}': ` +
          `names <view>_v<N> belong to the product that owns <view>; rename view '${view}'`,
      );
      continue;
    }
    // A new plain name whose versioned names another product already holds would collide at some major.
    if (table === view && !holder) {
      const squatted = claims.filter((c) => c.productId !== productId && versionedName(c.tableName)?.view === view);
      if (squatted.length) {
        problems.push(
          `view name '${view}' cannot be used: its versioned table name(s) ${squatted.map((c) => `'${c.tableName}'`).join(', ')} ` +
            `belong to data product '${productName(squatted[0]!.productId)}' (names <view>_v<N> belong to the product that owns <view>)`,
        );
      }
    }
  }
  return problems;
}
