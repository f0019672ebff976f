// What a new version of a data product changes, shown before it is published: the unified diff of the
// previous version's publication against the new one, both as canonical pretty JSON (keys sorted at every
// level), so only real changes show and the same two versions always diff the same.
import { createTwoFilesPatch } from 'diff';
import { canonicalJson } from '../audit/canonical-json';
import { compareVersions } from '../catalogs/generation';
import { PrivacyTag } from '../registry/data-product.entity';
import { Publication, SemVer } from './publication';

/** A version as the registry keeps it (DataProductVersion's fields the diff needs). */
export interface StoredVersion extends SemVer {
  version: string;
  lifecycle: string;
  views: Record<string, unknown>[];
  columnTags: Record<string, Record<string, PrivacyTag>>;
  sources: string[];
  sla: { freshnessHours: number; availabilityPercent: number };
}

/**
 * The content a version publishes, with the defaults publishing applies filled in. Version and lifecycle
 * are left out: they name the two sides in the diff's header, and every new version changes them.
 */
export function publicationContent(p: Publication, productDescription: string): Record<string, unknown> {
  return {
    name: p.name,
    domain: p.domain,
    description: p.description ?? productDescription,
    sources: p.sources ?? [p.domain],
    sla: { freshnessHours: p.sla?.freshnessHours ?? 24, availabilityPercent: p.sla?.availabilityPercent ?? 99 },
    views: p.views,
    privacy: p.privacy,
  };
}

/** A stored version as the publication that made it (the product's current description stands for its own). */
export function storedPublication(name: string, domain: string, description: string, v: StoredVersion): Publication {
  return {
    name,
    domain,
    version: v.version,
    description,
    lifecycle: v.lifecycle === 'draft' ? 'draft' : 'published',
    sources: v.sources,
    sla: v.sla,
    views: v.views,
    privacy: v.columnTags,
  };
}

/** Canonical pretty JSON: sorted keys, two-space indent, one trailing newline. */
export function canonicalPrettyJson(value: unknown): string {
  return `${JSON.stringify(JSON.parse(canonicalJson(value)), null, 2)}\n`;
}

/**
 * The version a new one is compared with: the newest published or deprecated version other than itself,
 * else the newest version of any lifecycle (a product with drafts only); undefined for a new product.
 */
export function previousVersion<V extends StoredVersion>(versions: readonly V[], next: string): V | undefined {
  const others = versions.filter((v) => v.version !== next).sort((a, b) => compareVersions(b, a));
  return others.find((v) => v.lifecycle === 'published' || v.lifecycle === 'deprecated') ?? others[0];
}

/** Unified diff of `before` (undefined for a first version: '') against `after`; '' when they are the same. */
export function publicationDiff(before: { version: string; content: unknown } | undefined, after: { version: string; content: unknown }, name: string): string {
  if (!before) return '';
  const old = canonicalPrettyJson(before.content);
  const next = canonicalPrettyJson(after.content);
  if (old === next) return '';
  return createTwoFilesPatch(`${name}@${before.version}`, `${name}@${after.version}`, old, next, undefined, undefined, { context: 3 });
}
