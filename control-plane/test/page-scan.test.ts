// The gateway counts result rows by scanning page bytes; it must agree with a full JSON.parse on anything
// Trino can send, including strings full of brackets, commas, quotes and escapes.
import { expect } from 'chai';
import { summarizePage } from '../src/gateway/page-scan';

function check(page: Record<string, unknown>): void {
  const body = Buffer.from(JSON.stringify(page));
  const summary = summarizePage(body);
  const expected = Array.isArray(page.data) ? page.data.length : 0;
  expect(summary?.rows, JSON.stringify(page).slice(0, 200)).to.equal(expected);
  const { data: _data, ...rest } = page;
  expect(summary?.fields).to.deep.equal(rest);
}

describe('gateway: result page scan', () => {
  it('counts rows and keeps every other field, like JSON.parse', () => {
    check({ id: 'q1', nextUri: 'https://g/v1/statement/executing/q1/x/1', columns: [{ name: 'a', type: 'varchar' }], data: [['x'], ['y']] });
    check({ id: 'q1', data: [] });
    check({ id: 'q1', stats: { state: 'RUNNING', rootStage: { subStages: [{ a: [1, 2] }] } } });
    check({ id: 'q1', data: [[null], [1.5e10], [true], [[1, [2, 3]], { k: '[,]' }]], nextUri: 'n' });
    check({ data: [['a "quoted" [bracket], comma', 'back\\slash\\', '\\"'], ['{', '}', '],['], ['\u00e9\u{1F600}\n\t']], error: { message: 'm' } });
    check({ warnings: [{ message: 'data' }], data: [[1]], updateType: 'SELECT' });
    // A key named data below the top level is not the page's rows.
    check({ stats: { data: [1, 2, 3] }, id: 'x' });
    // Neither is a string value that reads `data`.
    check({ id: 'data', x: [[1], [2]], nextUri: 'data' });
  });

  it('agrees with JSON.parse on random pages', () => {
    const chars = ['a', '"', '\\', '[', ']', '{', '}', ',', ':', ' ', '\n', 'é', '😀'];
    let seed = 7;
    const random = (): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const text = (): string => Array.from({ length: Math.floor(random() * 12) }, () => chars[Math.floor(random() * chars.length)]).join('');
    for (let n = 0; n < 300; n++) {
      const rows = Array.from({ length: Math.floor(random() * 5) }, () => [
        text(),
        Math.floor(random() * 100),
        random() < 0.3 ? null : [text()],
        { [text()]: text() },
      ]);
      check({ id: text(), columns: [{ name: text() }], ...(random() < 0.8 ? { data: rows } : {}), ...(random() < 0.5 ? { nextUri: text() } : {}) });
    }
  });

  it('returns undefined for a body that is not a JSON object', () => {
    expect(summarizePage(Buffer.from('<html>503</html>'))).to.equal(undefined);
    expect(summarizePage(Buffer.from(''))).to.equal(undefined);
    expect(summarizePage(Buffer.from('[1,2]'))).to.equal(undefined);
  });
});
