// Finds identifying values in what the gateway answers: every cell (arrays, rows and JSON stringified,
// hex and base64 cells also decoded), every column name and every error message. The secrets come from the
// NDJSON ground truth: NHS numbers, family and given names, full postcodes (with and without the space),
// birth dates other than 1 January, raw Patient ids, ids of V-labelled resources, and the pseudonyms of
// opted-out people in the project (which must never appear: those people are excluded).
// A scanner sees whole values only: single characters pulled out one query at a time (substr, codepoint,
// length) are the corpus's business, which expects such statements refused or the column unreachable.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { pseudonym } from '../../../control-plane/src/gateway/pseudonym-keys';
import { DOMAINS, paths } from '../../runtime/topology';
import { nhsNumberOf, optedOut, type Resource, readResources, securityCodes } from '../ground-truth';

export type SecretKind =
  | 'nhs-number'
  | 'family-name'
  | 'given-name'
  | 'postcode'
  | 'birth-date'
  | 'patient-id'
  | 'v-labelled-id'
  | 'opted-out-pseudonym'
  | 'pseudonym-key';

export interface Secret {
  kind: SecretKind;
  value: string;
  /** Also a word of ordinary clinical text (a display, a date of an event): only counted in a column named for it. */
  ambiguous?: boolean;
}

export interface Leak {
  kind: SecretKind;
  value: string;
  /** Where: `cell r,c (column)`, `column name`, `error message`, plus `decoded hex` / `decoded base64`. */
  where: string;
}

/** What a scan reads: the shape gatewayQuery returns. */
export interface ScannedAnswer {
  columns: { name: string; type?: string }[];
  rows: unknown[][];
  error?: { message: string };
  httpText?: string;
}

/** Columns in which an ambiguous secret still counts (a name in a name column is a name). */
const IDENTITY_COLUMN = /name|family|given|birth|dob|nhs|postcode|postal|patient|person|ident/i;

export class LeakScanner {
  private readonly exact: Map<string, Secret>;
  private readonly pattern?: RegExp;
  private readonly words: Map<string, Secret>;

  constructor(secrets: readonly Secret[]) {
    this.exact = new Map();
    this.words = new Map();
    const substrings: string[] = [];
    for (const secret of secrets) {
      const key = secret.value.toLowerCase();
      if (key.length < 2) continue;
      if (secret.kind === 'family-name' || secret.kind === 'given-name') this.words.set(key, secret);
      else {
        this.exact.set(key, secret);
        substrings.push(key);
      }
    }
    // Longest first, so a pseudonym key is reported as itself rather than as a pseudonym inside it.
    substrings.sort((a, b) => b.length - a.length);
    if (substrings.length) this.pattern = new RegExp(substrings.map(escapeRegExp).join('|'), 'gi');
  }

  get size(): number {
    return this.exact.size + this.words.size;
  }

  scan(answer: ScannedAnswer): Leak[] {
    const leaks: Leak[] = [];
    for (const c of answer.columns) leaks.push(...this.scanText(c.name, 'column name', c.name));
    for (const [r, row] of answer.rows.entries()) {
      for (const [c, cell] of row.entries()) {
        const column = answer.columns[c]?.name ?? `#${c}`;
        leaks.push(...this.scanValue(cell, `cell ${r},${c} (${column})`, column));
      }
    }
    if (answer.error) leaks.push(...this.scanText(answer.error.message, 'error message', ''));
    if (answer.httpText) leaks.push(...this.scanText(answer.httpText, 'HTTP answer', ''));
    return leaks;
  }

  scanValue(value: unknown, where: string, column: string): Leak[] {
    if (value === null || value === undefined) return [];
    const text = typeof value === 'string' ? value : JSON.stringify(value);
    const leaks = this.scanText(text, where, column);
    for (const decoded of decodings(text)) leaks.push(...this.scanText(decoded.text, `${where}, decoded ${decoded.how}`, column));
    return leaks;
  }

  scanText(text: string, where: string, column: string): Leak[] {
    const leaks: Leak[] = [];
    const namedColumn = IDENTITY_COLUMN.test(column);
    const found = (secret: Secret): void => {
      if (!secret.ambiguous || namedColumn) leaks.push({ kind: secret.kind, value: secret.value, where });
    };
    // NHS numbers written 943 476 5919 or 943-476-5919 are the same number.
    const variants = new Set([text, text.replace(/(\d)[ -](?=\d)/g, '$1')]);
    for (const variant of variants) {
      if (!this.pattern) break;
      for (const match of variant.matchAll(this.pattern)) {
        const secret = this.exact.get(match[0].toLowerCase());
        if (secret) found(secret);
      }
    }
    // A name is a whole word written as the trusts write it ('Max', not max_run_time), or a whole cell in any case.
    for (const word of words(text)) {
      const secret = this.words.get(word.toLowerCase());
      if (secret && word === secret.value) found(secret);
    }
    const cell = this.words.get(text.trim().toLowerCase());
    if (cell) found(cell);
    return dedupe(leaks);
  }
}

