// Makes Synthea's Massachusetts people look like NHS patients: NHS number + trust MRN instead of US
// identifiers, UK address and phone, no US-only extensions, British spellings of name prefixes.
import type { DomainSpec } from '../runtime/topology';
import { hashInt, pick } from './deterministic';
import { asArray, asObject, asString, isObject, type JsonObject, type Reference, type Resource } from './fhir';
import { NHS_NUMBER_SYSTEM } from './nhs-number';
import { INWARD_LETTERS, type Place, placesFor, STREETS } from './uk-places';

export const GMC_NUMBER_SYSTEM = 'https://fhir.hl7.org.uk/Id/gmc-number';
const NHS_NUMBER_VERIFICATION_URL = 'https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-NHSNumberVerificationStatus';
const NHS_NUMBER_VERIFICATION_SYSTEM = 'https://fhir.hl7.org.uk/CodeSystem/UKCore-NHSNumberVerificationStatusEngland';

/** Trust-local patient identifier system (the PAS number), one per ODS code. */
export function mrnSystem(domain: Pick<DomainSpec, 'odsCode'>): string {
  return `https://fhir.${domain.odsCode.toLowerCase()}.nhs.uk/Id/pas-identifier`;
}

/** Postcode from a real outward code and a made-up inward code, e.g. "LS7 4QT". */
export function ukPostcode(place: Place, ...keys: string[]): string {
  const outward = pick(place.outward, 'outward', ...keys);
  const n = hashInt('inward', ...keys);
  const letters = INWARD_LETTERS.length;
  return `${outward} ${n % 10}${INWARD_LETTERS[Math.floor(n / 10) % letters]}${INWARD_LETTERS[Math.floor(n / 10 / letters) % letters]}`;
}

/** Home address: 60% in the trust's own town, the rest in nearby towns of the region. */
export function ukHomeAddress(domain: Pick<DomainSpec, 'name' | 'region'>, key: string): JsonObject {
  const places = placesFor(domain);
  const place = hashInt('town', key) % 10 < 6 ? (places[0] as Place) : pick(places, 'other-town', key);
  return {
    use: 'home',
    line: [`${1 + (hashInt('house', key) % 180)} ${pick(STREETS, 'street', key)}`],
    city: place.town,
    district: place.county,
    postalCode: ukPostcode(place, key),
    country: 'GB',
  };
}

/** Work address of the trust's main site, in its home town. */
export function trustAddress(domain: Pick<DomainSpec, 'name' | 'region' | 'odsCode'>): JsonObject {
  const place = placesFor(domain)[0] as Place;
  return {
    use: 'work',
    line: [`${pick(['City Hospital', 'General Infirmary', 'Royal Hospital'], domain.odsCode)}`, pick(STREETS, 'trust-street', domain.odsCode)],
    city: place.town,
    district: place.county,
    postalCode: ukPostcode(place, 'trust', domain.odsCode),
    country: 'GB',
  };
}

/** Mobile number in Ofcom's drama range 07700 900000-900999. */
export function ukMobile(key: string): string {
  return `07700 900${String(hashInt('mobile', key) % 1000).padStart(3, '0')}`;
}

export function ukLandline(domain: Pick<DomainSpec, 'name' | 'region'>, key: string): string {
  const place = placesFor(domain)[0] as Place;
  return `${place.landline}${String(hashInt('landline', key) % 1000).padStart(3, '0')}`;
}

/** "Mr." -> "Mr": British usage has no full stop after contracted titles. */
export function ukNames(names: unknown): unknown[] {
  return asArray(names).map((n) => {
    if (!isObject(n)) return n;
    const prefix = asArray(n.prefix).map((p) => (typeof p === 'string' ? p.replace(/\.$/, '') : p));
    return prefix.length > 0 ? { ...n, prefix } : n;
  });
}

export interface PatientIdentity {
  nhsNumber: string;
  mrn: string;
}

/**
 * Rewrites a Synthea Patient (already re-identified and with relative references) in place:
 * keeps name/gender/birth date/marital status, replaces identifiers, contact details and extensions.
 * `personKey` identifies the person (not the record), so copies at two trusts share address and phone.
 */
export function anglicisePatient(patient: Resource, domain: DomainSpec, identity: PatientIdentity, personKey: string, managingOrganization: Reference): void {
  delete patient.extension; // us-core race/ethnicity/birthsex, birthPlace, mothersMaidenName, DALY/QALY
  patient.identifier = [nhsNumberIdentifier(identity.nhsNumber), mrnIdentifier(domain, identity.mrn)];
  patient.name = ukNames(patient.name);
  patient.telecom = [{ system: 'phone', value: ukMobile(personKey), use: 'mobile' }];
  patient.address = [ukHomeAddress(domain, personKey)];
  const communication = asArray(patient.communication).map((c) => (isObject(c) ? ukLanguage(c) : c));
  if (communication.length > 0) patient.communication = communication;
  patient.managingOrganization = managingOrganization;
}

export function nhsNumberIdentifier(nhsNumber: string): JsonObject {
  return {
    extension: [
      {
        url: NHS_NUMBER_VERIFICATION_URL,
        valueCodeableConcept: {
          coding: [{ system: NHS_NUMBER_VERIFICATION_SYSTEM, code: '01', display: 'Number present and verified' }],
        },
      },
    ],
    system: NHS_NUMBER_SYSTEM,
    value: nhsNumber,
  };
}

export function mrnIdentifier(domain: Pick<DomainSpec, 'odsCode'>, mrn: string): JsonObject {
  return {
    use: 'usual',
    type: {
      coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0203', code: 'MR', display: 'Medical record number' }],
    },
    system: mrnSystem(domain),
    value: mrn,
  };
}

function ukLanguage(communication: JsonObject): JsonObject {
  const language = asObject(communication.language);
  const isUsEnglish = asArray(language?.coding).some((c) => isObject(c) && c.code === 'en-US');
  if (!isUsEnglish) return communication;
  return {
    ...communication,
    language: {
      coding: [{ system: 'urn:ietf:bcp:47', code: 'en-GB', display: 'English (United Kingdom)' }],
      text: 'English (United Kingdom)',
    },
  };
}

/** Synthea clinician -> trust clinician: GMC number instead of NPI, trust address, no Synthea extensions. */
export function anglicisePractitioner(practitioner: Resource, domain: DomainSpec, gmcNumber: string): void {
  delete practitioner.extension;
  practitioner.identifier = [{ system: GMC_NUMBER_SYSTEM, value: gmcNumber }];
  practitioner.name = ukNames(practitioner.name);
  practitioner.address = [trustAddress(domain)];
  const email = asArray(practitioner.telecom).find((t) => isObject(t) && t.system === 'email');
  const emailValue = isObject(email) ? asString(email.value)?.toLowerCase() : undefined;
  if (emailValue) practitioner.telecom = [{ system: 'email', value: emailValue, use: 'work' }];
  else delete practitioner.telecom;
}

/** "Dr Jane Smith": display text used when a reference is pointed at a practitioner. */
export function practitionerDisplay(practitioner: Resource): string | undefined {
  const name = asArray(practitioner.name).find(isObject);
  if (!name) return undefined;
  const parts = [...asArray(name.prefix), ...asArray(name.given), name.family].filter((p) => typeof p === 'string');
  return parts.length > 0 ? parts.join(' ') : undefined;
}
