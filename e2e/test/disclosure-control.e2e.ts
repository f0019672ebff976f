// Disclosure control through the SQL gateway (issue 13), on the synthetic mesh: aggregate-only consumers
// get differentially private or small-number-suppressed answers, computed by the gateway from bounded
// measurements Trino makes across all trusts. Answers are compared with the exact ground truth computed
// here from the NDJSON (the policy's exclusions applied independently of the mesh), and with the
// interval each answer states. Noise makes single answers random: assertions allow three times the
// stated 95% half-width (a false alarm about once in ten thousand runs per number).
import { expect } from 'chai';
import { api } from '../runtime/demo-registry';
import { type GatewayIdentity, type GatewayResult, gatewayQuery } from '../runtime/gateway-client';
import { DOMAINS } from '../runtime/topology';
import { nhsNumberOf, optedOut, type Resource, readResources, securityCodes } from './ground-truth';

const THROMBOLYSIS = '426347000';
const RESEARCH_EXCLUDED = ['V', 'PSY', 'HIV', 'SDV'];
const RUN = Date.now().toString(36);
const ALLOWED_FORM = /Aggregate-only access allows: SELECT <group keys>/;

const STROKE_FROM =
  'FROM encounter e JOIN condition c ON c.encounter_id = e.id AND c.patient_id = e.patient_id ' +
  `LEFT JOIN procedure p ON p.encounter_id = e.id AND p.patient_id = e.patient_id AND p.code = '${THROMBOLYSIS}' ` +
  "WHERE e.class_code = 'EMER' AND c.icd10_code LIKE 'I63%'";
const MINUTES = "avg(least(greatest(date_diff('minute', e.start, p.performed_start), 0), 240))";

/** Resources a research purpose may see: none labelled V, PSY, HIV or SDV. */
function visible(r: Resource): boolean {
  return !securityCodes(r).some((c) => RESEARCH_EXCLUDED.includes(c));
}

/** The research view's patients of one trust (id -> NHS number): opted-out, unnumbered and labelled patients left out. */
function researchPatients(domain: (typeof DOMAINS)[number], optOuts = optedOut()): Map<string, string> {
  const nhsOf = new Map<string, string>();
  for (const p of readResources(domain, 'Patient')) {
    const nhs = nhsNumberOf(p);
    if (nhs && !optOuts.nhsNumbers.has(nhs) && visible(p)) nhsOf.set(p.id, nhs);
  }
  return nhsOf;
}

interface StrokeTruth {
  /** Per ODS code: distinct patients with a stroke encounter, thrombolysis minutes (clamped to [0, 240]). */
  byTrust: Map<string, { patients: Set<string>; minutes: number[] }>;
  persons: Set<string>;
  encounters: number;
}

/** The research purpose's view of the stroke cohort, from the NDJSON: opt-outs, labels and NHS numbers applied. */
function strokeTruth(): StrokeTruth {
  const optOuts = optedOut();
  const truth: StrokeTruth = { byTrust: new Map(), persons: new Set(), encounters: 0 };
  for (const domain of DOMAINS) {
    const nhsOf = researchPatients(domain, optOuts);
    const patientOf = (r: Resource): string | undefined => nhsOf.get(String((r.subject as { reference?: string })?.reference ?? '').replace('Patient/', ''));
    const encounterOf = (r: Resource): string => String((r.encounter as { reference?: string })?.reference ?? '').replace('Encounter/', '');
    const strokeEncounters = new Set(
      readResources(domain, 'Condition')
        .filter((c) => visible(c) && patientOf(c))
        .filter((c) =>
          ((c.code as { coding?: { system?: string; code?: string }[] })?.coding ?? []).some(
            (x) => x.system === 'http://hl7.org/fhir/sid/icd-10' && x.code?.startsWith('I63'),
          ),
        )
        .map(encounterOf),
    );
    const trust = { patients: new Set<string>(), minutes: [] as number[] };
    for (const e of readResources(domain, 'Encounter')) {
      const nhs = patientOf(e);
      if (!nhs || !visible(e) || (e.class as { code?: string })?.code !== 'EMER' || !strokeEncounters.has(e.id)) continue;
      truth.encounters++;
      trust.patients.add(nhs);
      truth.persons.add(nhs);
      const arrival = Date.parse(String((e.period as { start?: string }).start));
      for (const p of readResources(domain, 'Procedure')) {
        if (encounterOf(p) !== e.id || !visible(p)) continue;
        if (!((p.code as { coding?: { code?: string }[] })?.coding ?? []).some((x) => x.code === THROMBOLYSIS)) continue;
        const start = Date.parse(String((p.performedPeriod as { start?: string })?.start ?? p.performedDateTime));
        trust.minutes.push(Math.min(240, Math.max(0, Math.trunc((start - arrival) / 60_000))));
      }
    }
    truth.byTrust.set(domain.odsCode, trust);
  }
  return truth;
}

