// Unit tests for control-plane/src/catalogs/search-bindings.ts: deriving column -> search parameter
// bindings from a view's FHIRPath and hand-written search parameter lists (no server).
import { expect } from 'chai';
import { CapabilityStatement, FhirServerError, R4_DEFINITIONS, resolveSearchParams } from '../../control-plane/src/catalogs/capability';
import {
  Binding,
  columnNames,
  deriveBindings,
  diffBindings,
  replaceBindings,
  SearchParamDef,
  ViewColumn,
  ViewDefinitionLike,
  ViewSelect,
} from '../../control-plane/src/catalogs/search-bindings';

const LOINC = 'http://loinc.org';
const SNOMED = 'http://snomed.info/sct';

/** The generic parameters every resource type has (FHIR R4 Resource-*). */
const GENERIC: SearchParamDef[] = [
  { code: '_id', base: ['Resource'], type: 'token', expression: 'Resource.id' },
  { code: '_lastUpdated', base: ['Resource'], type: 'date', expression: 'Resource.meta.lastUpdated' },
  { code: '_security', base: ['Resource'], type: 'token', expression: 'Resource.meta.security' },
  { code: '_tag', base: ['Resource'], type: 'token', expression: 'Resource.meta.tag' },
  { code: '_profile', base: ['Resource'], type: 'uri', expression: 'Resource.meta.profile' },
];

const CONDITION: SearchParamDef[] = [
  ...GENERIC,
  { code: 'code', base: ['Condition', 'Observation', 'Procedure'], type: 'token', expression: 'Condition.code | Observation.code | Procedure.code' },
  { code: 'clinical-status', base: ['Condition'], type: 'token', expression: 'Condition.clinicalStatus' },
  { code: 'onset-date', base: ['Condition'], type: 'date', expression: 'Condition.onset.as(dateTime) | Condition.onset.as(Period)' },
  { code: 'onset-age', base: ['Condition'], type: 'quantity', expression: 'Condition.onset.as(Age) | Condition.onset.as(Range)' },
  { code: 'onset-info', base: ['Condition'], type: 'string', expression: 'Condition.onset.as(string)' },
  { code: 'subject', base: ['Condition'], type: 'reference', expression: 'Condition.subject', target: ['Group', 'Patient'] },
  {
    code: 'patient',
    base: ['Condition', 'Observation'],
    type: 'reference',
    expression: 'Condition.subject.where(resolve() is Patient) | Observation.subject.where(resolve() is Patient)',
    target: ['Patient'],
  },
  { code: 'encounter', base: ['Condition'], type: 'reference', expression: 'Condition.encounter', target: ['Encounter'] },
  { code: 'asserter', base: ['Condition'], type: 'reference', expression: 'Condition.asserter' },
  { code: 'recorded-date', base: ['Condition'], type: 'date', expression: 'Condition.recordedDate' },
];

const OBSERVATION: SearchParamDef[] = [
  ...GENERIC,
  { code: 'code', base: ['Observation'], type: 'token', expression: 'Observation.code' },
  { code: 'combo-code', base: ['Observation'], type: 'token', expression: 'Observation.code | Observation.component.code' },
  { code: 'component-code', base: ['Observation'], type: 'token', expression: 'Observation.component.code' },
  { code: 'value-quantity', base: ['Observation'], type: 'quantity', expression: '(Observation.value as Quantity) | (Observation.value as SampledData)' },
  {
    code: 'combo-value-quantity',
    base: ['Observation'],
    type: 'quantity',
    expression:
      '(Observation.value as Quantity) | (Observation.value as SampledData) | (Observation.component.value as Quantity) | (Observation.component.value as SampledData)',
  },
  {
    code: 'component-value-quantity',
    base: ['Observation'],
    type: 'quantity',
    expression: '(Observation.component.value as Quantity) | (Observation.component.value as SampledData)',
  },
  { code: 'value-concept', base: ['Observation'], type: 'token', expression: '(Observation.value as CodeableConcept)' },
  { code: 'value-string', base: ['Observation'], type: 'string', expression: '(Observation.value as string)' },
  { code: 'component-code-value-quantity', base: ['Observation'], type: 'composite', expression: 'Observation.component' },
  { code: 'date', base: ['Observation', 'Encounter', 'Procedure'], type: 'date', expression: 'Observation.effective | Encounter.period | Procedure.performed' },
  { code: 'subject', base: ['Observation'], type: 'reference', expression: 'Observation.subject', target: ['Group', 'Device', 'Patient', 'Location'] },
];

function view(resource: string, select: ViewSelect[]): ViewDefinitionLike {
  return { resource, select };
}

