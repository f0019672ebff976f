// The gateway's trace ids (W3C Trace Context): a caller's valid traceparent is kept, anything malformed is
// replaced by a fresh id rather than passed on to Trino and the FHIR servers' logs.
import { expect } from 'chai';
import { formatTraceparent, isTraceId, parseTraceparent, statementTrace } from '../src/gateway/trace-context';

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const SPAN = '00f067aa0ba902b7';

describe('gateway: trace context', () => {
  it('reads a version-00 traceparent', () => {
    expect(parseTraceparent(`00-${TRACE}-${SPAN}-01`)).to.deep.equal({ traceId: TRACE, spanId: SPAN, sampled: true });
    expect(parseTraceparent(`00-${TRACE}-${SPAN}-00`)).to.deep.equal({ traceId: TRACE, spanId: SPAN, sampled: false });
    expect(parseTraceparent(` 00-${TRACE}-${SPAN}-01 `)?.traceId, 'surrounding blanks').to.equal(TRACE);
  });

  it('refuses malformed headers', () => {
    for (const bad of [
      undefined,
      '',
      [`00-${TRACE}-${SPAN}-01`, `00-${TRACE}-${SPAN}-01`],
      `00-${TRACE}-${SPAN}-01, 00-${TRACE}-${SPAN}-01`, // a repeated header as Node joins it
      `00-${TRACE.toUpperCase()}-${SPAN}-01`,
      `00-${'0'.repeat(32)}-${SPAN}-01`,
      `00-${TRACE}-${'0'.repeat(16)}-01`,
      `ff-${TRACE}-${SPAN}-01`,
      `00-${TRACE}-${SPAN}-01-extra`,
      `00-${TRACE.slice(1)}-${SPAN}-01`,
      `00-${TRACE}-${SPAN}-1`,
      `0-${TRACE}-${SPAN}-01`,
      `00_${TRACE}-${SPAN}-01`,
      `00-${TRACE}-${SPAN}-0g`,
    ]) {
      expect(parseTraceparent(bad), String(bad)).to.equal(undefined);
    }
  });

  it('reads later versions by their version-00 prefix, as the specification asks', () => {
    expect(parseTraceparent(`01-${TRACE}-${SPAN}-01`)?.traceId).to.equal(TRACE);
    expect(parseTraceparent(`cc-${TRACE}-${SPAN}-01-what-the-future-holds`)?.traceId).to.equal(TRACE);
    expect(parseTraceparent(`cc-${TRACE}-${SPAN}-01x`)).to.equal(undefined);
  });

  it("keeps a caller's trace id with a new gateway span, and makes a fresh one otherwise", () => {
    const kept = statementTrace(`00-${TRACE}-${SPAN}-00`);
    expect(kept.traceId).to.equal(TRACE);
    expect(kept.spanId)
      .to.match(/^[0-9a-f]{16}$/)
      .and.not.equal(SPAN);
    const header = formatTraceparent(kept);
    expect(header).to.equal(`00-${TRACE}-${kept.spanId}-01`);
    expect(parseTraceparent(header)?.traceId).to.equal(TRACE);

    const fresh = new Set<string>();
    for (let i = 0; i < 200; i++) {
      const t = statementTrace(`00-${TRACE.toUpperCase()}-${SPAN}-01`);
      expect(isTraceId(t.traceId), t.traceId).to.equal(true);
      fresh.add(t.traceId);
    }
    expect(fresh.size).to.equal(200);
    expect(fresh.has(TRACE)).to.equal(false);
    expect(isTraceId('0'.repeat(32))).to.equal(false);
  });
});
