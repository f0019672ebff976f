// Trino's own doors (issue 16, items 1 and 2): every caller authenticated over HTTPS, analysts unable to
// manage catalogs, to read other users' queries (whose SQL can carry NHS numbers) or to kill them, and to
// pose as another user. Each refusal has a positive control: the operator is allowed the same thing, so a
// test cannot pass because the action was impossible for everyone.

import * as http from 'node:http';
import * as https from 'node:https';
import { expect } from 'chai';
import { HOST, ports, trinoUrl } from '../runtime/topology';
import { basicAuthHeader, meshCa } from '../runtime/trino-clients';
import { TRINO_USERS } from '../runtime/trino-security';
import { TrinoEngine } from './connector/engines';

interface Answer {
  status: number;
  body: string;
}

function request(url: string, options: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<Answer> {
  const client = url.startsWith('https:') ? https : http;
  return new Promise((resolve, reject) => {
    const req = client.request(url, { method: options.method ?? 'GET', headers: options.headers, ca: meshCa(), timeout: 30_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

const analyst = new TrinoEngine(TRINO_USERS.analyst);
const ops = new TrinoEngine(TRINO_USERS.ops);

async function refusal(engine: TrinoEngine, sql: string): Promise<string> {
  try {
    await engine.query(sql);
  } catch (e) {
    return (e as Error).message.split('\n')[0] ?? '';
  }
  throw new Error(`${engine.user} was allowed: ${sql}`);
}

describe('Trino authenticates every caller and keeps analysts to their own business', function () {
  this.timeout(120_000);

  it('refuses a statement without credentials, with a wrong password, and over plain HTTP', async () => {
    const statement = { method: 'POST', body: 'SELECT 1' };
    const anonymous = await request(`${trinoUrl()}/v1/statement`, { ...statement, headers: { 'X-Trino-User': TRINO_USERS.ops } });
    expect(anonymous.status, anonymous.body).to.equal(401);

    const wrong = await request(`${trinoUrl()}/v1/statement`, {
      ...statement,
      headers: { authorization: basicAuthHeader(TRINO_USERS.ops, 'not-the-password') },
    });
    expect(wrong.status, wrong.body).to.equal(401);

    // The plain-HTTP port is Trino's internal one: it answers nobody without the nodes' shared secret.
    const plain = await request(`http://${HOST}:${ports.trinoInternal}/v1/statement`, { ...statement, headers: { 'X-Trino-User': TRINO_USERS.ops } });
    expect(plain.status, plain.body).to.equal(403);

    const right = await request(`${trinoUrl()}/v1/statement`, { ...statement, headers: { authorization: basicAuthHeader(TRINO_USERS.analyst) } });
    expect(right.status, right.body).to.equal(200);
  });

  it('does not let an analyst pose as another user through X-Trino-User', async () => {
    const headers = { authorization: basicAuthHeader(TRINO_USERS.analyst), 'X-Trino-User': TRINO_USERS.ops };
    let answer = await request(`${trinoUrl()}/v1/statement`, { method: 'POST', body: 'SELECT current_user', headers });
    let results = JSON.parse(answer.body) as { nextUri?: string; data?: unknown[][]; error?: { message: string } };
    while (results.nextUri && !results.error) {
      answer = await request(results.nextUri, { headers });
      results = JSON.parse(answer.body) as typeof results;
    }
    expect(results.data, 'no rows as the other user').to.equal(undefined);
    expect(results.error?.message).to.match(/Access Denied: User alice cannot impersonate user mesh-ops/);
  });

  it('refuses CREATE CATALOG and DROP CATALOG to analysts (the operator may)', async () => {
    expect(
      await refusal(
        analyst,
        `CREATE CATALOG stolen USING fhir WITH ("fhir.domains" = 'RR8', "fhir.domain.RR8.base-url" = 'http://${HOST}:9/fhir', "fhir.mappings.dir" = '/tmp')`,
      ),
    ).to.match(/Access Denied: Cannot create catalog stolen/);
    expect(await refusal(analyst, 'DROP CATALOG fhir')).to.match(/Access Denied: Cannot drop catalog fhir/);
    expect(await refusal(analyst, 'DROP CATALOG IF EXISTS no_such_catalog')).to.match(/Access Denied/);
    await ops.query('DROP CATALOG IF EXISTS no_such_catalog');
    expect((await analyst.query('SHOW CATALOGS')).rows.map((r) => r[0])).to.have.members(['fhir', 'system']);
  });

  it("hides other users' queries from analysts: system.runtime, /v1/query and kill_query", async () => {
    const marker = `nhs_number_9990000018_${Date.now()}`;
    const theirs = await ops.query(`SELECT '${marker}' AS probe`);
    const queryId = theirs.queryId!;

    expect(await refusal(analyst, 'SELECT query_id, query FROM system.runtime.queries')).to.match(
      /Access Denied: Cannot select from table system\.runtime\.queries/,
    );
    expect(await refusal(analyst, `CALL system.runtime.kill_query(query_id => '${queryId}', message => 'x')`)).to.match(/Access Denied/);

    const listed = await request(`${trinoUrl()}/v1/query`, { headers: { authorization: basicAuthHeader(TRINO_USERS.analyst) } });
    expect(listed.status).to.equal(200);
    expect(listed.body).not.to.include(marker);
    const one = await request(`${trinoUrl()}/v1/query/${queryId}`, { headers: { authorization: basicAuthHeader(TRINO_USERS.analyst) } });
    expect(one.status, one.body.slice(0, 200)).to.be.oneOf([403, 404]);
    expect(one.body).not.to.include(marker);

    // Positive controls: the operator sees the query everywhere the analyst was refused.
    const opsList = await request(`${trinoUrl()}/v1/query`, { headers: { authorization: basicAuthHeader(TRINO_USERS.ops) } });
    expect(opsList.body).to.include(marker);
    const { rows } = await ops.query(`SELECT count(*) FROM system.runtime.queries WHERE query_id = '${queryId}'`);
    expect(rows).to.deep.equal([[1]]);
  });

  it('still lets an analyst query the fhir catalog and see their own query, but not turn pushdown off', async () => {
    const mine = await analyst.query('SELECT count(*) FROM fhir.default.patient');
    expect(Number(mine.rows[0]![0])).to.be.greaterThan(0);
    const stats = await analyst.queryStats(mine.queryId!);
    expect(stats).to.have.property('elapsedTime');
    expect(await refusal(analyst, "SET SESSION query_max_run_time = '1h'")).to.match(/Access Denied/);
    // Pushdown off would evaluate the label filters inside Trino, where the analyst's own expressions run too.
    expect(await refusal(analyst, 'SET SESSION fhir.pushdown_enabled = false')).to.match(/Access Denied/);
    const operator = await ops.query('SELECT count(*) FROM fhir.default.patient', { pushdown: false });
    expect(Number(operator.rows[0]![0])).to.be.greaterThan(0);
  });
});