/** The mesh's tables unqualified, as analysts name them after USE fhir.default. */
function ask(sql: string, request: { identity: GatewayIdentity; headers?: Record<string, string> }): Promise<GatewayResult> {
  return gatewayQuery(sql, { catalog: 'fhir', schema: 'default', ...request });
}

const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;

async function consumer(
  name: string,
  disclosure: Record<string, unknown>,
  budget?: { epsilon: number; period: string },
  projects = ['stroke-audit'],
): Promise<GatewayIdentity> {
  const created = await api('POST', '/consumers', {
    name,
    kind: 'user',
    roles: ['researcher'],
    allowedPurposes: ['research'],
    policies: { projects, disclosure },
    ...(budget ? { budget } : {}),
  });
  expect(created.status, JSON.stringify(created.body)).to.equal(201);
  const issued = await api('POST', `/consumers/${name}/token`);
  expect(issued.status, JSON.stringify(issued.body)).to.be.lessThan(300);
  return { user: name, token: String(issued.body.token), purpose: 'research', project: 'stroke-audit' };
}

function ok(result: GatewayResult): GatewayResult {
  expect(result.error, JSON.stringify(result.error)).to.equal(undefined);
  expect(result.httpStatus, result.httpText).to.equal(undefined);
  return result;
}

function column(result: GatewayResult, name: string): number {
  const i = result.columns.findIndex((c) => c.name === name);
  expect(i, `column ${name} in ${result.columns.map((c) => c.name)}`).to.be.greaterThan(-1);
  return i;
}

/** The truth lies within three stated half-widths of the answer (and the interval contains the answer). */
function within(result: GatewayResult, row: unknown[], name: string, truth: number): void {
  const [v, low, high] = [row[column(result, name)], row[column(result, `${name}_ci95_low`)], row[column(result, `${name}_ci95_high`)]].map(Number) as [
    number,
    number,
    number,
  ];
  expect(low, `${name}: interval [${low}, ${high}] around ${v}`).to.be.at.most(v);
  expect(high).to.be.at.least(v);
  const slack = 2 * Math.max(high - v, v - low);
  expect(truth, `${name}=${v} (95%: ${low}–${high}) vs truth ${truth}`).to.be.within(low - slack, high + slack);
}

