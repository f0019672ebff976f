import { expect } from 'chai';
import {
  failingDomain,
  failureModeOf,
  failureReason,
  InvalidFailureMode,
  openCircuitDomains,
  partialResultNote,
  skipDomainsSession,
} from '../src/gateway/partial-results';
import { deadlineSessionValue, InvalidDeadline, parseDuration, statementDeadlineMs } from '../src/gateway/query-deadline';

describe('partial results: which failures leave a domain out', () => {
  const reads = new Set(['RX1', 'RTH', 'RR8']);
  const unavailable = {
    errorName: 'FHIR_ENDPOINT_UNAVAILABLE',
    message: 'FHIR domain RTH: Encounter search failed (GET /Encounter): connection refused',
  };

  it('finds the domain a connector failure names, if the statement reads it', () => {
    expect(failingDomain(unavailable, reads)).to.equal('RTH');
    expect(failingDomain(unavailable, new Set(['RX1']))).to.equal(undefined);
  });

  it('finds it inside the opt-out reader’s fail-closed message too', () => {
    const exclusion = {
      errorName: 'FHIR_ENDPOINT_TIMEOUT',
      message:
        'patients to exclude (national data opt-outs, restricted patients) could not be read from every domain of the catalog, so no patient rows are returned: FHIR domain RR8: Patient search failed: timed out',
    };
    expect(failingDomain(exclusion, reads)).to.equal('RR8');
    expect(failureReason(exclusion)).to.equal('FHIR_ENDPOINT_TIMEOUT: FHIR domain RR8: Patient search failed: timed out');
  });

  it('never leaves a domain out for a failure that is not the domain’s', () => {
    expect(failingDomain({ errorName: 'SYNTAX_ERROR', message: 'FHIR domain RX1: looks like one' }, reads)).to.equal(undefined);
    expect(failingDomain({ errorName: 'EXCEEDED_TIME_LIMIT', message: 'Query exceeded maximum time limit of 30.00s' }, reads)).to.equal(undefined);
    expect(failingDomain({ errorName: 'FHIR_INVALID_MAPPING', message: 'FHIR domain RX1: is not configured' }, reads)).to.equal(undefined);
    expect(failingDomain({ errorName: 'FHIR_HTTP_ERROR', message: 'no domain named here' }, reads)).to.equal(undefined);
  });

  it('reads the analyst’s choice, failing fast by default, and refuses unknown values by name', () => {
    expect(failureModeOf(new Map())).to.equal('fail');
    expect(failureModeOf(new Map([['on_failure', 'partial']]))).to.equal('partial');
    expect(() => failureModeOf(new Map([['on_failure', 'skip']]))).to.throw(InvalidFailureMode, /on_failure=skip is not known.*on_failure=partial/);
  });

  it('labels a partial answer with every missing domain and why, and skips them in the connector', () => {
    const missing = [
      { domain: 'RTH', reason: 'circuit open since 2026-12-06T03:00:00Z' },
      { domain: 'RR8', reason: 'FHIR_ENDPOINT_TIMEOUT: FHIR domain RR8: timed out' },
    ];
    const note = partialResultNote(missing, 3);
    expect(note).to.match(/^partial result: 2 of 3 domains missing/);
    expect(note).to.contain('RTH (circuit open since 2026-12-06T03:00:00Z)').and.to.contain('RR8 (FHIR_ENDPOINT_TIMEOUT');
    expect(skipDomainsSession('fhir', missing)).to.deep.equal(['fhir.skip_domains', 'RTH,RR8']);
  });

  it('turns the open circuits into missing domains with their last failure', () => {
    const rows = [['RTH', '2026-12-06 03:00:00.000 UTC', 'FHIR domain RTH: connection refused']];
    expect(openCircuitDomains(rows)).to.deep.equal([
      { domain: 'RTH', reason: 'circuit open since 2026-12-06 03:00:00.000 UTC (last failure: FHIR domain RTH: connection refused)' },
    ]);
  });
});

describe('query deadline', () => {
  it('parses Trino durations', () => {
    expect(parseDuration('30s', 'deadline')).to.equal(30_000);
    expect(parseDuration('2.5m', 'deadline')).to.equal(150_000);
    expect(parseDuration('250ms', 'deadline')).to.equal(250);
    expect(() => parseDuration('forever', 'deadline')).to.throw(InvalidDeadline, /deadline=forever is not a duration/);
    expect(() => parseDuration('0s', 'deadline')).to.throw(InvalidDeadline);
  });

  it('takes the least of the ceiling and what the analyst asked: never more than the ceiling', () => {
    expect(statementDeadlineMs(300_000, undefined, undefined)).to.equal(300_000);
    expect(statementDeadlineMs(300_000, '30s', undefined)).to.equal(30_000);
    expect(statementDeadlineMs(300_000, undefined, '1h')).to.equal(300_000);
    expect(statementDeadlineMs(300_000, '10m', '45s')).to.equal(45_000);
    expect(deadlineSessionValue(45_000)).to.equal('45000ms');
  });
});
