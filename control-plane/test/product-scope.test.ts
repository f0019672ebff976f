import { ForbiddenException } from '@nestjs/common';
import { expect } from 'chai';
import { Principal } from '../src/auth/principal';
import { assertProductInScope, ownerDomainScope } from '../src/registry/product-scope';

const principal = (roles: Principal['roles'], domain: string | null = null): Principal => ({ id: 'id', name: 'someone', roles, domain });

describe('product scope: owners see and change only their own domain', () => {
  it('confines a data product owner without ops to their domain, and nobody else', () => {
    expect(ownerDomainScope(principal(['data-product-owner'], 'RX1'))).to.deep.equal({ domain: 'RX1' });
    expect(ownerDomainScope(principal(['data-product-owner', 'analyst'], 'RX1'))).to.deep.equal({ domain: 'RX1' });
    expect(ownerDomainScope(principal(['data-product-owner'], null))).to.deep.equal({ domain: null });
    expect(ownerDomainScope(principal(['data-product-owner', 'ops'], 'RX1'))).to.equal(undefined);
    expect(ownerDomainScope(principal(['ops']))).to.equal(undefined);
    expect(ownerDomainScope(principal(['analyst']))).to.equal(undefined);
    expect(ownerDomainScope(principal(['researcher']))).to.equal(undefined);
  });

  it("refuses another domain's product with 403 naming both domains", () => {
    const refuse = () => assertProductInScope(principal(['data-product-owner'], 'RX1'), 'condition', 'X26');
    expect(refuse).to.throw(ForbiddenException, "data product 'condition' belongs to domain X26; you publish for RX1");
    expect(() => assertProductInScope(principal(['data-product-owner'], null), 'condition', 'X26')).to.throw(ForbiddenException, 'you publish for (no domain)');
    expect(() => assertProductInScope(principal(['data-product-owner'], 'X26'), 'condition', 'X26')).to.not.throw();
    expect(() => assertProductInScope(principal(['ops']), 'condition', 'X26')).to.not.throw();
    expect(() => assertProductInScope(principal(['analyst']), 'condition', 'X26')).to.not.throw();
  });
});
