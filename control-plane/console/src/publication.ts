// The publication a new version starts from: the newest version's, with its version number bumped.
import type { Product, VersionDetail } from './types';

export function nextVersion(version: string): string {
  const [major = 0, minor = 0] = version.split('.').map(Number);
  return `${major}.${minor + 1}.0`;
}

/** The body of POST /api/v1/data-products that republishes `latest` as the next minor version. */
export function publicationFrom(product: Product, latest: VersionDetail): Record<string, unknown> {
  return {
    name: product.name,
    domain: product.domain,
    version: nextVersion(latest.version),
    description: product.description,
    sources: latest.sources,
    ...(latest.sla ? { sla: latest.sla } : {}),
    views: latest.views,
    privacy: latest.columnTags,
  };
}
