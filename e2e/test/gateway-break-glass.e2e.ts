// Break-glass for direct care, through the real Trino CLI: an explicit, time-limited, reasoned grant lifts
// identifier removal for one consumer and purpose; every use is flagged in the audit; an expired or revoked
// grant lifts nothing. Identifiers are checked against the NDJSON ground truth.
import { expect } from 'chai';
import { Client } from 'pg';
import { api } from '../runtime/demo-registry';
import { connectionString } from '../runtime/postgres';
import { DOMAINS, postgres } from '../runtime/topology';
import { type ClientLogin, trinoCli } from './gateway/real-clients';
import { nhsNumberOf, readResources } from './ground-truth';

const CLINICIAN = 'break-glass-clinician';
const QUERY = 'SELECT id, nhs_number, family_name, birth_date, postcode FROM fhir.default.patient ORDER BY nhs_number, id LIMIT 5';

interface AuditEntry {
  action: string;
  entityId: string;
  after: { user?: string; breakGlass?: { grant: string; reason: string; expiresAt: string }; sql?: string };
}

async function queryAudit(queryId: string): Promise<AuditEntry[]> {
  const entries = (await api('GET', `/audit?entity=query&entityId=${encodeURIComponent(queryId)}&limit=10`)).body as AuditEntry[];
  return entries;
}

async function registry<T>(fn: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: connectionString(postgres.registryDatabase) });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

