// Per-project pseudonym keys: HMAC-SHA256(master key, label || project). The same patient gets the same
// pseudonym in every trust within a project (the pseudonym is keyed on the NHS number) and unlinkable
// pseudonyms across projects. Keys reach Trino only as a per-query extra credential
// (`mesh.pseudonym-key`), which Trino keeps out of query info and EXPLAIN; mesh_pseudonym reads it there.
import { createHmac } from 'node:crypto';
import { loadOrCreateKey } from '../secret-file';

export const PSEUDONYM_KEY_CREDENTIAL = 'mesh.pseudonym-key';
const LABEL = 'fhir-mesh pseudonym key v1\0';

export class PseudonymKeys {
  private readonly master: Buffer;

  constructor(keyFile: string) {
    this.master = loadOrCreateKey(keyFile, 'pseudonym master key');
  }

  /** 64 hex digits, as mesh_pseudonym expects. */
  forProject(project: string): string {
    return createHmac('sha256', this.master)
      .update(LABEL + project, 'utf8')
      .digest('hex');
  }
}

/** What mesh_pseudonym computes (connector-spec/pseudonym-vectors.json): the first 16 bytes of HMAC-SHA256, hex. */
export function pseudonym(keyHex: string, value: string): string {
  return createHmac('sha256', Buffer.from(keyHex, 'hex')).update(value, 'utf8').digest('hex').slice(0, 32);
}
