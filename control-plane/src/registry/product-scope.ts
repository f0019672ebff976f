// Which data products a caller may see and change. A data product owner (without ops) works on their own
// domain's products only; ops and readers (analysts, researchers) see the whole catalogue.
import { ForbiddenException } from '@nestjs/common';
import { Principal } from '../auth/principal';

/** The domain a caller is confined to (null: an owner with no domain, who sees none), or undefined: no confinement. */
export function ownerDomainScope(actor: Principal): { domain: string | null } | undefined {
  return actor.roles.includes('data-product-owner') && !actor.roles.includes('ops') ? { domain: actor.domain } : undefined;
}

/** Refuses an owner a product of another domain, naming both domains. */
export function assertProductInScope(actor: Principal, product: string, productDomain: string): void {
  const scope = ownerDomainScope(actor);
  if (scope && scope.domain !== productDomain) {
    throw new ForbiddenException(`data product '${product}' belongs to domain ${productDomain}; you publish for ${scope.domain ?? '(no domain)'}`);
  }
}
