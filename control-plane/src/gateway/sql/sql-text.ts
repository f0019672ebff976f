// Writing names and values into SQL text the way Trino reads them back. Pure.

/** A delimited identifier: `"` doubled inside, so any name (quotes, dots, case) stays one identifier. */
export function quoteIdentifier(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** A string literal: `'` doubled inside. */
export function quoteString(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}
