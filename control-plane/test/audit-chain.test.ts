import { expect } from 'chai';
import { entryHash } from '../src/audit/audit.service';
import { canonicalJson } from '../src/audit/canonical-json';
import { periodContaining } from '../src/scheduler/periods';

describe('audit hash chain', () => {
  const entry = {
    at: new Date('2026-11-22T10:00:00Z'),
    actor: 'ops',
    action: 'create',
    entity: 'domain',
    entityId: 'RX1',
    before: null,
    after: { b: 1, a: 2 },
  };

  it('hashes key order away but every field and the previous hash in', () => {
    const h = entryHash('0'.repeat(64), entry);
    expect(h).to.match(/^[0-9a-f]{64}$/);
    expect(entryHash('0'.repeat(64), { ...entry, after: { a: 2, b: 1 } })).to.equal(h);
    expect(entryHash('1'.repeat(64), entry)).to.not.equal(h);
    expect(entryHash('0'.repeat(64), { ...entry, actor: 'mallory' })).to.not.equal(h);
    expect(entryHash('0'.repeat(64), { ...entry, at: new Date('2026-11-22T10:00:00.001Z') })).to.not.equal(h);
  });

  it('canonical JSON sorts keys at every depth and keeps array order', () => {
    expect(canonicalJson({ b: [{ d: 1, c: 2 }], a: new Date('2026-01-01T00:00:00Z') })).to.equal('{"a":"2026-01-01T00:00:00.000Z","b":[{"c":2,"d":1}]}');
  });
});

describe('budget periods', () => {
  const at = new Date('2026-11-22T15:30:00Z'); // a Sunday

  it('day, ISO week from Monday, and calendar month, in UTC', () => {
    expect(periodContaining('day', at)).to.deep.equal({ start: new Date('2026-11-22T00:00:00Z'), end: new Date('2026-11-23T00:00:00Z') });
    expect(periodContaining('week', at)).to.deep.equal({ start: new Date('2026-11-16T00:00:00Z'), end: new Date('2026-11-23T00:00:00Z') });
    expect(periodContaining('month', at)).to.deep.equal({ start: new Date('2026-11-01T00:00:00Z'), end: new Date('2026-12-01T00:00:00Z') });
    expect(periodContaining('month', new Date('2026-12-31T23:59:59Z')).end).to.deep.equal(new Date('2027-01-01T00:00:00Z'));
    expect(periodContaining('week', new Date('2026-11-23T00:00:00Z')).start).to.deep.equal(new Date('2026-11-23T00:00:00Z'));
  });
});
