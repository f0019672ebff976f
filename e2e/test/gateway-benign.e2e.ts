// Benign analyst queries through the SQL gateway (issue 12: "a gateway that refuses everything fails"):
// several hundred ordinary queries (benign-battery.ts) sent as alice, each compared with the same SQL
// over the policy form of the tables computed independently from the NDJSON (benign-oracle.ts). The
// same queries with purpose planning give the same answers; a direct-care consumer sees what its
// purpose allows (PSY/HIV/SDV, opted-out patients) and still never V or an identifier.
import { expect } from 'chai';
import { api, DEMO_ANALYST } from '../runtime/demo-registry';
import { demoIdentity, type GatewayIdentity, type GatewayResult } from '../runtime/gateway-client';
import { type Cell, describeDifference, difference, normaliseRows } from './connector/compare';
import { truthTables } from './connector/truth';
import { AnalystSession } from './gateway/analyst-session';
import { type BenignQuery, benignBattery, benignFacts } from './gateway/benign-battery';
import {
  DIRECT_CARE_RULES,
  loadPolicyTruth,
  PolicyTruthEngine,
  policyColumns,
  policyColumnTypes,
  policyTables,
  projectKey,
  RESEARCH_RULES,
} from './gateway/benign-oracle';
import { connectionLost, MAX_RETRIES, pauseBeforeRetry, throwIfConnectionLost } from './gateway/connection-loss';

/** Small: the mesh's two cores are shared with Trino and three HAPI trusts. */
const CONCURRENCY = Number(process.env.BENIGN_CONCURRENCY ?? 2);
const DIRECT_CARE_CONSUMER = 'benign-direct-care';
/** Planning has research's rules: every Nth query is asked again (1: all of them; the run time doubles). */
const PLANNING_EVERY = Number(process.env.BENIGN_PLANNING_EVERY ?? 3);

interface Outcome {
  query: BenignQuery;
  /** Undefined when answered correctly; otherwise what was wrong. */
  failure?: string;
  ms: number;
  /** Attempts lost to a dropped connection (a restart of the control plane or Trino) before the answer. */
  retries: number;
}

function refusal(result: GatewayResult): string | undefined {
  throwIfConnectionLost(result);
  if (result.httpStatus !== undefined) return `HTTP ${result.httpStatus}: ${result.httpText ?? ''}`.trim();
  if (result.error) return `${result.error.errorName}: ${result.error.message}`;
  return undefined;
}

/** Runs one benign query in a fresh client session; undefined if its answer is right, else why not. */
async function check(query: BenignQuery, identity: GatewayIdentity, oracle: PolicyTruthEngine): Promise<string | undefined> {
  const session = new AnalystSession(identity);
  for (const statement of query.setup ?? []) {
    const problem = refusal(await session.run(statement));
    if (problem) return `setup statement ${statement} was not answered: ${problem}`;
  }
  if (query.prepared) {
    const held = session.prepared.get(query.prepared.name);
    if (held !== query.prepared.text) return `after PREPARE the client holds ${query.prepared.name} = ${JSON.stringify(held)}, not the text written`;
  }
  const result = await session.run(query.sql);
  const problem = refusal(result);
  if (problem) return `not answered: ${problem}`;
  const names = result.columns.map((c) => c.name);
  if (query.columns && JSON.stringify(names) !== JSON.stringify(query.columns))
    return `columns ${JSON.stringify(names)}, expected ${JSON.stringify(query.columns)}`;
  if (query.answers) return result.rows.length > 0 ? undefined : 'answered with no rows';
  const types = result.columns.map((c) => c.type);
  const actual = normaliseRows(result.rows, types);
  if (query.includes) {
    const missing = normaliseRows(query.includes, types).filter((row) => !actual.some((a) => JSON.stringify(a) === JSON.stringify(row)));
    return missing.length ? `missing rows ${JSON.stringify(missing)} in ${JSON.stringify(actual)}` : undefined;
  }
  let expected: Cell[][];
  if (query.expected) expected = normaliseRows(query.expected, types);
  else {
    const truth = await oracle.query(query.oracleSql ?? query.sql);
    if (truth.columns.length !== types.length) return `${types.length} columns, the oracle has ${truth.columns.length}`;
    expected = normaliseRows(truth.rows, types);
  }
  const d = difference(actual, expected, { ordered: query.ordered });
  return d ? describeDifference(d, 'gateway', 'policy-form oracle') : undefined;
}

