// A row-level extract under a k-anonymity policy: the gateway runs the policy-form query to completion and
// releases only rows whose equivalence class (same values in every quasi-identifying column) holds at least
// k rows with at least l distinct values in each sensitive column (Sweeney's k-anonymity; Machanavajjhala
// et al.'s distinct l-diversity). Pure. Which output column is what comes from the privacy tags of the
// tables the query reads, matched by name; a column that matches nothing known (an expression, a renamed
// column) is treated as quasi-identifying, because an unknown column could single a patient out.

import { checkKAnonymity } from '../../privacy/small-numbers';
import type { PrivacyTag } from '../../registry/data-product.entity';

export interface ExtractTables {
  /** Tags of the columns of the tables the query reads (table -> column -> tag). */
  tags: ReadonlyMap<string, Readonly<Record<string, PrivacyTag>>>;
}

export interface ProtectedExtract {
  rows: unknown[][];
  notes: string[];
  audit: Record<string, unknown>;
}

export function protectExtract(columns: readonly string[], rows: unknown[][], tables: ExtractTables, k: number, l: number): ProtectedExtract {
  const tagOf = (name: string): PrivacyTag | undefined => {
    const found = new Set<PrivacyTag>();
    for (const tags of tables.tags.values()) {
      const tag = tags[name.toLowerCase()];
      if (tag) found.add(tag);
    }
    // Two tables tagging the same name differently: the stricter reading wins.
    if (found.has('direct-identifier') || found.has('quasi-identifier')) return 'quasi-identifier';
    if (found.has('sensitive')) return 'sensitive';
    return found.has('none') ? 'none' : undefined;
  };
  const quasi: number[] = [];
  const sensitive: number[] = [];
  columns.forEach((name, i) => {
    const tag = tagOf(name);
    if (tag === 'sensitive') sensitive.push(i);
    else if (tag !== 'none') quasi.push(i);
  });
  const check = checkKAnonymity(rows, quasi, sensitive, k, l);
  const kept = rows.filter((_, i) => check.keep[i]);
  const named = (indexes: number[]): string => indexes.map((i) => columns[i]).join(', ') || 'none';
  return {
    rows: kept,
    notes: [
      `k-anonymity (k=${k}${l > 1 ? `, l=${l}` : ''}): rows are released only in groups of at least ${k} with the same ${named(quasi)}` +
        `${l > 1 && sensitive.length ? ` and at least ${l} different values of ${named(sensitive)}` : ''}; ` +
        `${check.suppressedRows} of ${rows.length} rows withheld (${check.failingClasses} of ${check.classes} groups)`,
    ],
    audit: {
      mode: 'row-level',
      k,
      l,
      quasiIdentifiers: quasi.map((i) => columns[i]),
      sensitive: sensitive.map((i) => columns[i]),
      rowsWithheld: check.suppressedRows,
    },
  };
}
