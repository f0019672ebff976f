// The trust itself: one Organization carrying the domain's ODS code (every Synthea provider
// organisation collapses into it) and three site Locations that encounters point at by class.
import type { DomainSpec } from '../runtime/topology';
import type { Resource } from './fhir';
import { trustAddress, ukLandline } from './uk-flavour';

export const ODS_ORGANIZATION_SYSTEM = 'https://fhir.nhs.uk/Id/ods-organization-code';

export type SiteKind = 'ed' | 'opd' | 'ward';

const SITE_NAMES: Record<SiteKind, string> = {
  ed: 'Emergency Department',
  opd: 'Outpatients Department',
  ward: 'Inpatient Wards',
};

export function trustOrganizationId(domain: Pick<DomainSpec, 'id'>): string {
  return `${domain.id}-trust`;
}

export function siteLocationId(domain: Pick<DomainSpec, 'id'>, kind: SiteKind): string {
  return `${domain.id}-loc-${kind}`;
}

export function trustOrganization(domain: DomainSpec): Resource {
  return {
    resourceType: 'Organization',
    id: trustOrganizationId(domain),
    identifier: [{ system: ODS_ORGANIZATION_SYSTEM, value: domain.odsCode }],
    active: true,
    type: [
      {
        coding: [{ system: 'http://terminology.hl7.org/CodeSystem/organization-type', code: 'prov', display: 'Healthcare Provider' }],
      },
    ],
    name: domain.name,
    telecom: [{ system: 'phone', value: ukLandline(domain, `trust-${domain.odsCode}`), use: 'work' }],
    address: [trustAddress(domain)],
  };
}

export function siteLocations(domain: DomainSpec): Resource[] {
  return (Object.keys(SITE_NAMES) as SiteKind[]).map((kind) => ({
    resourceType: 'Location',
    id: siteLocationId(domain, kind),
    status: 'active',
    name: `${domain.name} ${SITE_NAMES[kind]}`,
    mode: 'instance',
    address: trustAddress(domain),
    managingOrganization: { reference: `Organization/${trustOrganizationId(domain)}`, display: domain.name },
  }));
}

/** Where an encounter of this v3 ActCode class happens; home visits have no trust site. */
export function siteForEncounterClass(classCode: string | undefined): SiteKind | undefined {
  switch (classCode) {
    case 'EMER':
      return 'ed';
    case 'IMP':
    case 'ACUTE':
    case 'NONAC':
    case 'OBSENC':
    case 'SS':
      return 'ward';
    case 'HH':
      return undefined;
    default:
      return 'opd'; // AMB, VR, WELL and anything new
  }
}
