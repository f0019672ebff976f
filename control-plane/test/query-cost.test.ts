// What a statement cost Trino, as the gateway writes it into query.finished / query.failed: the figures of
// the last page of each run, summed over the runs of one statement (peak memory: the highest).
import { expect } from 'chai';
import { QueryCostTally, queryCostOf } from '../src/gateway/query-cost';
import { TrinoExecutor, TrinoQueryFailed } from '../src/gateway/trino-executor';
import type { RelayResponse, TrinoRelay } from '../src/gateway/trino-relay';

const stats = (cpuTimeMillis: number, processedRows: number, processedBytes: number, peakMemoryBytes: number) => ({
  state: 'FINISHED',
  cpuTimeMillis,
  wallTimeMillis: 99,
  processedRows,
  processedBytes,
  peakMemoryBytes,
});

/** A relay answering each request with the next of `pages` (as Trino's JSON), recording what was asked. */
function fakeRelay(pages: Record<string, unknown>[]): { relay: TrinoRelay; requests: { method: string; path: string; headers: Record<string, string> }[] } {
  const requests: { method: string; path: string; headers: Record<string, string> }[] = [];
  const relay = {
    async request(method: string, path: string, headers: Record<string, string>): Promise<RelayResponse> {
      requests.push({ method, path, headers });
      if (method === 'DELETE') return { status: 204, headers: {}, body: Buffer.alloc(0) };
      const page = pages.shift();
      if (!page) throw new Error('no more pages');
      return { status: 200, headers: {}, body: Buffer.from(JSON.stringify(page)) };
    },
  } as unknown as TrinoRelay;
  return { relay, requests };
}

describe('gateway: query cost', () => {
  it("reads Trino's stats and refuses incomplete ones", () => {
    expect(queryCostOf(stats(12, 340, 5600, 7800))).to.deep.equal({ cpuMs: 12, processedRows: 340, processedBytes: 5600, peakMemoryBytes: 7800 });
    expect(queryCostOf(undefined)).to.equal(undefined);
    expect(queryCostOf('FINISHED')).to.equal(undefined);
    expect(queryCostOf({ ...stats(1, 2, 3, 4), peakMemoryBytes: undefined })).to.equal(undefined);
    expect(queryCostOf({ ...stats(1, 2, 3, 4), processedRows: -1 })).to.equal(undefined);
    expect(queryCostOf({ ...stats(1, 2, 3, 4), cpuTimeMillis: '12' })).to.equal(undefined);
  });

  it('adds runs up, keeping the highest peak memory', () => {
    const tally = new QueryCostTally();
    expect(tally.total).to.equal(undefined);
    tally.add(undefined);
    expect(tally.total).to.equal(undefined);
    tally.add({ cpuMs: 10, processedRows: 100, processedBytes: 1000, peakMemoryBytes: 500 });
    tally.add({ cpuMs: 5, processedRows: 50, processedBytes: 700, peakMemoryBytes: 900 });
    tally.add({ cpuMs: 1, processedRows: 1, processedBytes: 1, peakMemoryBytes: 10 });
    expect(tally.total).to.deep.equal({ cpuMs: 16, processedRows: 151, processedBytes: 1701, peakMemoryBytes: 900 });
  });

  it("the executor takes each run's last page, finished or failed, not the pages before it", async () => {
    const { relay, requests } = fakeRelay([
      { id: 'q1', nextUri: 'https://trino/v1/statement/executing/q1/a/1', stats: stats(1, 1, 1, 1) },
      {
        id: 'q1',
        nextUri: 'https://trino/v1/statement/executing/q1/a/2',
        columns: [{ name: 'n', type: 'bigint' }],
        data: [[1]],
        stats: stats(7, 70, 700, 7000),
      },
      { id: 'q1', data: [[2]], stats: stats(9, 90, 900, 9000) },
      { id: 'q2', nextUri: 'https://trino/v1/statement/executing/q2/a/1', stats: stats(2, 2, 2, 2) },
      {
        id: 'q2',
        error: { message: 'FHIR server of RX1 failed', errorName: 'FHIR_UNAVAILABLE', errorCode: 1, errorType: 'EXTERNAL' },
        stats: stats(4, 40, 400, 4000),
      },
    ]);
    const executor = new TrinoExecutor(relay);
    const tally = new QueryCostTally();
    const result = await executor.run('SELECT n FROM t', { 'x-trino-trace-token': 'a'.repeat(32) }, 10, tally);
    expect(result.rows).to.deep.equal([[1], [2]]);
    expect(tally.total).to.deep.equal({ cpuMs: 9, processedRows: 90, processedBytes: 900, peakMemoryBytes: 9000 });
    const failed = await executor.run('SELECT n FROM t', {}, 10, tally).catch((e: unknown) => e);
    expect(failed).to.be.instanceOf(TrinoQueryFailed);
    expect(tally.total).to.deep.equal({ cpuMs: 13, processedRows: 130, processedBytes: 1300, peakMemoryBytes: 9000 });
    // The trace token goes with the statement (Trino keeps it for the query), not on every page.
    expect(requests[0]!.headers['x-trino-trace-token']).to.equal('a'.repeat(32));
    expect(requests[1]!.headers).to.not.have.property('x-trino-trace-token');
  });

  it('counts the pages read before a result too large to check is cancelled', async () => {
    const { relay, requests } = fakeRelay([
      { id: 'q3', nextUri: 'https://trino/v1/statement/executing/q3/a/1', data: [[1], [2], [3]], stats: stats(3, 3, 3, 3) },
    ]);
    const tally = new QueryCostTally();
    const failed = await new TrinoExecutor(relay).run('SELECT 1', {}, 2, tally).catch((e: unknown) => e);
    expect((failed as TrinoQueryFailed).errorName).to.equal('QUERY_REJECTED');
    expect(requests.map((r) => r.method)).to.deep.equal(['POST', 'DELETE']);
    expect(tally.total).to.deep.equal({ cpuMs: 3, processedRows: 3, processedBytes: 3, peakMemoryBytes: 3 });
  });
});