function columns(...cols: [name: string, path: string, type: string, collection?: boolean][]): ViewColumn[] {
  return cols.map(([name, path, type, collection]) => (collection ? { name, path, type, collection } : { name, path, type }));
}

function noteFor(notes: readonly string[], column: string): string {
  const found = notes.filter((n) => n.startsWith(`${column}: `));
  expect(found, `one note for ${column} in ${JSON.stringify(notes)}`).to.have.length(1);
  return found[0]!;
}

describe('deriveBindings', () => {
  describe('the mapping conventions', () => {
    const condition = view('Condition', [
      {
        column: columns(
          ['id', 'getResourceKey()', 'id'],
          ['patient_id', 'subject.getReferenceKey(Patient)', 'id'],
          ['code', "code.coding.where(system='http://snomed.info/sct').code.first()", 'code'],
          ['code_display', "code.coding.where(system='http://snomed.info/sct').display.first()", 'string'],
          ['any_code', 'code.coding.code.first()', 'code'],
          ['clinical_status', 'clinicalStatus.coding.code.first()', 'code'],
          ['onset', 'onset.ofType(dateTime)', 'dateTime'],
          ['onset_start', 'onset.ofType(Period).start', 'dateTime'],
          ['recorded', 'recordedDate', 'dateTime'],
          ['last_updated', 'meta.lastUpdated', 'instant'],
          ['security_labels', 'meta.security.code', 'code', true],
          ['tags', 'meta.tag.code', 'code', true],
          ['profiles', 'meta.profile', 'canonical', true],
        ),
      },
    ]);

    it('binds every column the search parameters can serve, in column order', () => {
      const { bindings } = deriveBindings(condition, CONDITION);
      expect(bindings).to.deep.equal({
        id: { param: '_id', type: 'token' },
        patient_id: { param: 'subject', type: 'reference', target: 'Patient' },
        code: { param: 'code', type: 'token', system: SNOMED },
        any_code: { param: 'code', type: 'token' },
        clinical_status: { param: 'clinical-status', type: 'token' },
        onset: { param: 'onset-date', type: 'date' },
        onset_start: { param: 'onset-date', type: 'date' },
        recorded: { param: 'recorded-date', type: 'date' },
        last_updated: { param: '_lastUpdated', type: 'date' },
        security_labels: { param: '_security', type: 'token' },
        tags: { param: '_tag', type: 'token' },
      });
      expect(Object.keys(bindings)).to.deep.equal([
        'id',
        'patient_id',
        'code',
        'any_code',
        'clinical_status',
        'onset',
        'onset_start',
        'recorded',
        'last_updated',
        'security_labels',
        'tags',
      ]);
    });

    it('orders each binding param, type, then system or target', () => {
      const { bindings } = deriveBindings(condition, CONDITION);
      expect(Object.keys(bindings.code!)).to.deep.equal(['param', 'type', 'system']);
      expect(Object.keys(bindings.patient_id!)).to.deep.equal(['param', 'type', 'target']);
    });

    it('leaves display text and uri parameters unbound, saying why', () => {
      const { notes } = deriveBindings(condition, CONDITION);
      expect(noteFor(notes, 'code_display')).to.match(/Condition\.code\.coding\.display.*code \(token\) does not search \.coding\.display/);
      expect(noteFor(notes, 'profiles')).to.match(/_profile is a uri parameter/);
    });

    it('prefers the generic subject over patient, whose expression filters by resolve()', () => {
      const { bindings } = deriveBindings(condition, CONDITION);
      expect(bindings.patient_id).to.deep.equal({ param: 'subject', type: 'reference', target: 'Patient' });
      const withoutSubject = CONDITION.filter((sp) => sp.code !== 'subject');
      expect(deriveBindings(condition, withoutSubject).bindings.patient_id).to.deep.equal({ param: 'patient', type: 'reference', target: 'Patient' });
    });

    it('ignores search parameters of other resource types and ones without an expression', () => {
      const params: SearchParamDef[] = [
        { code: 'gender', base: ['Patient'], type: 'token', expression: 'Patient.gender' },
        { code: 'status', base: ['Condition'], type: 'token' },
      ];
      const v = view('Condition', [{ column: columns(['gender', 'gender', 'code'], ['status', 'verificationStatus.coding.code.first()', 'code']) }]);
      const { bindings, notes } = deriveBindings(v, params);
      expect(bindings).to.deep.equal({});
      expect(noteFor(notes, 'gender')).to.match(/no search parameter of the server reads Condition\.gender/);
    });
  });

  describe('choice elements (ofType)', () => {
    it('binds a choice read with ofType(X) to the branch cast to X, or to an uncast branch', () => {
      const v = view('Observation', [
        {
          column: columns(
            ['value', 'value.ofType(Quantity).value', 'decimal'],
            ['value_code', 'value.ofType(CodeableConcept).coding.code.first()', 'code'],
            ['effective', 'effective.ofType(dateTime)', 'dateTime'],
            ['effective_end', 'effective.ofType(Period).end', 'dateTime'],
          ),
        },
      ]);
      expect(deriveBindings(v, OBSERVATION).bindings).to.deep.equal({
        value: { param: 'value-quantity', type: 'quantity' },
        value_code: { param: 'value-concept', type: 'token' },
        effective: { param: 'date', type: 'date' },
        effective_end: { param: 'date', type: 'date' },
      });
    });

    it('does not bind a column that reads another type of the choice, or every type of it', () => {
      const v = view('Condition', [
        {
          column: columns(
            ['onset_text', 'onset.ofType(string)', 'string'],
            ['onset_any', 'onset', 'dateTime'],
            ['onset_age', 'onset.ofType(Age).value', 'decimal'],
            ['onset_range_low', 'onset.ofType(Range).low.value', 'decimal'],
          ),
        },
      ]);
      const { bindings, notes } = deriveBindings(v, CONDITION);
      expect(bindings).to.deep.equal({ onset_age: { param: 'onset-age', type: 'quantity' } });
      expect(noteFor(notes, 'onset_text')).to.match(/onset-info is a string parameter, but only HumanName\/Address parts are bound/);
      expect(noteFor(notes, 'onset_any')).to.match(/reads only onset of type dateTime, the column any type/);
      expect(noteFor(notes, 'onset_range_low')).to.match(/onset-age \(quantity\) compares the number \(\.value\), the column reads \.low\.value/);
    });

    it('does not bind a Quantity unit or a string value', () => {
      const v = view('Observation', [{ column: columns(['unit', 'value.ofType(Quantity).code', 'code'], ['text', 'value.ofType(string)', 'string']) }]);
      const { bindings, notes } = deriveBindings(v, OBSERVATION);
      expect(bindings).to.deep.equal({});
      expect(noteFor(notes, 'unit')).to.match(/value-quantity \(quantity\) compares the number \(\.value\), the column reads \.code/);
      expect(noteFor(notes, 'text')).to.match(/value-string is a string parameter/);
    });
  });

  describe('token systems', () => {
    it("takes the system from where(system='X') on the coding or identifier the column reads", () => {
      const params: SearchParamDef[] = [
        { code: 'identifier', base: ['Patient'], type: 'token', expression: 'Patient.identifier' },
        { code: 'gender', base: ['Patient'], type: 'token', expression: 'Patient.gender' },
        { code: 'language', base: ['Patient'], type: 'token', expression: 'Patient.communication.language' },
      ];
      const v = view('Patient', [
        {
          column: columns(
            ['nhs_number', "identifier.where(system='https://fhir.nhs.uk/Id/nhs-number').value.first()", 'string'],
            ['any_identifier', 'identifier.value.first()', 'string'],
            ['gender', 'gender', 'code'],
            ['language', "communication.language.coding.where(system = 'urn:ietf:bcp:47').code.first()", 'code'],
            ['language_pair', "communication.language.coding.where(system='urn:ietf:bcp:47' and userSelected = true).code.first()", 'code'],
          ),
        },
      ]);
      expect(deriveBindings(v, params).bindings).to.deep.equal({
        nhs_number: { param: 'identifier', type: 'token', system: 'https://fhir.nhs.uk/Id/nhs-number' },
        any_identifier: { param: 'identifier', type: 'token' },
        gender: { param: 'gender', type: 'token' },
        language: { param: 'language', type: 'token', system: 'urn:ietf:bcp:47' },
        // A compound filter still narrows to one of the codings, but is not a plain system.
        language_pair: { param: 'language', type: 'token' },
      });
    });

    it('reads a Coding element (class.code) with its own system filter', () => {
      const params: SearchParamDef[] = [{ code: 'class', base: ['Encounter'], type: 'token', expression: 'Encounter.class' }];
      const v = view('Encounter', [
        {
          column: columns(
            ['class_code', 'class.code', 'code'],
            ['class_v3', "class.where(system='http://terminology.hl7.org/CodeSystem/v3-ActCode').code", 'code'],
          ),
        },
      ]);
      expect(deriveBindings(v, params).bindings).to.deep.equal({
        class_code: { param: 'class', type: 'token' },
        class_v3: { param: 'class', type: 'token', system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode' },
      });
    });
  });

  describe('forEach-relative paths', () => {
    const v = view('Observation', [
      { column: columns(['id', 'getResourceKey()', 'id'], ['code', `code.coding.where(system='${LOINC}').code.first()`, 'code']) },
      {
        forEach: 'component',
        column: columns(
          ['component_code', `code.coding.where(system='${LOINC}').code.first()`, 'code'],
          ['component_display', `code.coding.where(system='${LOINC}').display.first()`, 'string'],
          ['component_value', 'value.ofType(Quantity).value', 'decimal'],
          ['component_unit', 'value.ofType(Quantity).code', 'code'],
        ),
      },
    ]);

    it('reads a column under forEach component as Observation.component.<path>', () => {
      const { bindings, notes } = deriveBindings(v, OBSERVATION);
      expect(bindings).to.deep.equal({
        id: { param: '_id', type: 'token' },
        code: { param: 'code', type: 'token', system: LOINC },
        component_code: { param: 'component-code', type: 'token', system: LOINC },
        component_value: { param: 'component-value-quantity', type: 'quantity' },
      });
      expect(noteFor(notes, 'component_display')).to.match(/Observation\.component\.code\.coding\.display/);
      expect(noteFor(notes, 'component_unit')).to.match(/Observation\.component\.value\.ofType\(Quantity\)\.code/);
    });

    it('prefers the narrowest parameter: code over combo-code, value-quantity over combo-value-quantity', () => {
      const { bindings } = deriveBindings(
        v,
        OBSERVATION.filter((sp) => sp.code !== 'component-code' && sp.code !== 'component-value-quantity'),
      );
      expect(bindings.code).to.deep.equal({ param: 'code', type: 'token', system: LOINC });
      expect(bindings.component_code).to.deep.equal({ param: 'combo-code', type: 'token', system: LOINC });
      expect(bindings.component_value).to.deep.equal({ param: 'combo-value-quantity', type: 'quantity' });
    });

    it("orders columns as the view does: a select's columns, then its nested selects", () => {
      expect(columnNames(v)).to.deep.equal(['id', 'code', 'component_code', 'component_display', 'component_value', 'component_unit']);
    });

    it('composes nested forEach contexts, filters and $this included, and refuses getResourceKey() inside one', () => {
      const params: SearchParamDef[] = [
        { code: 'family', base: ['Patient'], type: 'string', expression: 'Patient.name.family' },
        { code: 'given', base: ['Patient'], type: 'string', expression: 'Patient.name.given' },
        { code: 'address-postalcode', base: ['Patient'], type: 'string', expression: 'Patient.address.postalCode' },
        ...GENERIC,
      ];
      const nested = view('Patient', [
        {
          forEach: "name.where(use='official')",
          column: columns(['family', 'family', 'string'], ['bad_key', 'getResourceKey()', 'id']),
          select: [{ forEach: 'given', column: columns(['given', '$this', 'string'], ['given_initial', '$this.substring(0, 1)', 'string']) }],
        },
      ]);
      const { bindings, notes } = deriveBindings(nested, params);
      expect(bindings).to.deep.equal({ family: { param: 'family', type: 'string' }, given: { param: 'given', type: 'string' } });
      expect(noteFor(notes, 'bad_key')).to.match(/getResourceKey\(\) not on the resource itself/);
      expect(noteFor(notes, 'given_initial')).to.match(/uses substring\(\)/);
    });

    it('leaves every column under repeat unbound', () => {
      const q = view('QuestionnaireResponse', [{ repeat: ['item'], column: columns(['link_id', 'linkId', 'string']) }]);
      const params: SearchParamDef[] = [{ code: 'link', base: ['QuestionnaireResponse'], type: 'string', expression: 'QuestionnaireResponse.item.linkId' }];
      expect(noteFor(deriveBindings(q, params).notes, 'link_id')).to.match(/under repeat/);
    });
  });

  describe('references', () => {
    const params: SearchParamDef[] = [
      {
        code: 'requester',
        base: ['MedicationRequest'],
        type: 'reference',
        expression: 'MedicationRequest.requester',
        target: ['Practitioner', 'Organization', 'Patient'],
      },
      { code: 'subject', base: ['MedicationRequest'], type: 'reference', expression: 'MedicationRequest.subject', target: ['Group', 'Patient'] },
      { code: 'medication', base: ['MedicationRequest'], type: 'reference', expression: '(MedicationRequest.medication as Reference)', target: ['Medication'] },
      { code: 'code', base: ['MedicationRequest'], type: 'token', expression: '(MedicationRequest.medication as CodeableConcept)' },
      { code: 'encounter', base: ['MedicationRequest'], type: 'reference', expression: 'MedicationRequest.encounter' },
    ];

    it('binds getReferenceKey(T) when the parameter may point to T, or declares no targets', () => {
      const v = view('MedicationRequest', [
        {
          column: columns(
            ['requester_id', 'requester.getReferenceKey(Practitioner)', 'id'],
            ['subject_device', 'subject.getReferenceKey(Device)', 'id'],
            ['any_subject', 'subject.getReferenceKey()', 'id'],
            ['encounter_id', 'encounter.getReferenceKey(Encounter).first()', 'id'],
            ['medication_id', 'medication.ofType(Reference).getReferenceKey(Medication)', 'id'],
            ['medication_code', 'medication.ofType(CodeableConcept).coding.code.first()', 'code'],
            ['requester_ref', 'requester.reference', 'string'],
            ['reason_id', 'reasonReference.getReferenceKey(Condition).first()', 'id'],
          ),
        },
      ]);
      const { bindings, notes } = deriveBindings(v, params);
      expect(bindings).to.deep.equal({
        requester_id: { param: 'requester', type: 'reference', target: 'Practitioner' },
        encounter_id: { param: 'encounter', type: 'reference', target: 'Encounter' },
        medication_id: { param: 'medication', type: 'reference', target: 'Medication' },
        medication_code: { param: 'code', type: 'token' },
      });
      expect(noteFor(notes, 'subject_device')).to.match(/subject may not point to Device \(targets Group, Patient\)/);
      expect(noteFor(notes, 'any_subject')).to.match(/getReferenceKey\(\) without a type/);
      expect(noteFor(notes, 'requester_ref')).to.match(/requester is a reference parameter, bound only to getReferenceKey\(T\) columns/);
      expect(noteFor(notes, 'reason_id')).to.match(/no search parameter of the server reads MedicationRequest\.reasonReference/);
    });

    it('binds $this.getReferenceKey(T) under a forEach over the references', () => {
      const performers: SearchParamDef[] = [
        { code: 'performer', base: ['Observation'], type: 'reference', expression: 'Observation.performer', target: ['Practitioner', 'Organization'] },
      ];
      const v = view('Observation', [{ forEach: 'performer', column: columns(['performer_id', '$this.getReferenceKey(Practitioner)', 'id']) }]);
      expect(deriveBindings(v, performers).bindings).to.deep.equal({ performer_id: { param: 'performer', type: 'reference', target: 'Practitioner' } });
    });

    it('uses a where(resolve() is T) branch only for references to T', () => {
      const patientOnly: SearchParamDef[] = [
        { code: 'patient', base: ['Condition'], type: 'reference', expression: 'Condition.subject.where(resolve() is Patient)', target: ['Patient'] },
      ];
      const v = view('Condition', [
        { column: columns(['patient_id', 'subject.getReferenceKey(Patient)', 'id'], ['group_id', 'subject.getReferenceKey(Group)', 'id']) },
      ]);
      const { bindings, notes } = deriveBindings(v, patientOnly);
      expect(bindings).to.deep.equal({ patient_id: { param: 'patient', type: 'reference', target: 'Patient' } });
      expect(noteFor(notes, 'group_id')).to.match(/patient reads only references to Patient/);
    });
  });

  describe('strings, periods and other elements', () => {
    it('binds HumanName and Address parts as strings, filters on the name or address notwithstanding', () => {
      const params: SearchParamDef[] = [
        { code: 'family', base: ['Patient', 'Practitioner'], type: 'string', expression: 'Patient.name.family | Practitioner.name.family' },
        { code: 'given', base: ['Patient', 'Practitioner'], type: 'string', expression: 'Patient.name.given | Practitioner.name.given' },
        { code: 'name', base: ['Patient'], type: 'string', expression: 'Patient.name' },
        { code: 'address-postalcode', base: ['Patient'], type: 'string', expression: 'Patient.address.postalCode' },
        { code: 'birthdate', base: ['Patient'], type: 'date', expression: 'Patient.birthDate' },
        { code: 'death-date', base: ['Patient'], type: 'date', expression: '(Patient.deceased as dateTime)' },
      ];
      const v = view('Patient', [
        {
          column: columns(
            ['family_name', "name.where(use='official').family.first()", 'string'],
            ['given_name', "name.where(use='official').given.first()", 'string'],
            ['postcode', "address.where(use='home').postalCode.first()", 'string'],
            ['birth_date', 'birthDate', 'date'],
            ['birth_date_text', 'birthDate', 'string'],
            ['deceased_at', 'deceased.ofType(dateTime)', 'dateTime'],
            ['deceased_flag', 'deceased.ofType(boolean)', 'boolean'],
          ),
        },
      ]);
      const { bindings, notes } = deriveBindings(v, params);
      expect(bindings).to.deep.equal({
        family_name: { param: 'family', type: 'string' },
        given_name: { param: 'given', type: 'string' },
        postcode: { param: 'address-postalcode', type: 'string' },
        birth_date: { param: 'birthdate', type: 'date' },
        deceased_at: { param: 'death-date', type: 'date' },
      });
      expect(noteFor(notes, 'birth_date_text')).to.match(/birthdate is a date parameter, the column type string/);
      expect(noteFor(notes, 'deceased_flag')).to.match(/death-date reads deceased as dateTime, the column as boolean/);
    });

    it('binds Period start and end to a date parameter on the Period', () => {
      const params: SearchParamDef[] = [{ code: 'date', base: ['Encounter', 'Procedure'], type: 'date', expression: 'Encounter.period | Procedure.performed' }];
      const encounter = view('Encounter', [{ column: columns(['start', 'period.start', 'dateTime'], ['end', 'period.end', 'dateTime']) }]);
      const procedure = view('Procedure', [
        { column: columns(['performed_start', 'performed.ofType(Period).start', 'dateTime'], ['performed_at', 'performed.ofType(dateTime)', 'dateTime']) },
      ]);
      expect(deriveBindings(encounter, params).bindings).to.deep.equal({ start: { param: 'date', type: 'date' }, end: { param: 'date', type: 'date' } });
      expect(deriveBindings(procedure, params).bindings).to.deep.equal({
        performed_start: { param: 'date', type: 'date' },
        performed_at: { param: 'date', type: 'date' },
      });
    });

    it('binds an extension only when the column reads the same extension url as the parameter', () => {
      const params: SearchParamDef[] = [
        {
          code: 'ethnicity',
          base: ['Patient'],
          type: 'token',
          expression: "Patient.extension.where(url = 'https://example.org/ethnicity').value.as(CodeableConcept)",
        },
      ];
      const v = view('Patient', [
        {
          column: columns(
            ['ethnicity', "extension('https://example.org/ethnicity').value.ofType(CodeableConcept).coding.code.first()", 'code'],
            ['ethnicity2', "extension.where(url='https://example.org/ethnicity').value.ofType(CodeableConcept).coding.code.first()", 'code'],
            ['any_extension', 'extension.value.ofType(CodeableConcept).coding.code.first()', 'code'],
          ),
        },
      ]);
      const { bindings, notes } = deriveBindings(v, params);
      expect(bindings).to.deep.equal({ ethnicity: { param: 'ethnicity', type: 'token' }, ethnicity2: { param: 'ethnicity', type: 'token' } });
      expect(noteFor(notes, 'any_extension')).to.match(/reads only extension\.where\(url='https:\/\/example\.org\/ethnicity'\)/);
    });
  });

  describe('computed columns', () => {
    it('never binds a value computed from elements', () => {
      const v = view('Observation', [
        {
          column: columns(
            ['value_mg', 'value.ofType(Quantity).value * 1000', 'decimal'],
            ['is_final', "status = 'final'", 'boolean'],
            ['codes', "code.coding.code.join(',')", 'string'],
            ['has_code', 'code.coding.exists()', 'boolean'],
            ['either', 'effective.ofType(dateTime) | issued', 'dateTime'],
            ['pick', "iif(status = 'final', 'f', 'x')", 'string'],
            ['literal', "'x'", 'string'],
          ),
        },
      ]);
      const { bindings, notes } = deriveBindings(v, OBSERVATION);
      expect(bindings).to.deep.equal({});
      expect(noteFor(notes, 'value_mg')).to.match(/not a plain element path/);
      expect(noteFor(notes, 'is_final')).to.match(/not a plain element path/);
      expect(noteFor(notes, 'codes')).to.match(/uses join\(\)/);
      expect(noteFor(notes, 'has_code')).to.match(/uses exists\(\)/);
      expect(noteFor(notes, 'either')).to.match(/not a plain element path/);
      expect(noteFor(notes, 'pick')).to.match(/uses iif\(\)/);
      expect(noteFor(notes, 'literal')).to.match(/not a plain element path/);
    });

    it('accepts steps that only narrow: first(), last(), [n], where(...), skip/take', () => {
      const v = view('Observation', [
        {
          column: columns(
            ['c1', 'code.coding[0].code', 'code'],
            ['c2', 'code.coding.where(userSelected = true).code.last()', 'code'],
            ['c3', 'code.coding.skip(1).take(1).code', 'code'],
          ),
        },
      ]);
      expect(deriveBindings(v, OBSERVATION).bindings).to.deep.equal({
        c1: { param: 'code', type: 'token' },
        c2: { param: 'code', type: 'token' },
        c3: { param: 'code', type: 'token' },
      });
    });
  });

  describe('unionAll and ties', () => {
    it('binds a unionAll column only when every branch binds it the same way', () => {
      const v = view('Observation', [
        {
          unionAll: [
            { column: columns(['when', 'effective.ofType(dateTime)', 'dateTime'], ['what', 'code.coding.code.first()', 'code']) },
            { column: columns(['when', 'effective.ofType(Period).start', 'dateTime'], ['what', 'value.ofType(CodeableConcept).coding.code.first()', 'code']) },
          ],
        },
      ]);
      const { bindings, notes } = deriveBindings(v, OBSERVATION);
      expect(bindings).to.deep.equal({ when: { param: 'date', type: 'date' } });
      expect(noteFor(notes, 'what')).to.match(/unionAll branches bind to different parameters \(code, value-concept\)/);
    });

    it('breaks a tie between equally narrow parameters by name and says so', () => {
      const params: SearchParamDef[] = [
        { code: 'status', base: ['Condition'], type: 'token', expression: 'Condition.clinicalStatus' },
        { code: 'clinical-status', base: ['Condition'], type: 'token', expression: 'Condition.clinicalStatus' },
      ];
      const v = view('Condition', [{ column: columns(['clinical_status', 'clinicalStatus.coding.code.first()', 'code']) }]);
      const { bindings, notes } = deriveBindings(v, params);
      expect(bindings).to.deep.equal({ clinical_status: { param: 'clinical-status', type: 'token' } });
      expect(noteFor(notes, 'clinical_status')).to.match(/bound to clinical-status; status would serve equally/);
    });
  });
});

describe('mapping file helpers', () => {
  const text = [
    '{',
    '  "table": "t",',
    '  "view": { "resource": "Condition", "select": [], "note": "a \\"bindings\\" string: {" },',
    '  "bindings": {',
    '    "b": {',
    '      "param": "x",',
    '      "type": "token"',
    '    }',
    '  },',
    '  "after": [1, 2]',
    '}',
  ].join('\n');

  it('replaceBindings rewrites only the top-level bindings, in 2-space JSON, keeping every other byte', () => {
    const bindings: Record<string, Binding> = {
      a: { target: 'Patient', type: 'reference', param: 'subject' } as Binding,
      c: { param: 'code', type: 'token', system: SNOMED },
    };
    const out = replaceBindings(text, bindings);
    expect(out).to.equal(
      [
        '{',
        '  "table": "t",',
        '  "view": { "resource": "Condition", "select": [], "note": "a \\"bindings\\" string: {" },',
        '  "bindings": {',
        '    "a": {',
        '      "param": "subject",',
        '      "type": "reference",',
        '      "target": "Patient"',
        '    },',
        '    "c": {',
        '      "param": "code",',
        '      "type": "token",',
        `      "system": "${SNOMED}"`,
        '    }',
        '  },',
        '  "after": [1, 2]',
        '}',
        '',
      ].join('\n'),
    );
    expect(replaceBindings(out, JSON.parse(out).bindings)).to.equal(out);
    expect(replaceBindings(text, {})).to.contain('"bindings": {},');
  });

  it('replaceBindings refuses a file without top-level bindings', () => {
    expect(() => replaceBindings('{"table": "t", "view": {"bindings": {}}}', {})).to.throw(/no top-level "bindings"/);
  });

  it('diffBindings lists changed, added, removed and reordered bindings', () => {
    const committed: Record<string, Binding> = { a: { param: 'x', type: 'token' }, b: { param: 'y', type: 'date' } };
    expect(diffBindings(committed, { a: { param: 'x', type: 'token' }, b: { param: 'y', type: 'date' } }, ['a', 'b'])).to.deep.equal([]);
    expect(diffBindings(committed, { a: { param: 'x', type: 'token', system: SNOMED }, c: { param: 'z', type: 'string' } }, ['a', 'b', 'c'])).to.deep.equal([
      `a: committed {"param":"x","type":"token"}, derived {"param":"x","type":"token","system":"${SNOMED}"}`,
      'b: committed {"param":"y","type":"date"}, derived unbound',
      'c: committed unbound, derived {"param":"z","type":"string"}',
    ]);
    expect(diffBindings(committed, { b: { param: 'y', type: 'date' }, a: { param: 'x', type: 'token' } }, ['b', 'a'])).to.deep.equal([
      'key order: committed a, b; expected column order b, a',
    ]);
  });
});

describe('resolveSearchParams (CapabilityStatement -> search parameters with expressions)', () => {
  const cs: CapabilityStatement = {
    resourceType: 'CapabilityStatement',
    fhirVersion: '4.0.1',
    rest: [
      {
        mode: 'server',
        resource: [
          {
            type: 'Condition',
            searchParam: [
              { name: 'onset-date', type: 'date', definition: 'http://hl7.org/fhir/SearchParameter/Condition-onset-date' },
              { name: 'subject', type: 'reference', definition: 'http://hl7.org/fhir/SearchParameter/Condition-subject' },
              { name: 'code', type: 'token', definition: 'http://hl7.org/fhir/SearchParameter/clinical-code|4.0.1' },
              { name: 'severity', type: 'string', definition: 'http://hl7.org/fhir/SearchParameter/Condition-severity' },
              { name: 'trust-flag', type: 'token', definition: 'https://example.org/SearchParameter/trust-flag' },
              { name: 'unknown', type: 'token', definition: 'https://example.org/SearchParameter/unknown' },
              { name: '_has', type: 'string' },
            ],
          },
        ],
        searchParam: [{ name: '_id', type: 'token', definition: 'http://hl7.org/fhir/SearchParameter/Resource-id' }],
      },
    ],
  };

  it('takes expressions from the bundled R4 definitions by canonical URL, names and types from the server', () => {
    const { params, notes, sources, withoutDefinition } = resolveSearchParams(cs, [], 'Condition');
    const byCode = new Map(params.map((p) => [p.code, p]));
    expect(byCode.get('onset-date')).to.deep.include({ type: 'date', expression: 'Condition.onset.as(dateTime) | Condition.onset.as(Period)' });
    expect(byCode.get('subject')!.target).to.have.members(['Group', 'Patient']);
    expect(byCode.get('code')!.expression).to.contain('Condition.code');
    expect(byCode.get('_id')).to.deep.include({ expression: 'Resource.id', base: ['Resource'] });
    expect(byCode.has('severity'), 'type disagrees with the definition').to.equal(false);
    expect(notes.join('\n')).to.match(/Condition\.severity: the CapabilityStatement says string, its definition .* says token/);
    expect(notes.join('\n')).to.match(/no expression known for trust-flag, unknown/);
    expect(withoutDefinition).to.deep.equal(['_has']);
    expect(sources).to.deep.equal({ server: 0, bundled: 4, none: 4 });
  });

  it("prefers the server's own SearchParameter resources, by URL or by code and base", () => {
    const { params, sources } = resolveSearchParams(
      cs,
      [
        {
          resourceType: 'SearchParameter',
          url: 'https://example.org/SearchParameter/trust-flag',
          status: 'active',
          code: 'trust-flag',
          base: ['Condition'],
          type: 'token',
          expression: "Condition.extension('https://example.org/flag').value.as(Coding)",
        },
        {
          resourceType: 'SearchParameter',
          url: 'http://hl7.org/fhir/SearchParameter/Condition-onset-date',
          status: 'active',
          code: 'onset-date',
          base: ['Condition'],
          type: 'date',
          expression: 'Condition.onset.as(dateTime)',
        },
        {
          resourceType: 'SearchParameter',
          url: 'https://example.org/SearchParameter/unknown',
          status: 'retired',
          code: 'unknown',
          base: ['Condition'],
          type: 'token',
          expression: 'Condition.id',
        },
      ],
      'Condition',
    );
    const byCode = new Map(params.map((p) => [p.code, p]));
    expect(byCode.get('trust-flag')!.expression).to.equal("Condition.extension('https://example.org/flag').value.as(Coding)");
    expect(byCode.get('onset-date')!.expression).to.equal('Condition.onset.as(dateTime)');
    expect(byCode.has('unknown'), 'retired definitions are not used').to.equal(false);
    expect(sources.server).to.equal(2);
  });

  it('uses no bundled R4 definition for a server of another FHIR version', () => {
    const { params } = resolveSearchParams({ ...cs, fhirVersion: '5.0.0' }, [], 'Condition');
    expect(params).to.deep.equal([]);
  });

  it('refuses a resource type the server does not list', () => {
    expect(() => resolveSearchParams(cs, [], 'Patient')).to.throw(FhirServerError, /does not list Patient/);
  });

  it('bundles the official R4 expressions the committed mappings rely on', () => {
    const byUrl = new Map(R4_DEFINITIONS.map((d) => [d.url, d]));
    expect(byUrl.get('http://hl7.org/fhir/SearchParameter/Patient-death-date')!.expression).to.equal('(Patient.deceased as dateTime)');
    expect(byUrl.get('http://hl7.org/fhir/SearchParameter/Observation-component-value-quantity')!.expression).to.equal(
      '(Observation.component.value as Quantity) | (Observation.component.value as SampledData)',
    );
    expect(byUrl.get('http://hl7.org/fhir/SearchParameter/clinical-patient')!.expression).to.contain('Condition.subject.where(resolve() is Patient)');
  });
});
