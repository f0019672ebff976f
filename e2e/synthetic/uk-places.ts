// Small gazetteer for believable UK addresses: towns near each trust with real postcode districts
// (only the outward code is real; inward codes are made up) and Ofcom's drama telephone ranges,
// which are reserved for fiction, so no generated number can ring a real line.
import type { DomainSpec } from '../runtime/topology';

export interface Place {
  readonly town: string;
  readonly county: string;
  /** Real postcode districts (outward codes) of the town. */
  readonly outward: readonly string[];
  /** Landline prefix inside an Ofcom drama range; 3 random digits are appended. */
  readonly landline: string;
}

const GENERIC_LANDLINE = '01632 960'; // 01632 960000-960999: fictional area code for drama use

const BY_REGION: Record<string, readonly Place[]> = {
  Midlands: [
    { town: 'Nottingham', county: 'Nottinghamshire', outward: ['NG1', 'NG3', 'NG5', 'NG7', 'NG8', 'NG9', 'NG11'], landline: '0115 496 0' },
    { town: 'Mansfield', county: 'Nottinghamshire', outward: ['NG18', 'NG19'], landline: '0115 496 0' },
    { town: 'Derby', county: 'Derbyshire', outward: ['DE1', 'DE21', 'DE22', 'DE23', 'DE24'], landline: GENERIC_LANDLINE },
    { town: 'Leicester', county: 'Leicestershire', outward: ['LE1', 'LE2', 'LE3', 'LE4', 'LE5'], landline: '0116 496 0' },
  ],
  'South East': [
    { town: 'Oxford', county: 'Oxfordshire', outward: ['OX1', 'OX2', 'OX3', 'OX4'], landline: GENERIC_LANDLINE },
    { town: 'Abingdon', county: 'Oxfordshire', outward: ['OX14'], landline: GENERIC_LANDLINE },
    { town: 'Banbury', county: 'Oxfordshire', outward: ['OX16'], landline: GENERIC_LANDLINE },
    { town: 'Reading', county: 'Berkshire', outward: ['RG1', 'RG2', 'RG4', 'RG30'], landline: '0118 496 0' },
  ],
  'North East and Yorkshire': [
    { town: 'Leeds', county: 'West Yorkshire', outward: ['LS1', 'LS6', 'LS7', 'LS8', 'LS9', 'LS11', 'LS17'], landline: '0113 496 0' },
    { town: 'Bradford', county: 'West Yorkshire', outward: ['BD1', 'BD3', 'BD5', 'BD7', 'BD9'], landline: GENERIC_LANDLINE },
    { town: 'Wakefield', county: 'West Yorkshire', outward: ['WF1', 'WF2'], landline: GENERIC_LANDLINE },
    { town: 'Harrogate', county: 'North Yorkshire', outward: ['HG1', 'HG2'], landline: GENERIC_LANDLINE },
  ],
};

const FALLBACK: readonly Place[] = [
  { town: 'London', county: 'Greater London', outward: ['E1', 'N1', 'SE1', 'SW9', 'W2'], landline: '020 7946 0' },
  { town: 'Birmingham', county: 'West Midlands', outward: ['B1', 'B5', 'B15', 'B29'], landline: '0121 496 0' },
  { town: 'Manchester', county: 'Greater Manchester', outward: ['M1', 'M13', 'M14', 'M20'], landline: '0161 496 0' },
];

/** Places for a domain: its region's towns, the one named in the trust's name first (the trust's home). */
export function placesFor(domain: Pick<DomainSpec, 'name' | 'region'>): readonly Place[] {
  const list = BY_REGION[domain.region] ?? FALLBACK;
  const home = list.find((p) => domain.name.includes(p.town));
  return home ? [home, ...list.filter((p) => p !== home)] : list;
}

export const STREETS: readonly string[] = [
  'High Street',
  'Station Road',
  'Church Lane',
  'Victoria Road',
  'Park Avenue',
  'Mill Lane',
  'Queen Street',
  'London Road',
  'The Crescent',
  'Manor Road',
  'Chestnut Close',
  'Albert Street',
  'Grange Road',
  'Kings Drive',
  'Orchard Way',
  'Springfield Road',
  'Willow Grove',
  'York Street',
  'Beech Avenue',
  'Windsor Terrace',
];

/** Letters allowed in the inward part of a postcode (C, I, K, M, O and V are never used). */
export const INWARD_LETTERS = 'ABDEFGHJLNPQRSTUWXYZ';

/** Outward code, space, digit and two letters, e.g. "NG7 2UH". */
export const UK_POSTCODE = /^[A-Z]{1,2}\d[A-Z\d]? \d[ABD-HJLNP-UW-Z]{2}$/;
