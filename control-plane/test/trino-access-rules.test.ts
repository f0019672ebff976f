// Trino's own rules rendered from the registry (catalogs/trino-access-rules.ts), over the demo's real
// mappings and privacy tags: who reaches a table as stored, what everyone else gets, and that every filter
// and mask is Trino SQL reading only the patient index and the opt-out table. Trino applying them:
// e2e/test/trino-direct-access.e2e.ts.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { expect } from 'chai';
import {
  exactly,
  GATEWAY_ONLY_SESSION_PROPERTIES,
  PATIENT_EXCLUSION_SESSION_PROPERTIES,
  type TrinoAccessRulesInput,
  trinoAccessRules,
} from '../src/catalogs/trino-access-rules';
import { defaultGatewayPolicy } from '../src/gateway/gateway-config';
import { birthYear, type PolicySources, policyForm, postcodeDistrict, type TableDefinition } from '../src/gateway/policy/policy-form';
import { findRelations } from '../src/gateway/sql/relations';
import { parseStatement } from '../src/gateway/sql/trino-parser';

const ROOT = path.resolve(__dirname, '..', '..');
const GATEWAY = defaultGatewayPolicy('fhir');
const SOURCES: PolicySources = { catalog: 'fhir', schema: 'default', patientIndex: GATEWAY.patientIndex, optOut: GATEWAY.optOut };
const LABELS = ['V', 'PSY', 'HIV', 'SDV'];

function demoTables(): TableDefinition[] {
  const { tags } = JSON.parse(fs.readFileSync(path.join(ROOT, 'control-plane', 'demo', 'privacy-tags.json'), 'utf8'));
  return fs
    .readdirSync(path.join(ROOT, 'sql-mappings'))
    .filter((f) => f.endsWith('.json'))
    .map((file) => {
      const m = JSON.parse(fs.readFileSync(path.join(ROOT, 'sql-mappings', file), 'utf8'));
      return { table: m.table, view: m.view, tags: tags[m.table] ?? {} };
    });
}

const DEMO = demoTables();

function input(tables: TableDefinition[] = DEMO, overrides: Partial<TrinoAccessRulesInput> = {}): TrinoAccessRulesInput {
  return {
    principals: { admins: ['mesh-control-plane', 'mesh-ops'], gateway: 'mesh-gateway' },
    sources: SOURCES,
    excludedLabels: LABELS,
    catalogSessionProperties: ['pushdown_enabled'],
    tables,
    ...overrides,
  };
}

type TableRule = { user?: string; catalog?: string; schema?: string; table?: string; privileges: string[]; [key: string]: unknown };

/** Trino's reading of the tables section: the first rule whose every pattern fully matches decides. */
function ruleFor(rules: Record<string, unknown>, user: string, table: string, schema = 'default', catalog = 'fhir'): TableRule | undefined {
  const matches = (pattern: string | undefined, value: string) => pattern === undefined || new RegExp(`^(?:${pattern})$`).test(value);
  return (rules.tables as TableRule[]).find(
    (r) => matches(r.user, user) && matches(r.catalog, catalog) && matches(r.schema, schema) && matches(r.table, table),
  );
}

function columnRules(rule: TableRule | undefined): Record<string, unknown> {
  return Object.fromEntries(((rule?.columns ?? []) as { name: string }[]).map(({ name, ...rest }) => [name, rest]));
}

const ANALYST = 'alice';

