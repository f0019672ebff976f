// mesh_pseudonym, the connector's keyed-pseudonym function, in the real Trino: the key travels only as the
// extra credential mesh.pseudonym-key that the gateway adds, the answer is the gateway's own HMAC (Node's),
// a session without the key is refused by name, and the key shows neither in EXPLAIN, nor in the query's
// /v1/query info, nor in any file Trino writes.

import { createHmac, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { expect } from 'chai';
import { DOMAINS, paths, ROOT } from '../runtime/topology';
import { SERVER_LOG } from '../runtime/trino';
import { trinoClient, trinoRest } from '../runtime/trino-clients';
import { TRINO_USERS } from '../runtime/trino-security';
import { AS_STORED_SESSION } from './connector/engines';
import { nhsNumberOf, readResources } from './ground-truth';

const KEY_CREDENTIAL = 'mesh.pseudonym-key';
/** Fresh per run, so finding it anywhere can only mean this run's key leaked. */
const KEY = randomBytes(32).toString('hex');
const REFUSAL = 'mesh_pseudonym is only available to queries sent through the FHIR mesh gateway';

interface Vector {
  about: string;
  key: string;
  value: string;
  pseudonym: string;
}
const VECTORS = (JSON.parse(fs.readFileSync(path.join(ROOT, 'connector-spec', 'pseudonym-vectors.json'), 'utf8')) as { vectors: Vector[] }).vectors;

/** What the gateway computes for the same value (control-plane/test/pseudonym-vectors.test.ts pins it). */
function nodePseudonym(keyHex: string, value: string): string {
  return createHmac('sha256', Buffer.from(keyHex, 'hex')).update(value, 'utf8').digest('hex').slice(0, 32);
}

class QueryFailed extends Error {
  constructor(
    readonly errorName: string,
    message: string,
    readonly queryId: string | undefined,
  ) {
    super(message);
  }
}

/**
 * One statement as `user`, with these extra credentials. The operator by default: the analysts' view of
 * identity columns is the gateway's and the access rules' business, not this function's.
 */
async function query(sql: string, extraCredential: Record<string, string>, user: string = TRINO_USERS.ops): Promise<{ rows: unknown[][]; queryId: string }> {
  // The operator reads every patient, as stored, to compare with the NDJSON.
  const session = user === TRINO_USERS.ops ? { ...AS_STORED_SESSION } : {};
  const iterator = await trinoClient('fhir-mesh-pseudonym-e2e', user).query({ query: sql, extraCredential, session });
  const rows: unknown[][] = [];
  let queryId: string | undefined;
  for await (const result of iterator) {
    queryId ??= result.id;
    if (result.error) throw new QueryFailed(result.error.errorName, result.error.message, queryId);
    rows.push(...((result.data ?? []) as unknown[][]));
  }
  if (!queryId) throw new Error(`no query id for: ${sql}`);
  return { rows, queryId };
}

async function refusal(sql: string, extraCredential: Record<string, string>, user?: string): Promise<QueryFailed> {
  try {
    await query(sql, extraCredential, user);
  } catch (e) {
    if (e instanceof QueryFailed) return e;
    throw e;
  }
  throw new Error(`answered without a usable key: ${sql}`);
}

function sqlString(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

/** Every spelling of the key a leak could take: hex either case, and base64. */
function keySpellings(keyHex: string): string[] {
  return [keyHex, keyHex.toUpperCase(), Buffer.from(keyHex, 'hex').toString('base64')];
}

/** Every file of Trino's home (its etc, catalogs, request log, scratch space) but the plugin jars, and its logs. */
function trinoFiles(): string[] {
  const files = [SERVER_LOG, path.join(paths.logs, 'trino.log')];
  const walk = (dir: string): void => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const file = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(file);
      else if (entry.isFile()) files.push(file);
    }
  };
  for (const entry of fs.readdirSync(paths.trinoHome, { withFileTypes: true })) {
    if (entry.isDirectory() && entry.name !== 'plugin') walk(path.join(paths.trinoHome, entry.name));
  }
  return files;
}