async function runAll(queries: readonly BenignQuery[], identity: GatewayIdentity, oracle: PolicyTruthEngine): Promise<Outcome[]> {
  const outcomes: Outcome[] = new Array(queries.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    for (let i = next++; i < queries.length; i = next++) {
      const query = queries[i]!;
      const started = Date.now();
      let failure: string | undefined;
      let retries = 0;
      for (;;) {
        try {
          failure = await check(query, identity, oracle);
          break;
        } catch (e) {
          if (!connectionLost(e) || retries === MAX_RETRIES) {
            failure = `threw: ${(e as Error).message}`;
            break;
          }
          retries++;
          await pauseBeforeRetry();
        }
      }
      outcomes[i] = { query, failure, ms: Date.now() - started, retries };
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  return outcomes;
}

function summary(label: string, outcomes: readonly Outcome[], elapsedMs: number): string {
  const correct = outcomes.filter((o) => !o.failure).length;
  const families = new Map<string, [number, number, number]>();
  for (const o of outcomes) {
    const [n, ok, ms] = families.get(o.query.family) ?? [0, 0, 0];
    families.set(o.query.family, [n + 1, ok + (o.failure ? 0 : 1), ms + o.ms]);
  }
  const retried = outcomes.filter((o) => o.retries > 0).length;
  const slowest = [...outcomes].sort((a, b) => b.ms - a.ms).slice(0, 3);
  return [
    `${outcomes.length} benign: ${correct} answered correctly (${label}, ${(elapsedMs / 1000).toFixed(0)} s at concurrency ${CONCURRENCY}` +
      `${retried ? `; ${retried} retried after a dropped connection` : ''})`,
    `  by family (correct/all, seconds): ${[...families].map(([f, [n, ok, ms]]) => `${f} ${ok}/${n} ${(ms / 1000).toFixed(0)}`).join(', ')}`,
    ...slowest.map((o) => `  slow: ${o.ms} ms ${o.query.sql.slice(0, 120)}`),
  ].join('\n');
}

function failures(outcomes: readonly Outcome[]): string {
  return outcomes
    .filter((o) => o.failure)
    .map((o) => `- ${[...(o.query.setup ?? []), o.query.sql].join(' ; ')}\n    ${o.failure!.replace(/\n/g, '\n    ')}`)
    .join('\n');
}

/** A consumer whose only purpose is direct care, in alice's project; its token issued afresh. */
async function directCareIdentity(): Promise<GatewayIdentity> {
  const created = await api('POST', '/consumers', {
    name: DIRECT_CARE_CONSUMER,
    kind: 'user',
    roles: ['analyst'],
    allowedPurposes: ['direct-care'],
    policies: { projects: [DEMO_ANALYST.project] },
  });
  let token = created.status === 201 ? (created.body?.token as string | undefined) : undefined;
  if (!token) {
    const existing = await api('GET', `/consumers/${DIRECT_CARE_CONSUMER}`);
    expect(existing.status, `creating ${DIRECT_CARE_CONSUMER}: HTTP ${created.status} ${JSON.stringify(created.body)}`).to.equal(200);
    const issued = await api('POST', `/consumers/${DIRECT_CARE_CONSUMER}/token`);
    expect(issued.status, JSON.stringify(issued.body)).to.be.lessThan(300);
    token = String(issued.body.token);
  }
  return { user: DIRECT_CARE_CONSUMER, token, purpose: 'direct-care', project: DEMO_ANALYST.project };
}

describe('SQL gateway: benign analyst queries answered as the policy form answers them', function () {
  this.timeout(3_600_000);
  const research = new PolicyTruthEngine(RESEARCH_RULES);
  const directCare = new PolicyTruthEngine(DIRECT_CARE_RULES);
  let queries: BenignQuery[] = [];

  before(async () => {
    await loadPolicyTruth();
    queries = benignBattery(benignFacts(policyTables(RESEARCH_RULES, projectKey())));
  });

  after(async () => {
    await research.close();
    await directCare.close();
  });

  it('the oracle is the policy form: restricted labels, opted-out patients and identifiers are gone from it', async () => {
    // Guards against an oracle that agrees with a broken gateway by being broken the same way.
    const raw = truthTables();
    expect(
      raw.condition!.some((c) => (c.security_labels as string[]).includes('V')),
      'the data has V-labelled conditions',
    ).to.equal(true);
    const counts = (await research.query('SELECT count(*), count(DISTINCT id) FROM fhir.default.patient')).rows[0] as number[];
    const distinctNhs = new Set(raw.patient!.map((p) => p.nhs_number)).size;
    expect(counts[1], 'distinct people, opted-out ones removed').to.be.lessThan(distinctNhs);
    expect((await directCare.query('SELECT count(DISTINCT id) FROM fhir.default.patient')).rows).to.deep.equal([[distinctNhs]]);
    expect(
      (await research.query("SELECT count(*) FROM fhir.default.condition WHERE contains(security_labels, 'V') OR contains(security_labels, 'PSY')")).rows,
    ).to.deep.equal([[0]]);
    expect(policyColumns('patient').map(([n]) => n)).to.not.include.members(['nhs_number']);
    const district = (await research.query("SELECT count(*) FROM fhir.default.patient WHERE postcode LIKE '% %' OR length(postcode) > 4")).rows;
    expect(district, 'postcodes are districts').to.deep.equal([[0]]);
  });

  it('at least 300 benign queries as alice (purpose research): every one answered correctly', async () => {
    expect(queries.length).to.be.at.least(300);
    const started = Date.now();
    const outcomes = await runAll(queries, demoIdentity(), research);
    console.log(summary('research', outcomes, Date.now() - started));
    expect(outcomes.filter((o) => o.failure).length, `wrongly refused or wrongly answered:\n${failures(outcomes)}`).to.equal(0);
  });

  it(`the same queries with purpose planning (the same rules): the same answers (${PLANNING_EVERY === 1 ? 'all' : `1 in ${PLANNING_EVERY}`})`, async () => {
    const started = Date.now();
    const sample = queries.filter((_, i) => i % PLANNING_EVERY === 0);
    const outcomes = await runAll(sample, demoIdentity({ purpose: 'planning' }), research);
    console.log(summary('planning', outcomes, Date.now() - started));
    expect(outcomes.filter((o) => o.failure).length, `wrongly refused or wrongly answered:\n${failures(outcomes)}`).to.equal(0);
  });

  it('direct care (a second consumer): PSY/HIV/SDV resources and opted-out patients are seen, V never, identifiers stay removed', async () => {
    const identity = await directCareIdentity();
    const labelled = (table: string): string =>
      `SELECT count(*) FILTER (WHERE contains(security_labels, 'PSY')), count(*) FILTER (WHERE contains(security_labels, 'HIV')), ` +
      `count(*) FILTER (WHERE contains(security_labels, 'SDV')), count(*) FILTER (WHERE contains(security_labels, 'V')) FROM fhir.default.${table}`;
    // Each answer equals the direct-care oracle AND differs from research's: the purpose changes what is seen.
    const differing: BenignQuery[] = [
      ...['condition', 'observation', 'procedure', 'encounter', 'medication_request'].map((t) => ({ family: 'direct-care', sql: labelled(t) })),
      { family: 'direct-care', sql: 'SELECT count(*), count(DISTINCT id) FROM fhir.default.patient' },
      { family: 'direct-care', sql: 'SELECT domain, count(*) FROM fhir.default.consent GROUP BY domain' },
      { family: 'direct-care', sql: 'SELECT domain, id, gender, birth_date, postcode FROM fhir.default.patient' },
      {
        family: 'direct-care',
        sql: "SELECT count(DISTINCT patient_id) FROM fhir.default.condition WHERE code IN (SELECT code FROM fhir.default.condition WHERE contains(security_labels, 'PSY'))",
      },
    ];
    // Identifiers stay removed for direct care (only break-glass lifts that): the same shape as research.
    const same: BenignQuery[] = [
      { family: 'direct-care', sql: 'SELECT * FROM fhir.default.patient LIMIT 0', expected: [], columns: policyColumns('patient').map(([n]) => n) },
      { family: 'direct-care', sql: 'DESCRIBE fhir.default.patient', expected: policyColumnTypes('patient').map(([n, t]) => [n, t, '', '']), ordered: true },
      { family: 'direct-care', sql: "SELECT count(*) FROM fhir.default.observation WHERE contains(security_labels, 'V')" },
    ];
    const outcomes = await runAll([...differing, ...same], identity, directCare);
    expect(outcomes.filter((o) => o.failure).length, failures(outcomes)).to.equal(0);
    for (const q of differing) {
      const dc = await directCare.query(q.sql);
      const rs = await research.query(q.sql);
      expect(JSON.stringify(dc.rows), `${q.sql}: direct care and research differ`).to.not.equal(JSON.stringify(rs.rows));
    }
    for (const table of ['condition', 'observation', 'procedure']) {
      const [psy, hiv, sdv, v] = (await directCare.query(labelled(table))).rows[0] as number[];
      expect(psy! + hiv! + sdv!, `${table}: sensitive resources seen`).to.be.greaterThan(0);
      expect(v, `${table}: V never`).to.equal(0);
    }
    for (const column of ['nhs_number', 'family_name', 'given_name']) {
      const session = new AnalystSession(identity);
      const answer = await session.run(`SELECT ${column} FROM fhir.default.patient`);
      expect(answer.rows, `${column} for direct care`).to.deep.equal([]);
      expect(answer.error?.message ?? '', `${column} for direct care`).to.include(column);
    }
  });
});
