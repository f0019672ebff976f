// The strict reader of Prometheus's text format that the /metrics tests parse with: what it accepts and, so
// those tests can fail, what it refuses.
import { expect } from 'chai';
import { parsePrometheusText, sumOf } from './prometheus-text';

const HISTOGRAM = `# HELP d_seconds Latency
# TYPE d_seconds histogram
d_seconds_bucket{le="0.1",domain="RX1"} 1
d_seconds_bucket{le="1",domain="RX1"} 3
d_seconds_bucket{le="+Inf",domain="RX1"} 4
d_seconds_sum{domain="RX1"} 7.5
d_seconds_count{domain="RX1"} 4
`;

describe('e2e: Prometheus text format reader', () => {
  it('reads families, escaped labels, special values and histograms', () => {
    const families = parsePrometheusText(`# HELP r_total Requests\\nsent
# TYPE r_total counter
r_total{domain="RX1",path="a \\"quoted\\" \\\\ back\\nslash"} 3
r_total{domain="RTH"} 4 1700000000000
# TYPE g gauge
g NaN
g{x="1"} +Inf
g{x="2"} -1.5e3
${HISTOGRAM}`);
    expect(families.get('r_total')?.help).to.equal('Requests\nsent');
    expect(families.get('r_total')?.samples[0]?.labels.path).to.equal('a "quoted" \\ back\nslash');
    expect(sumOf(families, 'r_total')).to.equal(7);
    expect(sumOf(families, 'r_total', { domain: 'RTH' })).to.equal(4);
    expect(sumOf(families, 'g', { x: '2' })).to.equal(-1500);
    expect(sumOf(families, 'd_seconds_bucket', { le: '1' })).to.equal(3);
    expect(sumOf(families, 'd_seconds_count')).to.equal(4);
  });

  it('refuses what a scraper would', () => {
    const refused: [string, RegExp][] = [
      ['r_total 1\n', /no # TYPE line/],
      ['# TYPE r counter\nr{a="1"} 1\nr{a="1"} 2\n', /series repeated/],
      ['# TYPE r counter\nr{a="1} 1\n', /unterminated|expected/],
      ['# TYPE r counter\nr{a="\\x"} 1\n', /bad escape/],
      ['# TYPE r counter\nr one\n', /not a number/],
      ['# TYPE r counter\nr\n', /expected a value/],
      ['# TYPE r sometimes\n', /unknown type/],
      [HISTOGRAM.replace('d_seconds_count{domain="RX1"} 4', 'd_seconds_count{domain="RX1"} 5'), /_count 5 differs/],
      [HISTOGRAM.replace('{le="1",domain="RX1"} 3', '{le="1",domain="RX1"} 0'), /not cumulative/],
      [HISTOGRAM.replace(/^d_seconds_bucket\{le="\+Inf".*\n/m, ''), /no \+Inf bucket/],
      [HISTOGRAM.replace(/^d_seconds_sum.*\n/m, ''), /no _sum/],
    ];
    for (const [text, message] of refused) expect(() => parsePrometheusText(text), text).to.throw(message);
  });
});