describe('gateway: break-glass for direct care (real Trino CLI)', function () {
  this.timeout(600_000);
  let login: ClientLogin;
  const patients = new Map<string, { nhs: string; family: string; birthDate: string }>();

  before(async () => {
    await api('DELETE', `/consumers/${CLINICIAN}`);
    const created = await api('POST', '/consumers', {
      name: CLINICIAN,
      kind: 'user',
      roles: ['analyst'],
      allowedPurposes: ['direct-care', 'research'],
      policies: { projects: ['ed-handover'] },
    });
    expect(created.status, JSON.stringify(created.body)).to.equal(201);
    login = { user: CLINICIAN, token: created.body.token as string, credentials: { purpose: 'direct-care', project: 'ed-handover' } };
    for (const domain of DOMAINS) {
      for (const p of readResources(domain, 'Patient')) {
        const name = (p.name as { use?: string; family?: string }[] | undefined)?.find((n) => n.use === 'official');
        patients.set(p.id, { nhs: nhsNumberOf(p) ?? '', family: name?.family ?? '', birthDate: String(p.birthDate) });
      }
    }
  });

  after(async () => {
    await api('DELETE', `/consumers/${CLINICIAN}`);
  });

  it('without a grant, direct care sees the policy form: the identifier columns are not there', async () => {
    const run = await trinoCli(QUERY, login);
    expect(run.exitCode).to.not.equal(0);
    expect(run.stderr).to.include("Column 'nhs_number' cannot be resolved: nhs_number is an NHS number (direct identifier), removed");
  });

  it('refuses a grant without a real reason, longer than a day, or for a purpose the consumer lacks', async () => {
    expect((await api('POST', `/consumers/${CLINICIAN}/break-glass`, { reason: 'because', minutes: 30 })).status).to.equal(400);
    expect(
      (await api('POST', `/consumers/${CLINICIAN}/break-glass`, { reason: 'Unconscious patient in resus, history needed', minutes: 2000 })).status,
    ).to.equal(400);
    const wrongPurpose = await api('POST', `/consumers/${CLINICIAN}/break-glass`, {
      reason: 'Unconscious patient in resus, history needed',
      minutes: 30,
      purpose: 'planning',
    });
    expect(wrongPurpose.status).to.equal(400);
    expect(wrongPurpose.body.message).to.include("may not query for purpose 'planning'");
  });

  it('with a grant, the same query returns the stored identifiers, and the audit flags the use', async () => {
    const reason = 'Unconscious patient in ED resus: care team needs previous admissions at other trusts';
    const grant = await api('POST', `/consumers/${CLINICIAN}/break-glass`, { reason, minutes: 30 });
    expect(grant.status, JSON.stringify(grant.body)).to.equal(201);
    const run = await trinoCli(QUERY, login);
    expect(run.exitCode, run.stderr).to.equal(0);
    expect(run.rows).to.have.length(5);
    for (const row of run.rows) {
      const truth = patients.get(String(row.id));
      expect(truth, `row ${JSON.stringify(row)} is a raw Patient id from the NDJSON`).to.not.equal(undefined);
      expect(row.nhs_number).to.equal(truth!.nhs);
      expect(row.family_name).to.equal(truth!.family);
      expect(row.birth_date).to.equal(truth!.birthDate);
    }
    expect(run.queryId).to.be.a('string');
    const audit = await queryAudit(run.queryId!);
    const started = audit.find((e) => e.action === 'query.started');
    expect(started?.after.user).to.equal(CLINICIAN);
    expect(started?.after.breakGlass).to.deep.include({ grant: grant.body.id, reason });
    expect(audit.map((e) => e.action)).to.include('query.finished');
    // The grant itself is a registry change, audited apart from its uses.
    const grants = (await api('GET', `/audit?entity=consumer&entityId=${CLINICIAN}&limit=20`)).body as { action: string }[];
    expect(grants.map((g) => g.action)).to.include('break-glass.grant');
  });

  it('research queries of the same consumer stay pseudonymised while the direct-care grant is active', async () => {
    const run = await trinoCli('SELECT id FROM fhir.default.patient LIMIT 3', { ...login, credentials: { purpose: 'research', project: 'ed-handover' } });
    expect(run.exitCode, run.stderr).to.equal(0);
    for (const row of run.rows) expect(String(row.id)).to.match(/^[0-9a-f]{32}$/);
  });

  it('an expired grant lifts nothing, and the query is not flagged', async () => {
    // Age every grant of this consumer past its expiry, as time would (the gateway checks on each statement).
    await registry((client) =>
      client.query(
        `update break_glass_grants set granted_at = now() - interval '2 hours', expires_at = now() - interval '1 hour'
          where consumer_id = (select id from consumers where name = $1)`,
        [CLINICIAN],
      ),
    );
    const listed = (await api('GET', `/consumers/${CLINICIAN}/break-glass`)).body as { active: boolean }[];
    expect(listed.length).to.be.greaterThan(0);
    expect(listed.every((g) => !g.active)).to.equal(true);
    const run = await trinoCli(QUERY, login);
    expect(run.exitCode).to.not.equal(0);
    expect(run.stderr).to.include("Column 'nhs_number' cannot be resolved");
    const ids = await trinoCli('SELECT id FROM fhir.default.patient LIMIT 3', login);
    expect(ids.exitCode, ids.stderr).to.equal(0);
    for (const row of ids.rows) expect(String(row.id)).to.match(/^[0-9a-f]{32}$/);
    const audit = await queryAudit(ids.queryId!);
    expect(audit.find((e) => e.action === 'query.started')?.after.breakGlass).to.equal(undefined);
  });

  it('a revoked grant lifts nothing from the next statement on', async () => {
    const grant = await api('POST', `/consumers/${CLINICIAN}/break-glass`, { reason: 'Second ED attendance, same patient, history needed', minutes: 30 });
    expect((await trinoCli(QUERY, login)).exitCode).to.equal(0);
    const revoked = await api('DELETE', `/consumers/${CLINICIAN}/break-glass/${grant.body.id}`);
    expect(revoked.body.active).to.equal(false);
    expect((await trinoCli(QUERY, login)).exitCode).to.not.equal(0);
  });

  it('never lets break-glass identifiers bypass V labels: a V-labelled resource stays hidden', async () => {
    await api('POST', `/consumers/${CLINICIAN}/break-glass`, { reason: 'Third check: very restricted records stay restricted', minutes: 30 });
    const vIds = DOMAINS.flatMap((d) =>
      readResources(d, 'Condition')
        .filter((c) => ((c.meta as { security?: { code: string }[] } | undefined)?.security ?? []).some((s) => s.code === 'V'))
        .map((c) => c.id),
    );
    expect(vIds.length).to.be.greaterThan(0);
    const run = await trinoCli(`SELECT count(*) AS n FROM fhir.default.condition WHERE id IN (${vIds.map((id) => `'${id}'`).join(', ')})`, login);
    expect(run.exitCode, run.stderr).to.equal(0);
    expect(Number(run.rows[0]!.n)).to.equal(0);
  });
});