describe('Trino access rules rendered from the registry', () => {
  const rules = trinoAccessRules(input());

  it('lets the admins do everything and the gateway read every fhir table as stored', () => {
    for (const user of ['mesh-control-plane', 'mesh-ops']) expect(ruleFor(rules, user, 'patient')!.privileges).to.include.members(['SELECT', 'OWNERSHIP']);
    const gateway = ruleFor(rules, 'mesh-gateway', 'patient')!;
    expect(gateway).to.deep.equal({ user: 'mesh-gateway', catalog: 'fhir', privileges: ['SELECT'] });
    expect(ruleFor(rules, 'mesh-gateway', 'not_in_the_registry')!.privileges).to.deep.equal(['SELECT']);
    expect(ruleFor(rules, 'mesh-gateway', 'queries', 'runtime', 'system')!.privileges).to.deep.equal([]);
  });

  it('hides the removed columns of patient from anyone else, masks its key to NULL and generalises birth date and postcode', () => {
    const rule = ruleFor(rules, ANALYST, 'patient')!;
    expect(rule.table).to.equal('patient');
    expect(rule.privileges).to.deep.equal(['SELECT']);
    expect(columnRules(rule)).to.deep.equal({
      id: { mask: 'NULL' },
      nhs_number: { allow: false },
      family_name: { allow: false },
      given_name: { allow: false },
      birth_date: { mask: birthYear('"birth_date"') },
      postcode: { mask: postcodeDistrict('"postcode"') },
    });
    // The same generalisations as the gateway's policy form, only on the bare column.
    const form = policyForm(DEMO.find((t) => t.table === 'patient')!, SOURCES, { excludedLabels: LABELS, breakGlass: false });
    if (!form.ok) throw new Error(form.reason);
    expect(form.sql).to.include(`${birthYear('"mesh$r"."birth_date"')} AS "birth_date"`);
    expect(form.sql).to.include(`${postcodeDistrict('"mesh$r"."postcode"')} AS "postcode"`);
  });

  it('filters rows with pushable label predicates, restricted patients and national opt-outs, read as the gateway', () => {
    const rule = ruleFor(rules, ANALYST, 'encounter')!;
    expect(columnRules(rule)).to.deep.equal({ patient_id: { mask: 'NULL' } });
    const filter = String(rule.filter);
    for (const label of LABELS) {
      expect(filter).to.include(`NOT contains("security_labels", '${label}')`);
      expect(filter).to.include(`NOT contains("mesh$p"."security_labels", '${label}')`);
    }
    expect(filter).to.include('"patient_id" IN (SELECT "mesh$p"."id" FROM "fhir"."default"."patient" AS "mesh$p" WHERE ');
    expect(filter).to.include('"mesh$p"."nhs_number" IS NOT NULL AND NOT EXISTS (SELECT 1 FROM "fhir"."default"."consent"');
    expect(filter).to.include(`'${GATEWAY.optOut.policyUri}'`);
    // As the gateway the nested reads of patient are unfiltered: as the analyst, patient's own filter would recurse.
    expect(rule.filter_environment).to.deep.equal({ user: 'mesh-gateway' });
  });

  it('gives every served table a filter and masks that are Trino SQL, reading only the patient index and the opt-out table', function () {
    this.timeout(30_000); // the parser's first statements warm up its ATN
    for (const table of DEMO) {
      const rule = ruleFor(rules, ANALYST, table.table)!;
      expect(rule.table, table.table).to.equal(table.table);
      const parsed = parseStatement(`SELECT 1 FROM "fhir"."default"."${table.table}" WHERE ${String(rule.filter)}`);
      const read = new Set(findRelations(parsed).tables.map((t) => t.parts.join('.')));
      const expected = new Set(['fhir.default.consent', 'fhir.default.patient', `fhir.default.${table.table}`]);
      expect([...read].sort(), table.table).to.deep.equal([...expected].sort());
      for (const [name, column] of Object.entries(columnRules(rule))) {
        const mask = (column as { mask?: string }).mask;
        if (mask !== undefined) parseStatement(`SELECT ${mask} AS "${name}" FROM "fhir"."default"."${table.table}"`);
      }
      // No key, pseudonym function or raw identifier value is ever written into Trino's files.
      expect(JSON.stringify(rule)).not.to.match(/mesh_pseudonym|hmac/i);
    }
  });

  it('refuses to anyone else a table the policy form cannot make safe, and one the registry does not serve', () => {
    const noLabels: TableDefinition = {
      table: 'ics_patients',
      view: { resource: 'Patient', select: [{ column: [{ name: 'id', path: 'getResourceKey()' }] }] },
      tags: { id: 'none' },
    };
    const noPatientKey: TableDefinition = {
      table: 'bare_encounters',
      view: {
        resource: 'Encounter',
        select: [
          {
            column: [
              { name: 'id', path: 'getResourceKey()' },
              { name: 'security_labels', path: 'meta.security.code' },
            ],
          },
        ],
      },
      tags: { id: 'none', security_labels: 'none' },
    };
    const withBad = trinoAccessRules(input([...DEMO, noLabels, noPatientKey]));
    for (const table of ['ics_patients', 'bare_encounters', 'not_in_the_registry']) {
      expect(ruleFor(withBad, ANALYST, table)!.privileges, table).to.deep.equal([]);
      expect(ruleFor(withBad, 'mesh-gateway', table)!.privileges, table).to.deep.equal(['SELECT']);
    }
  });

  it('refuses patient-linked tables when the patient index or the opt-out table is not served (the filter could not run)', () => {
    const withoutConsent = trinoAccessRules(input(DEMO.filter((t) => t.table !== 'consent')));
    expect(ruleFor(withoutConsent, ANALYST, 'encounter')!.privileges).to.deep.equal([]);
    expect(ruleFor(withoutConsent, ANALYST, 'patient')!.privileges).to.deep.equal([]);
    const withoutPatient = trinoAccessRules(input(DEMO.filter((t) => t.table !== 'patient')));
    expect(ruleFor(withoutPatient, ANALYST, 'encounter')!.privileges).to.deep.equal([]);
  });

  it('with no tables yet (Trino before the control plane has run) gives no fhir table to anyone but admins and gateway', () => {
    const initial = trinoAccessRules(input([]));
    for (const table of DEMO.map((t) => t.table)) {
      expect(ruleFor(initial, ANALYST, table)!.privileges).to.deep.equal([]);
      expect(ruleFor(initial, 'mesh-gateway', table)!.privileges).to.deep.equal(['SELECT']);
    }
    // The rest of the rules do not depend on the registry.
    const { tables: _a, ...staticPart } = initial;
    const { tables: _b, ...staticFull } = rules;
    expect(staticPart).to.deep.equal(staticFull);
    expect(initial.catalog_session_properties).to.deep.equal([
      { user: 'mesh-control-plane|mesh-ops', allow: true },
      {
        user: 'mesh-gateway',
        catalog: 'fhir',
        property: 'apply_opt_outs|excluded_patient_labels|exclude_patients_without_nhs_number|skip_domains',
        allow: true,
      },
      { catalog: 'fhir', property: 'apply_opt_outs|excluded_patient_labels|exclude_patients_without_nhs_number|skip_domains', allow: false },
      { catalog: 'fhir', property: 'pushdown_enabled', allow: true },
      { allow: false },
    ]);
  });

  it("lets only the admins and the gateway change the connector's patient exclusion or skip domains, whatever the allow-list says", () => {
    type PropertyRule = { user?: string; catalog?: string; property?: string; allow: boolean };
    const matches = (pattern: string | undefined, value: string) => pattern === undefined || new RegExp(`^(?:${pattern})$`).test(value);
    // Even a misconfigured allow-list naming them does not open them to analysts.
    const rendered = trinoAccessRules(input(DEMO, { catalogSessionProperties: ['pushdown_enabled', ...GATEWAY_ONLY_SESSION_PROPERTIES] }));
    expect(GATEWAY_ONLY_SESSION_PROPERTIES).to.include.members([...PATIENT_EXCLUSION_SESSION_PROPERTIES, 'skip_domains']);
    const allowed = (user: string, property: string, catalog = 'fhir') =>
      (rendered.catalog_session_properties as PropertyRule[]).find(
        (r) => matches(r.user, user) && matches(r.catalog, catalog) && matches(r.property, property),
      )!.allow;
    for (const property of GATEWAY_ONLY_SESSION_PROPERTIES) {
      expect(allowed('mesh-ops', property), `mesh-ops ${property}`).to.equal(true);
      expect(allowed('mesh-gateway', property), `mesh-gateway ${property}`).to.equal(true);
      expect(allowed(ANALYST, property), `${ANALYST} ${property}`).to.equal(false);
    }
    expect(allowed(ANALYST, 'pushdown_enabled')).to.equal(true);
    expect(allowed('mesh-gateway', 'pushdown_enabled')).to.equal(true);
    // The gateway's own allow-list (what analysts may set through it) does not carry them either.
    for (const property of GATEWAY_ONLY_SESSION_PROPERTIES) {
      expect(GATEWAY.sessionProperties.filter((p) => p.endsWith(property))).to.deep.equal([]);
    }
  });

  it('renders the same file whatever order the registry lists its tables in', () => {
    expect(JSON.stringify(trinoAccessRules(input([...DEMO].reverse())))).to.equal(JSON.stringify(rules));
  });

  it('matches principals and names exactly, not as patterns', () => {
    const dotted = trinoAccessRules(input(DEMO, { principals: { admins: ['ops.team'], gateway: 'gate+way' } }));
    expect(ruleFor(dotted, 'opsXteam', 'patient')!.privileges).to.deep.equal(['SELECT']);
    expect(columnRules(ruleFor(dotted, 'opsXteam', 'patient')).nhs_number).to.deep.equal({ allow: false });
    expect(ruleFor(dotted, 'ops.team', 'patient')!.privileges).to.include('OWNERSHIP');
    expect(ruleFor(dotted, 'gate+way', 'patient')!.privileges).to.deep.equal(['SELECT']);
    expect(ruleFor(dotted, 'gateeway', 'patient')!.table).to.equal('patient');
    expect(exactly('a.b|c')).to.equal('a\\.b\\|c');
    expect(() => trinoAccessRules(input(DEMO, { principals: { admins: [], gateway: 'g' } }))).to.throw(/at least one admin/);
  });
});
