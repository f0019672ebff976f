import { expect } from 'chai';
import { isRefusal } from '../src/api/errors';
import { parseQuery } from '../src/api/query-params';
import { jsonProblem, queryProblem, urlPathProblem } from '../src/api/request-checks';
import { Refusal, RefusalWindows } from '../src/audit/refusals';

const nested = (levels: number): unknown => JSON.parse(`${'['.repeat(levels)}${']'.repeat(levels)}`);

describe('request checks: hostile input is a 400 naming the problem', () => {
  it('refuses JSON nested deeper than the limit without recursing (100,000 levels)', () => {
    expect(jsonProblem(nested(64))).to.equal(undefined);
    expect(jsonProblem(nested(65))!.message).to.include('nested more than 64 levels deep');
    expect(jsonProblem(nested(5000))!.message).to.include('at most 64 are allowed');
    expect(jsonProblem(JSON.parse(`${'{"a":'.repeat(100_000)}1${'}'.repeat(100_000)}`))!.message).to.include('nested more than 64');
  });

  it('names the field holding a NUL character, in values and in keys', () => {
    expect(jsonProblem({ name: 'ok', region: 'x' })).to.equal(undefined);
    expect(jsonProblem({ name: 'a\u0000b' })).to.deep.include({ path: '/name' });
    expect(jsonProblem({ views: [{ select: [{ column: [{ name: 'x\u0000' }] }] }] })!.path).to.equal('/views/0/select/0/column/0/name');
    expect(jsonProblem({ privacy: { 'v\u0000': {} } })!.message).to.include('field name at /privacy contains a NUL character');
    expect(jsonProblem('a\u0000')!.path).to.equal('(body)');
  });

  it('NUL in the URL path, repeated or NUL query parameters', () => {
    expect(urlPathProblem('/api/v1/domains/RX1?x=%00')).to.equal(undefined);
    expect(urlPathProblem('/api/v1/domains/AB%00C')!.message).to.include('/api/v1/domains/AB\\u0000C').and.include('NUL');
    expect(queryProblem({ entity: ['a', 'b'] })!.message).to.equal("query parameter 'entity' is given 2 times; give it once");
    expect(queryProblem({ entity: 'a\u0000' })!.message).to.include("'entity' contains a NUL character");
    expect(queryProblem({ entity: 'domain', limit: '5' })).to.equal(undefined);
  });

  it('query parameters: declared names only, integers in range', () => {
    const spec = { entity: { kind: 'text' }, limit: { kind: 'integer', min: 1, max: 1000, default: 100 } } as const;
    expect(parseQuery({}, spec)).to.deep.equal({ entity: undefined, limit: 100 });
    expect(parseQuery({ entity: 'domain', limit: '5' }, spec)).to.deep.equal({ entity: 'domain', limit: 5 });
    for (const bad of ['-1', '0', '1001', 'abc', '1.5', '1e3', ' 5']) {
      expect(() => parseQuery({ limit: bad }, spec), bad).to.throw("query parameter 'limit' must be an integer from 1 to 1000");
    }
    expect(() => parseQuery({ 'entity[]': 'a' }, spec)).to.throw("unknown query parameter 'entity[]'; this route takes 'entity', 'limit'");
    expect(() => parseQuery({ entity: ['a', 'b'] }, spec)).to.throw("'entity' must be given once");
    expect(() => parseQuery({ constructor: 'x' }, spec)).to.throw("unknown query parameter 'constructor'");
    expect(() => parseQuery({ domain: 'RX1' }, {})).to.throw('this route takes none');
  });

  it('refusals: 401, 403, 409 always; other 4xx only for writes', () => {
    expect([
      isRefusal('GET', 401),
      isRefusal('GET', 403),
      isRefusal('GET', 409),
      isRefusal('POST', 400),
      isRefusal('PATCH', 413),
      isRefusal('DELETE', 404),
    ]).to.deep.equal([true, true, true, true, true, true]);
    expect([isRefusal('GET', 400), isRefusal('GET', 404), isRefusal('POST', 500), isRefusal('POST', 201)]).to.deep.equal([false, false, false, false]);
  });
});

describe('refusal audit: bounded per source and minute', () => {
  const t0 = Date.UTC(2026, 11, 5, 12, 0, 0);
  const refusal = (source: string, route = '/api/v1/domains'): Refusal => ({
    actor: 'anonymous',
    source,
    method: 'GET',
    route,
    status: 401,
    reason: 'unknown or revoked token',
  });

  it('records the first n of a source each minute, then one summary with the counts', () => {
    const windows = new RefusalWindows(3);
    const decisions = Array.from({ length: 10 }, (_, i) => windows.admit(refusal('address:10.0.0.1'), t0 + i * 1000).decision);
    expect(decisions.filter((d) => d === 'record')).to.have.length(3);
    expect(windows.drain(t0 + 30_000)).to.deep.equal([]); // the minute has not ended
    const [summary, ...rest] = windows.drain(t0 + 60_000);
    expect(rest).to.deep.equal([]);
    expect(summary).to.deep.include({ source: 'address:10.0.0.1', suppressed: 7, statuses: { 401: 7 }, routes: { 'GET /api/v1/domains': 7 } });
    expect(summary!.from.toISOString()).to.equal('2026-12-05T12:00:00.000Z');
    expect(windows.admit(refusal('address:10.0.0.1'), t0 + 61_000).decision).to.equal('record'); // a new minute
  });

  it('a flood from many addresses or random paths stays bounded', () => {
    const windows = new RefusalWindows(2, 5);
    let recorded = 0;
    for (let i = 0; i < 10_000; i++)
      if (windows.admit(refusal(`address:10.0.${(i % 300) >> 8}.${(i % 300) & 255}`, `/x/${i}`), t0 + (i % 50_000)).decision === 'record') recorded++;
    // 5 addresses individually (2 each), every other address shares one source (2 more).
    expect(recorded).to.equal(5 * 2 + 2);
    const summaries = windows.drain(t0 + 60_000);
    expect(summaries.map((s) => s.source)).to.deep.equal([
      'address:10.0.0.0',
      'address:10.0.0.1',
      'address:10.0.0.2',
      'address:10.0.0.3',
      'address:10.0.0.4',
      'address:*',
    ]);
    expect(summaries.reduce((n, s) => n + s.suppressed, 0)).to.equal(10_000 - 12);
    expect(Object.keys(summaries[5]!.routes)).to.have.length(21); // 20 routes, then '(other routes)'
  });
});
