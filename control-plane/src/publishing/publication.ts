// A data product publication as published (connector-spec/api/data-product.schema.json), and the
// checks on it that need no server: ViewDefinitions, table names, privacy tags.
import { hasOwnKey, ownValue } from '../own-property';
import { PrivacyTag } from '../registry/data-product.entity';
import { viewColumns } from './breaking-changes';
import { ViewProblem, validateViewDefinition } from './view-validation';

export interface Publication {
  name: string;
  domain: string;
  version: string;
  description?: string;
  lifecycle: 'draft' | 'published';
  sources?: string[];
  sla?: { freshnessHours?: number; availabilityPercent?: number };
  views: Record<string, unknown>[];
  privacy: Record<string, Record<string, PrivacyTag>>;
}

export interface SemVer {
  major: number;
  minor: number;
  patch: number;
}

export function parseVersion(version: string): SemVer {
  const [major, minor, patch] = version.split('.').map(Number);
  return { major: major!, minor: minor!, patch: patch! };
}

/** Problems a publication has before any server is asked; empty when it may proceed. */
export function staticProblems(p: Publication): ViewProblem[] {
  const problems: ViewProblem[] = [];
  const names = new Set<string>();
  p.views.forEach((view, i) => {
    for (const problem of validateViewDefinition(view)) problems.push({ path: `/views/${i}${problem.path}`, message: problem.message });
    const name = typeof view.name === 'string' ? view.name : '';
    // The view name becomes the table name (`<name>` and `<name>_v<major>`).
    if (!/^[a-z][a-z0-9_]{0,55}$/.test(name)) {
      problems.push({ path: `/views/${i}/name`, message: `view name '${name}' must be lower case letters, digits and underscores (it names the table)` });
    }
    if (names.has(name)) problems.push({ path: `/views/${i}/name`, message: `view name '${name}' is used twice in this product` });
    names.add(name);
  });
  if (problems.length) return problems;

  // Every column carries a privacy tag, and every tag names a real column: an untagged column could
  // carry an identifier nobody decided about.
  for (const view of p.views) {
    const name = String(view.name);
    // Own properties only: a view or column named `constructor` must not find Object.prototype's.
    const tags = ownValue(p.privacy, name) ?? {};
    const columns = viewColumns(view as never).map((c) => c.name);
    const untagged = columns.filter((c) => !hasOwnKey(tags, c));
    if (untagged.length)
      problems.push({
        path: `/privacy/${name}`,
        message: `view '${name}': column(s) ${untagged.map((c) => `'${c}'`).join(', ')} have no privacy tag (direct-identifier, quasi-identifier, sensitive or none)`,
      });
    const unknown = Object.keys(tags).filter((c) => !columns.includes(c));
    if (unknown.length)
      problems.push({ path: `/privacy/${name}`, message: `view '${name}' has no column(s) ${unknown.map((c) => `'${c}'`).join(', ')} to tag` });
  }
  for (const view of Object.keys(p.privacy)) {
    if (!names.has(view)) problems.push({ path: `/privacy/${view}`, message: `privacy tags for '${view}', which is not a view of this product` });
  }
  return problems;
}
