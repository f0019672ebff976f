import { expect } from 'chai';
import { QueryAuditEntry, queryHistoryEntry } from '../src/gateway/query-history';

const started = (after: Record<string, unknown>): QueryAuditEntry => ({
  at: new Date('2026-12-06T10:00:00.000Z'),
  actor: 'alice',
  action: 'query.started',
  entityId: 'q1',
  after: { user: 'alice', sql: 'SELECT 1', tables: ['fhir.default.patient'], domains: ['RX1', 'RTH'], ...after },
});
const ended = (action: string, after: Record<string, unknown>): QueryAuditEntry => ({
  at: '2026-12-06T10:00:02.500Z',
  actor: 'alice',
  action,
  entityId: 'q1',
  after: { user: 'alice', ...after },
});

describe('query history: one entry per gateway statement from its audit records', () => {
  it('pairs query.started with the record that ended it', () => {
    const entry = queryHistoryEntry(
      started({ purpose: 'research', project: 'demo-cohort', rewrittenSql: 'SELECT 1 FROM x', deadlineMs: 60000, traceId: 'a'.repeat(32) }),
      ended('query.finished', {
        outcome: 'finished',
        rows: 7,
        durationMs: 2500,
        trino: { cpuMs: 12, processedRows: 70, processedBytes: 900, peakMemoryBytes: 4096 },
      }),
    );
    expect(entry).to.deep.equal({
      queryId: 'q1',
      user: 'alice',
      purpose: 'research',
      project: 'demo-cohort',
      startedAt: '2026-12-06T10:00:00.000Z',
      endedAt: '2026-12-06T10:00:02.500Z',
      outcome: 'finished',
      sql: 'SELECT 1',
      rewrittenSql: 'SELECT 1 FROM x',
      tables: ['fhir.default.patient'],
      domains: ['RX1', 'RTH'],
      rows: 7,
      durationMs: 2500,
      error: null,
      traceId: 'a'.repeat(32),
      deadlineMs: 60000,
      disclosure: null,
      partial: null,
      trino: { cpuMs: 12, processedRows: 70, processedBytes: 900, peakMemoryBytes: 4096 },
    });
  });

  it('a statement without an end record is running; fields the gateway did not record are null', () => {
    const entry = queryHistoryEntry(started({}), undefined);
    expect(entry).to.deep.include({
      outcome: 'running',
      endedAt: null,
      rows: null,
      durationMs: null,
      rewrittenSql: null,
      traceId: null,
      trino: null,
      purpose: null,
    });
  });

  it('a refusal is its own end: its record holds the statement and the reason', () => {
    const refused: QueryAuditEntry = {
      ...ended('query.refused', { sql: 'DROP TABLE x', tables: [], domains: [], outcome: 'refused', error: 'only SELECT', durationMs: 1 }),
    };
    expect(queryHistoryEntry(refused, undefined)).to.deep.include({
      outcome: 'refused',
      sql: 'DROP TABLE x',
      error: 'only SELECT',
      startedAt: '2026-12-06T10:00:02.500Z',
      endedAt: '2026-12-06T10:00:02.500Z',
      durationMs: 1,
    });
  });

  it('reads ε and δ spent from the disclosure record and the missing domains of a partial answer', () => {
    const entry = queryHistoryEntry(
      started({ purpose: 'research' }),
      ended('query.finished', {
        rows: 1,
        durationMs: 10,
        disclosure: { mode: 'differential-privacy', epsilonSpent: 1, deltaSpent: 0, reservation: 'r' },
        partial: { missingDomains: [{ domain: 'FLT01', reason: 'circuit open' }] },
      }),
    );
    expect(entry.disclosure).to.deep.equal({ mode: 'differential-privacy', epsilon: 1, delta: 0 });
    expect(entry.partial).to.deep.equal({ missingDomains: [{ domain: 'FLT01', reason: 'circuit open' }] });
    expect(queryHistoryEntry(started({}), ended('query.failed', { error: 'FHIR domain RX1: HTTP 500', durationMs: 5 }))).to.deep.include({
      outcome: 'failed',
      error: 'FHIR domain RX1: HTTP 500',
    });
  });
});