describe('mesh_pseudonym in Trino: keyed by the gateway extra credential only', function () {
  this.timeout(120_000);
  const withKey = { [KEY_CREDENTIAL]: KEY };

  it("gives every patient the gateway's HMAC of their NHS number, the same at every trust", async () => {
    const expected = new Map<string, string | null>();
    for (const domain of DOMAINS) {
      for (const patient of readResources(domain, 'Patient')) {
        const nhs = nhsNumberOf(patient);
        expected.set(`${domain.odsCode}/${patient.id}`, nhs === undefined ? null : nodePseudonym(KEY, nhs));
      }
    }
    const { rows } = await query('SELECT domain, id, mesh_pseudonym(nhs_number) FROM fhir.default.patient', withKey);
    const actual = new Map(rows.map(([domain, id, pseudonym]) => [`${String(domain).toUpperCase()}/${String(id)}`, pseudonym]));
    expect(actual.size).to.equal(rows.length);
    expect(Object.fromEntries(actual)).to.deep.equal(Object.fromEntries(expected));

    // Patients seen at two trusts share an NHS number, so a join on pseudonyms finds them.
    const { rows: linked } = await query(
      `SELECT count(*) FROM fhir.default.patient a JOIN fhir.default.patient b
      ON mesh_pseudonym(a.nhs_number) = mesh_pseudonym(b.nhs_number) AND a.domain < b.domain`,
      withKey,
    );
    const byNhs = new Map<string, number>();
    for (const domain of DOMAINS) {
      for (const patient of readResources(domain, 'Patient')) {
        const nhs = nhsNumberOf(patient);
        if (nhs) byNhs.set(nhs, (byNhs.get(nhs) ?? 0) + 1);
      }
    }
    const pairs = [...byNhs.values()].reduce((sum, n) => sum + (n * (n - 1)) / 2, 0);
    expect(pairs, 'the ground truth has patients at two trusts').to.be.greaterThan(0);
    expect(linked).to.deep.equal([[pairs]]);
  });

  it('agrees with the shared vectors, non-ASCII included, and gives NULL for NULL', async () => {
    for (const key of new Set(VECTORS.map((v) => v.key))) {
      const vectors = VECTORS.filter((v) => v.key === key);
      const values = vectors.map((v, i) => `(${i}, ${sqlString(v.value)})`).join(', ');
      const { rows } = await query(`SELECT i, mesh_pseudonym(v) FROM (VALUES ${values}) AS t(i, v) ORDER BY i`, { [KEY_CREDENTIAL]: key });
      expect(rows).to.deep.equal(vectors.map((v, i) => [i, v.pseudonym]));
    }
    expect((await query('SELECT mesh_pseudonym(CAST(NULL AS varchar))', withKey)).rows).to.deep.equal([[null]]);
  });

  it('refuses a session without the key, or with a malformed one, by name and without echoing it', async () => {
    for (const user of [TRINO_USERS.analyst, TRINO_USERS.ops]) {
      // Trino's access rules hide nhs_number from an analyst altogether (trino-direct-access.e2e.ts).
      const reads = user === TRINO_USERS.ops ? ['SELECT mesh_pseudonym(nhs_number) FROM fhir.default.patient'] : [];
      for (const sql of ["SELECT mesh_pseudonym('9434765919')", ...reads]) {
        const missing = await refusal(sql, {}, user);
        expect(missing.errorName, missing.message).to.equal('PERMISSION_DENIED');
        expect(missing.message).to.equal(`${REFUSAL}: this session has no pseudonym key`);
      }
    }
    // Another credential (the purpose of use, say) is not a key.
    expect((await refusal("SELECT mesh_pseudonym('x')", { purpose: 'research' })).message).to.equal(`${REFUSAL}: this session has no pseudonym key`);
    for (const malformed of [KEY.toUpperCase(), KEY.slice(2), Buffer.from(KEY, 'hex').toString('base64')]) {
      // Trino URL-decodes credential values and trino-client does not encode them (base64 has '=').
      const refused = await refusal('SELECT mesh_pseudonym(nhs_number) FROM fhir.default.patient', { [KEY_CREDENTIAL]: encodeURIComponent(malformed) });
      expect(refused.errorName).to.equal('PERMISSION_DENIED');
      expect(refused.message).to.match(new RegExp(`^${REFUSAL}: this session's pseudonym key must be 64 lowercase hexadecimal characters`));
      expect(refused.message).not.to.include(malformed.slice(4, 20));
    }
  });

  it("keeps the key out of EXPLAIN, the query info and Trino's files", async () => {
    const sql = 'SELECT domain, mesh_pseudonym(nhs_number) AS patient_id FROM fhir.default.patient';
    const explain = await query(`EXPLAIN ${sql}`, withKey);
    const plan = explain.rows.map((r) => String(r[0])).join('\n');
    expect(plan, 'the plan shows the call').to.include('mesh_pseudonym');
    const answered = await query(sql, withKey);
    expect(answered.rows.length).to.be.greaterThan(0);

    for (const { queryId } of [explain, answered]) {
      const info = await trinoRest(`/v1/query/${queryId}`, TRINO_USERS.ops);
      expect(info.status, info.body.slice(0, 300)).to.equal(200);
      expect(info.body, 'the info is about this query').to.include(queryId).and.to.include('mesh_pseudonym');
      for (const spelling of keySpellings(KEY)) {
        expect(info.body.includes(spelling), `query info of ${queryId} carries the key`).to.equal(false);
        expect(plan.includes(spelling), 'EXPLAIN carries the key').to.equal(false);
      }
    }

    // The request log is written asynchronously: wait until it has this query, then nothing may hold the key.
    const requestLog = path.join(paths.trinoHome, 'var', 'log', 'http-request.log');
    for (let waited = 0; !fs.readFileSync(requestLog, 'utf8').includes(answered.queryId); waited += 250) {
      if (waited > 15_000) throw new Error(`${requestLog} never logged query ${answered.queryId}`);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    const files = trinoFiles();
    expect(files).to.include(requestLog);
    for (const file of files) {
      const content = fs.readFileSync(file);
      for (const spelling of keySpellings(KEY)) expect(content.includes(spelling), `${file} carries the key`).to.equal(false);
    }
  });
});
