// The budget ledger's pure parts: the exhausted-budget message, amount checks, and the ops route's place in
// the OpenAPI document. The ledger itself runs against PostgreSQL in e2e/test/budget-ledger.e2e.ts.
import * as path from 'node:path';
import { expect } from 'chai';
import { openApiDocument } from '../src/api/openapi';
import { SchemaValidator } from '../src/api/schema-validator';
import { BudgetExhausted, decimal, figure } from '../src/privacy/budget-ledger';

describe('budget ledger (pure parts)', () => {
  it('says what the query needs, what remains of which total and when the budget resets (UTC, no milliseconds)', () => {
    const e = new BudgetExhausted({
      project: 'demo-cohort',
      period: 'month',
      requestedEpsilon: 0.5,
      requestedDelta: 1e-6,
      remainingEpsilon: 0.2,
      remainingDelta: 9e-6,
      totals: { epsilon: 3, delta: 1e-5 },
      resetsAt: new Date(Date.UTC(2027, 0, 1)),
    });
    expect(e.message).to.equal(
      'privacy budget exhausted for project demo-cohort: this query needs ε=0.5, δ=1e-6; 0.2 of ε=3 and 9e-6 of δ=1e-5 remain this month; the budget resets at 2027-01-01T00:00:00Z',
    );
    expect(e).to.be.instanceOf(Error).and.include({ name: 'BudgetExhausted', remainingEpsilon: 0.2, requestedDelta: 1e-6 });
    const daily = new BudgetExhausted({ ...e, period: 'day', requestedDelta: 0, remainingDelta: 0, resetsAt: new Date('2026-12-06T00:00:00Z') });
    expect(daily.message).to.contain('δ=0; 0.2 of ε=3 and 0 of δ=1e-5 remain today; the budget resets at 2026-12-06T00:00:00Z');
  });

  it('writes ε-sized figures as decimals and δ-sized ones with an exponent', () => {
    expect([0, 1, 0.1, 0.25, 0.001, 0.0009, 1e-6, 1.5e-7].map(figure)).to.deep.equal(['0', '1', '0.1', '0.25', '0.001', '9e-4', '1e-6', '1.5e-7']);
  });

  it('passes amounts to PostgreSQL as exact decimal text and refuses negative, infinite or NaN amounts before any SQL', () => {
    expect(decimal(0.1, 'ε')).to.equal('0.1');
    expect(decimal(1e-7, 'δ')).to.equal('1e-7');
    for (const bad of [-0.1, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(() => decimal(bad, 'ε of the query')).to.throw(RangeError, /ε of the query must be a finite number ≥ 0/);
    }
  });

  it('documents GET /consumers/{name}/budget in the OpenAPI document, for ops, with the budget schema as its response', () => {
    const doc = openApiDocument(new SchemaValidator(path.join(__dirname, '..', '..', 'connector-spec'))) as {
      paths: Record<string, Record<string, { description?: string; responses: Record<string, { content?: Record<string, { schema: { $ref: string } }> }> }>>;
      components: { schemas: Record<string, { $defs: Record<string, unknown> }> };
    };
    const route = doc.paths['/api/v1/consumers/{name}/budget']!.get!;
    expect(route.description).to.equal('Requires role: ops.');
    expect(route.responses['200']!.content!['application/json']!.schema.$ref).to.equal('#/components/schemas/budget');
    expect(route.responses).to.have.keys('200', '401', '403');
    expect(doc.components.schemas.budget!.$defs).to.have.keys('figures', 'entry', 'account');
  });
});
