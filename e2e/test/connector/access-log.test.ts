// The access-log parser over lines as HAPI writes them (e2e/fhir-server WebServerConfig.ACCESS_LOG_PATTERN): with the
// traceparent and User-Agent fields, with `-` for either, and lines written before those fields existed.
import { expect } from 'chai';
import { fromConnector, parseAccessLine } from './access-log';

const OLD = '2026-12-06T06:00:00.123+0000 127.0.0.1 "GET /fhir/rx1/Condition?code=h:3f2a9c0d1e4b5a67&_count=500 HTTP/1.1" 200 5123 17';
const TRACEPARENT = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

describe('parseAccessLine', () => {
  it('reads the traceparent, its trace id and the User-Agent', () => {
    const line = parseAccessLine(`${OLD} "${TRACEPARENT}" "fhir-mesh-trino/0.1.0-SNAPSHOT"`);
    expect(line).to.include({ domain: 'rx1', resourceType: 'Condition', status: 200, bytes: 5123, millis: 17, traceparent: TRACEPARENT });
    expect(line?.traceId).to.equal('4bf92f3577b34da6a3ce929d0e0e4736');
    expect(line?.userAgent).to.equal('fhir-mesh-trino/0.1.0-SNAPSHOT');
    expect(line && fromConnector(line)).to.equal(true);
  });

  it('takes - as absent, and a User-Agent with spaces as one field', () => {
    const line = parseAccessLine(`${OLD} "-" "Mozilla/5.0 (X11; Linux) node"`);
    expect(line?.traceparent).to.equal(undefined);
    expect(line?.traceId).to.equal(undefined);
    expect(line?.userAgent).to.equal('Mozilla/5.0 (X11; Linux) node');
    expect(line && fromConnector(line)).to.equal(false);
    expect(parseAccessLine(`${OLD} "-" "-"`)?.userAgent).to.equal(undefined);
  });

  it('still reads lines without the two fields', () => {
    const line = parseAccessLine(OLD);
    expect(line).to.include({ domain: 'rx1', status: 200, millis: 17, traceparent: undefined, userAgent: undefined });
    expect(line?.params).to.deep.equal([
      ['code', 'h:3f2a9c0d1e4b5a67'],
      ['_count', '500'],
    ]);
  });

  it('refuses a line with a third quoted field or a stray quote', () => {
    expect(parseAccessLine(`${OLD} "${TRACEPARENT}" "a" "b"`)).to.equal(undefined);
    expect(parseAccessLine(`${OLD} "${TRACEPARENT}" "a"b"`)).to.equal(undefined);
  });
});