/** Hex and base64 cells are decoded once (varbinary comes back as base64; to_hex hides text as hex). */
function decodings(text: string): { how: string; text: string }[] {
  const out: { how: string; text: string }[] = [];
  const trimmed = text.trim();
  if (trimmed.length >= 8 && trimmed.length % 2 === 0 && /^[0-9a-fA-F]+$/.test(trimmed))
    out.push({ how: 'hex', text: Buffer.from(trimmed, 'hex').toString('latin1') });
  if (trimmed.length >= 8 && /^[A-Za-z0-9+/_-]+={0,2}$/.test(trimmed)) out.push({ how: 'base64', text: Buffer.from(trimmed, 'base64').toString('latin1') });
  return out;
}

function dedupe(leaks: Leak[]): Leak[] {
  const seen = new Set<string>();
  return leaks.filter((l) => {
    const key = `${l.kind}\0${l.value}\0${l.where}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** Words (identifier_like_this is one); an apostrophe or hyphen inside a word (O'Brien) belongs to it, around it (quotes) not. */
function words(text: string): string[] {
  return text
    .split(/[^\p{L}\p{M}\p{N}_'-]+/u)
    .map((w) => w.replace(/^['-]+|['-]+$/g, ''))
    .filter(Boolean);
}

function escapeRegExp(value: string): string {
  return value.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

export interface GroundTruthRecords {
  /** Every resource of every domain. */
  resources: readonly Resource[];
  /** Pseudonyms (in the project the queries run in) of people with a national data opt-out. */
  optedOutPseudonyms: readonly string[];
  /** Keys that must never reach an analyst (the project's pseudonym key). */
  keys?: readonly string[];
}

/** The secrets of a ground truth (pure). */
export function secretsOf(truth: GroundTruthRecords): Secret[] {
  const secrets: Secret[] = [];
  const patients = truth.resources.filter((r) => r.resourceType === 'Patient');
  const others = truth.resources.filter((r) => r.resourceType !== 'Patient');
  // Words and dates of everything that is not a Patient: a secret found among them is ambiguous.
  const ordinaryWords = new Set<string>();
  const ordinaryDates = new Set<string>();
  for (const r of others) {
    for (const s of strings(r)) {
      for (const w of words(s)) ordinaryWords.add(w.toLowerCase());
      for (const d of s.match(/\d{4}-\d{2}-\d{2}/g) ?? []) ordinaryDates.add(d);
    }
  }
  for (const p of patients) {
    const nhs = nhsNumberOf(p);
    if (nhs) secrets.push({ kind: 'nhs-number', value: nhs });
    secrets.push({ kind: 'patient-id', value: p.id });
    for (const name of (p.name ?? []) as { family?: string; given?: string[] }[]) {
      const parts: [SecretKind, string][] = [
        ...(name.family ? [['family-name', name.family] as [SecretKind, string]] : []),
        ...(name.given ?? []).map((g) => ['given-name', g] as [SecretKind, string]),
      ];
      for (const [kind, value] of parts) secrets.push({ kind, value, ambiguous: ordinaryWords.has(value.toLowerCase()) });
    }
    for (const address of (p.address ?? []) as { postalCode?: string }[]) {
      const postcode = address.postalCode?.trim();
      if (!postcode) continue;
      secrets.push({ kind: 'postcode', value: postcode });
      if (postcode.includes(' ')) secrets.push({ kind: 'postcode', value: postcode.replace(/\s+/g, '') });
    }
    const birth = typeof p.birthDate === 'string' ? p.birthDate : undefined;
    if (birth && /^\d{4}-\d{2}-\d{2}$/.test(birth) && !birth.endsWith('-01-01')) {
      secrets.push({ kind: 'birth-date', value: birth, ambiguous: ordinaryDates.has(birth) });
    }
  }
  for (const r of truth.resources) if (securityCodes(r).some((c) => c.endsWith('|V'))) secrets.push({ kind: 'v-labelled-id', value: r.id });
  for (const value of truth.optedOutPseudonyms) secrets.push({ kind: 'opted-out-pseudonym', value });
  for (const value of truth.keys ?? []) secrets.push({ kind: 'pseudonym-key', value });
  return secrets;
}

function strings(value: unknown, out: string[] = []): string[] {
  if (typeof value === 'string') out.push(value);
  else if (Array.isArray(value)) for (const v of value) strings(v, out);
  else if (value && typeof value === 'object') for (const v of Object.values(value)) strings(v, out);
  return out;
}

/** The mesh's own ground truth, for queries run in `project` (whose key derives the opted-out pseudonyms). */
export function groundTruthScanner(projectKeyHex: string): LeakScanner {
  const resources: Resource[] = [];
  for (const domain of DOMAINS) {
    for (const file of fs.readdirSync(path.join(paths.synthetic, domain.id)).filter((f) => f.endsWith('.ndjson'))) {
      resources.push(...readResources(domain, file.replace(/\.ndjson$/, '')));
    }
  }
  const optedOutPseudonyms = [...optedOut().nhsNumbers].map((nhs) => pseudonym(projectKeyHex, nhs));
  return new LeakScanner(secretsOf({ resources, optedOutPseudonyms, keys: [projectKeyHex] }));
}