describe('disclosure control: differentially private aggregates, budgets, small-number suppression (issue 13)', function () {
  this.timeout(1_200_000);
  const truth = strokeTruth();
  let researcher: GatewayIdentity;

  before(async () => {
    researcher = await consumer(`dp-stroke-${RUN}`, { mode: 'differential-privacy', epsilonPerQuery: 1 }, { epsilon: 50, period: 'month' });
    const total = [...truth.byTrust.values()].reduce((n, t) => n + t.patients.size, 0);
    expect(total, 'stroke cases in the synthetic data (research view)').to.be.greaterThan(100);
  });

  after(async () => {
    for (const name of ['dp-stroke', 'dp-small-budget', 'dp-parallel', 'dp-precise', 'dp-two-projects', 'dp-gaussian', 'sdc', 'kanon'])
      await api('DELETE', `/consumers/${name}-${RUN}`).catch(() => undefined);
  });

  describe('stroke: mean arrival-to-thrombolysis minutes and cases, per trust and overall', () => {
    it('per trust: every trust listed (ODS codes are public), each answer within its interval of the truth', async () => {
      const result = ok(
        await ask(`SELECT e.domain, count(DISTINCT e.patient_id) AS cases, ${MINUTES} AS minutes ${STROKE_FROM} GROUP BY e.domain ORDER BY e.domain`, {
          identity: researcher,
        }),
      );
      expect(result.rows.map((r) => r[0])).to.deep.equal(DOMAINS.map((d) => d.odsCode).sort());
      for (const row of result.rows) {
        const t = truth.byTrust.get(String(row[0]))!;
        within(result, row, 'cases', t.patients.size);
        within(result, row, 'minutes', mean(t.minutes));
        const m = column(result, 'minutes');
        console.log(
          `      ${row[0]}: ${Math.round(Number(row[m]))} min (95%: ${Math.round(Number(row[m + 1]))}–${Math.round(Number(row[m + 2]))}), ` +
            `${row[column(result, 'cases')]} cases; truth ${mean(t.minutes).toFixed(1)} min, ${t.patients.size} cases`,
        );
      }
      expect(result.warnings.join('\n'))
        .to.match(/differential privacy: ε=1 spent/)
        .and.match(/clamped to \[0, 240\]/);
    });

    it('overall: one number for all trusts, a patient seen at two trusts counted once', async () => {
      const result = ok(await ask(`SELECT count(DISTINCT e.patient_id) AS cases, ${MINUTES} AS minutes ${STROKE_FROM}`, { identity: researcher }));
      const all = [...truth.byTrust.values()].flatMap((t) => t.minutes);
      within(result, result.rows[0]!, 'cases', truth.persons.size);
      within(result, result.rows[0]!, 'minutes', mean(all));
      const [cases, minutes, low, high] = [result.rows[0]![0], ...result.rows[0]!.slice(3)].map(Number) as [number, number, number, number];
      console.log(
        `      overall: ${Math.round(minutes)} min (±${Math.round((high - low) / 2)}, 95%), ${cases} cases; truth ${mean(all).toFixed(1)} min, ${truth.persons.size} cases`,
      );
      console.log(`      ${result.warnings.join('\n      ')}`);
    });
  });

  describe('other mechanisms and public key sets', () => {
    it('discrete Gaussian (ε, δ): the stroke overall figures within their intervals, δ charged', async () => {
      const gaussian = await consumer(
        `dp-gaussian-${RUN}`,
        { mode: 'differential-privacy', mechanism: 'gaussian', deltaPerQuery: 1e-6 },
        { epsilon: 10, period: 'month' },
      );
      const result = ok(await ask(`SELECT count(DISTINCT e.patient_id) AS cases, ${MINUTES} AS minutes ${STROKE_FROM}`, { identity: gaussian }));
      within(result, result.rows[0]!, 'cases', truth.persons.size);
      within(result, result.rows[0]!, 'minutes', mean([...truth.byTrust.values()].flatMap((t) => t.minutes)));
      expect(result.warnings.join('\n')).to.match(/ε=1, δ=0\.000001 spent; discrete Gaussian noise/);
      const budget = await api('GET', `/consumers/dp-gaussian-${RUN}/budget`);
      const account = (budget.body as { accounts: { project: string; delta: { spent: number } }[] }).accounts.find((a) => a.project === 'stroke-audit');
      expect(account?.delta.spent).to.equal(1e-6);
    });

    it('ICD-10 chapters are a public key set: all 22 listed with no threshold, circulatory (IX) holding the strokes', async () => {
      const result = ok(
        await ask('SELECT icd10_chapter(c.icd10_code) AS chapter, count(DISTINCT c.patient_id) AS patients FROM condition c GROUP BY 1 ORDER BY 1', {
          identity: researcher,
        }),
      );
      const chapters = result.rows.map((r) => r[0]);
      expect(chapters.filter((c) => c !== null)).to.have.length(22);
      expect(result.warnings.join('\n')).to.not.match(/groups with fewer than/);
      const ix = result.rows.find((r) => r[0] === 'IX')!;
      expect(Number(ix[1]), 'chapter IX patients (strokes alone are 165)').to.be.greaterThan(120);
    });
  });

  describe('what aggregate-only consumers cannot do', () => {
    const refused: [string, string, RegExp][] = [
      ['rows', 'SELECT * FROM encounter', /SELECT \* lists rows/],
      ['a row-level column list', 'SELECT e.id, e.start FROM encounter e', /neither an allowed aggregate nor a GROUP BY key/],
      ['MIN/MAX (one patient decides them)', 'SELECT max(e.start) FROM encounter e', /max\(\.\.\.\) is not an aggregate/],
      ['a join across patients', 'SELECT count(*) FROM encounter e JOIN procedure p ON p.encounter_id = e.id', /does not stay within one patient's data/],
      ['a subquery', "SELECT count(*) FROM encounter WHERE patient_id IN (SELECT patient_id FROM condition WHERE icd10_code = 'I63.9')", /subqueries/],
      ['HAVING', 'SELECT e.class_code, count(*) FROM encounter e GROUP BY e.class_code HAVING count(*) < 3', /HAVING/],
      ['a sum without bounds', 'SELECT sum(o.value) FROM observation o', /needs bounds/],
      ['grouping by a free-text column', 'SELECT o.code_display, count(*) FROM observation o GROUP BY o.code_display', /not a categorical column/],
      ['a window function', 'SELECT count(*) OVER () FROM encounter', /FILTER, OVER/],
    ];
    for (const [what, sql, reason] of refused) {
      it(`refuses ${what}, saying what is allowed`, async () => {
        const result = await ask(sql, { identity: researcher });
        expect(result.error?.errorName, JSON.stringify(result.error ?? result.rows.slice(0, 2))).to.equal('PERMISSION_DENIED');
        expect(result.error!.message).to.match(reason).and.match(ALLOWED_FORM);
        expect(result.rows).to.deep.equal([]);
      });
    }

    it('still answers metadata: SHOW TABLES, DESCRIBE', async () => {
      ok(await ask('SHOW TABLES FROM fhir.default', { identity: researcher }));
      ok(await ask('DESCRIBE fhir.default.encounter', { identity: researcher }));
    });
  });

  describe('attacks', () => {
    it('tiny groups: a private group key is released only above the noisy threshold; no group of 1–3 patients appears', async () => {
      const result = ok(await ask('SELECT c.code, count(DISTINCT c.patient_id) AS patients FROM condition c GROUP BY c.code', { identity: researcher }));
      const note = result.warnings.find((w) => /groups with fewer than \d+ patients/.test(w));
      expect(note, result.warnings.join('\n')).to.be.a('string');
      // Exact patients per code, research view (the same exclusions as above).
      const optOuts = optedOut();
      const perCode = new Map<string, Set<string>>();
      for (const domain of DOMAINS) {
        const nhsOf = researchPatients(domain, optOuts);
        for (const c of readResources(domain, 'Condition')) {
          const nhs = nhsOf.get(String((c.subject as { reference?: string }).reference).replace('Patient/', ''));
          if (!nhs || !visible(c)) continue;
          const code = ((c.code as { coding?: { system?: string; code?: string }[] }).coding ?? []).find((x) => x.system === 'http://snomed.info/sct')?.code;
          if (code) perCode.set(code, (perCode.get(code) ?? new Set()).add(nhs));
        }
      }
      expect(
        [...perCode.values()].some((s) => s.size <= 3),
        'the data has small groups to hide',
      ).to.equal(true);
      for (const row of result.rows) {
        const exact = perCode.get(String(row[0]))?.size ?? 0;
        expect(exact, `code ${row[0]} released with ${row[1]} noisy patients`).to.be.greaterThan(3);
      }
    });

    it('averaging repeated queries: the same query gets the same answer and spends nothing; variations spend until the budget is gone', async () => {
      const small = await consumer(`dp-small-budget-${RUN}`, { mode: 'differential-privacy', epsilonPerQuery: 1 }, { epsilon: 2.5, period: 'month' });
      const sql = `SELECT count(DISTINCT e.patient_id) AS cases ${STROKE_FROM}`;
      const first = ok(await ask(sql, { identity: small }));
      const again = ok(await ask(sql, { identity: small }));
      expect(again.rows).to.deep.equal(first.rows);
      expect(again.warnings.join('\n')).to.match(/answer is given again and no budget is spent/);
      ok(await ask(`${sql} AND e.status = 'finished'`, { identity: small }));
      const exhausted = await ask(`${sql} AND e.status <> 'cancelled'`, { identity: small });
      expect(exhausted.error?.errorName, JSON.stringify(exhausted)).to.equal('QUERY_REJECTED');
      expect(exhausted.error!.message)
        .to.match(/budget/i)
        .and.match(/0\.5/)
        .and.match(/reset/i);
      const budget = await api('GET', `/consumers/dp-small-budget-${RUN}/budget`);
      expect(budget.status, JSON.stringify(budget.body)).to.equal(200);
      const account = (budget.body as { accounts: { project: string; epsilon: { spent: number; remaining: number } }[] }).accounts.find(
        (a) => a.project === 'stroke-audit',
      );
      expect(account?.epsilon, JSON.stringify(budget.body)).to.deep.include({ spent: 2, remaining: 0.5 });
      console.log(`      ledger after the attack: ${JSON.stringify(budget.body).slice(0, 400)}`);
    });

    it('a second project does not add budget: the consumer is capped across projects (same patients, other pseudonyms)', async () => {
      const two = await consumer(`dp-two-projects-${RUN}`, { mode: 'differential-privacy', epsilonPerQuery: 1 }, { epsilon: 1, period: 'month' }, [
        'stroke-audit',
        'stroke-other',
      ]);
      const sql = `SELECT count(DISTINCT e.patient_id) AS cases ${STROKE_FROM}`;
      ok(await ask(sql, { identity: two }));
      const other = await ask(sql, { identity: { ...two, project: 'stroke-other' } });
      expect(other.error?.errorName, JSON.stringify(other)).to.equal('QUERY_REJECTED');
      expect(other.error!.message).to.match(/all projects/);
      const budget = await api('GET', `/consumers/dp-two-projects-${RUN}/budget`);
      const spent = Object.fromEntries(
        (budget.body as { accounts: { project: string; epsilon: { spent: number } }[] }).accounts.map((a) => [a.project, a.epsilon.spent]),
      );
      // stroke-other's reservation was handed back when the consumer-wide account refused it.
      expect(spent).to.deep.equal({ 'stroke-audit': 1, 'stroke-other': 0, '(all projects)': 1 });
    });

    it('50 parallel queries against a budget that admits 10: exactly 10 answered, the ledger exact', async () => {
      const parallel = await consumer(`dp-parallel-${RUN}`, { mode: 'differential-privacy', epsilonPerQuery: 1 }, { epsilon: 1, period: 'month' });
      const results = await Promise.all(
        Array.from({ length: 50 }, (_, i) =>
          ask(`SELECT count(*) AS n FROM encounter e WHERE e.class_code <> 'X${i}'`, {
            identity: parallel,
            headers: { 'x-trino-extra-credential': `purpose=research, project=stroke-audit, epsilon=0.1` },
          }),
        ),
      );
      const answered = results.filter((r) => !r.error && r.httpStatus === undefined);
      const rejected = results.filter((r) => r.error?.errorName === 'QUERY_REJECTED');
      expect(answered.length, JSON.stringify(results.filter((r) => r.error && r.error.errorName !== 'QUERY_REJECTED').map((r) => r.error))).to.equal(10);
      expect(rejected.length).to.equal(40);
      const budget = await api('GET', `/consumers/dp-parallel-${RUN}/budget`);
      console.log(`      ledger: ${JSON.stringify(budget.body).slice(0, 400)}`);
      const account = (budget.body as { accounts: { project: string; epsilon: { spent: number; reserved: number; remaining: number } }[] }).accounts.find(
        (a) => a.project === 'stroke-audit',
      );
      expect(account?.epsilon, JSON.stringify(budget.body)).to.deep.include({ spent: 1, reserved: 0, remaining: 0 });
    });

    it('a patient present at two trusts counts once (bounding across trusts), not once per trust', async () => {
      const precise = await consumer(`dp-precise-${RUN}`, { mode: 'differential-privacy', epsilonPerQuery: 10 }, { epsilon: 100, period: 'month' });
      const result = ok(await ask(`SELECT count(*) AS rows_counted, count(DISTINCT e.patient_id) AS cases ${STROKE_FROM}`, { identity: precise }));
      const [rowsCounted, cases] = [Number(result.rows[0]![0]), Number(result.rows[0]![3])];
      expect(truth.encounters - truth.persons.size, 'stroke patients with an episode at two trusts').to.be.at.least(2);
      // ε=10 over two measurements: noise of ±1 at most in all but about one run in a hundred.
      expect(
        Math.abs(rowsCounted - truth.persons.size),
        `count(*)=${rowsCounted}, persons ${truth.persons.size}, encounters ${truth.encounters}`,
      ).to.be.at.most(1);
      expect(Math.abs(cases - truth.persons.size)).to.be.at.most(1);
    });

    it('the audit records the ε spent', async () => {
      const result = ok(await ask(`SELECT count(*) AS n ${STROKE_FROM} AND e.status = 'finished'`, { identity: researcher }));
      const listed = await api('GET', `/audit?entity=query&entityId=${encodeURIComponent(result.queryId!)}`);
      const finished = (listed.body as { action: string; after: { disclosure?: { epsilonSpent?: number } } }[]).find((e) => e.action === 'query.finished');
      expect(finished?.after.disclosure?.epsilonSpent, JSON.stringify(listed.body)).to.equal(1);
    });
  });

  describe('small-number suppression (NHS rule)', () => {
    it('counts of 1–7 withheld with a second cell in every line, others rounded to 5 and matching the truth', async () => {
      const sdc = await consumer(`sdc-${RUN}`, { mode: 'small-numbers' });
      const result = ok(
        await ask('SELECT e.domain, e.class_code, count(DISTINCT e.patient_id) AS patients FROM encounter e GROUP BY e.domain, e.class_code', {
          identity: sdc,
        }),
      );
      expect(result.warnings.join('\n')).to.match(/small-number suppression/);
      const optOuts = optedOut();
      const exact = new Map<string, Set<string>>();
      for (const domain of DOMAINS) {
        const nhsOf = researchPatients(domain, optOuts);
        for (const e of readResources(domain, 'Encounter')) {
          const nhs = nhsOf.get(String((e.subject as { reference?: string }).reference).replace('Patient/', ''));
          if (!nhs || !visible(e)) continue;
          const key = `${domain.odsCode}|${(e.class as { code?: string }).code}`;
          exact.set(key, (exact.get(key) ?? new Set()).add(nhs));
        }
      }
      let suppressed = 0;
      for (const row of result.rows) {
        const n = exact.get(`${row[0]}|${row[1]}`)?.size ?? 0;
        if (row[2] === null) {
          suppressed++;
          continue;
        }
        expect(Number(row[2]) % 5, `${row[0]} ${row[1]}: ${row[2]}`).to.equal(0);
        expect(n, `${row[0]} ${row[1]} shown as ${row[2]}`).to.satisfy((x: number) => x === 0 || x > 7);
        expect(Math.abs(Number(row[2]) - n)).to.be.at.most(2);
      }
      for (const [key, set] of exact) {
        if (set.size >= 1 && set.size <= 7) {
          const row = result.rows.find((r) => `${r[0]}|${r[1]}` === key);
          expect(row?.[2], `${key} has ${set.size} patients`).to.equal(null);
        }
      }
      // No line (a trust, or a class) with exactly one withheld cell: totals cannot give it away.
      for (const axis of [0, 1]) {
        const lines = new Map<unknown, number>();
        for (const row of result.rows) if (row[2] === null) lines.set(row[axis], (lines.get(row[axis]) ?? 0) + 1);
        for (const [line, count] of lines) expect(count, `${axis ? 'class' : 'trust'} ${line} has one withheld cell`).to.not.equal(1);
      }
      console.log(`      ${result.rows.length} cells, ${suppressed} withheld`);
    });
  });

  describe('k-anonymity of a row-level extract', () => {
    it('releases only (gender, birth year) groups of at least k patients; a unique key releases nothing', async () => {
      const extract = await consumer(`kanon-${RUN}`, { mode: 'row-level', kAnonymity: { k: 5 } });
      const result = ok(await ask('SELECT p.gender, p.birth_date FROM patient p', { identity: extract }));
      expect(result.warnings.join('\n')).to.match(/k-anonymity \(k=5\)/);
      const groups = new Map<string, number>();
      for (const row of result.rows) groups.set(JSON.stringify(row), (groups.get(JSON.stringify(row)) ?? 0) + 1);
      for (const [group, n] of groups) expect(n, `${group} released with ${n} rows`).to.be.at.least(5);
      // Exact: patients (one row per Patient resource) in the research view, grouped by gender and birth year.
      const optOuts = optedOut();
      const exact = new Map<string, number>();
      for (const domain of DOMAINS) {
        const kept = researchPatients(domain, optOuts);
        for (const p of readResources(domain, 'Patient')) {
          if (!kept.has(p.id)) continue;
          const key = `${p.gender ?? null}|${String(p.birthDate ?? '').slice(0, 4)}`;
          exact.set(key, (exact.get(key) ?? 0) + 1);
        }
      }
      const releasable = [...exact.values()].filter((n) => n >= 5).reduce((a, b) => a + b, 0);
      const total = [...exact.values()].reduce((a, b) => a + b, 0);
      expect(result.rows.length, `${total} patients, ${releasable} in groups of 5 or more`).to.equal(releasable);
      expect(releasable).to.be.lessThan(total);
      const keyed = ok(await ask('SELECT p.id, p.gender FROM patient p', { identity: extract }));
      expect(keyed.rows).to.deep.equal([]);
    });
  });
});
