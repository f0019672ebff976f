// The audit chain's head, anchored outside PostgreSQL. A chain cut at its head is still a valid chain, so
// whoever can delete rows could remove the newest entries unseen. After every commit that appends an entry,
// the control plane appends {seq, hash, at} to a file, signed with an HMAC key that never enters the
// database; verification then requires every anchored entry the chain should still hold to be there with
// the anchored hash. Retention deletes only the oldest entries, whose anchors it no longer checks.
import { createHmac, timingSafeEqual } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadOrCreateKey } from '../secret-file';

export interface AuditHead {
  seq: string;
  hash: string;
}
export interface Anchor extends AuditHead {
  at: string;
  line: number;
}

function mac(key: Buffer, seq: string, hash: string, at: string): string {
  return createHmac('sha256', key).update(`${seq}\n${hash}\n${at}`).digest('hex');
}

/** One line of the anchor file. */
export function anchorLine(key: Buffer, head: AuditHead, at: Date): string {
  const when = at.toISOString();
  return `${JSON.stringify({ seq: head.seq, hash: head.hash, at: when, hmac: mac(key, head.seq, head.hash, when) })}\n`;
}

/** The anchors of a file's text whose HMAC holds, and a problem for every line that does not. */
export function parseAnchors(text: string, key: Buffer, file: string): { anchors: Anchor[]; problems: string[] } {
  const anchors: Anchor[] = [];
  const problems: string[] = [];
  text.split('\n').forEach((raw, i) => {
    if (raw.trim() === '') return;
    const line = i + 1;
    let record: { seq?: unknown; hash?: unknown; at?: unknown; hmac?: unknown };
    try {
      record = JSON.parse(raw) as typeof record;
    } catch {
      problems.push(`audit anchor file ${file} line ${line} is not an anchor record`);
      return;
    }
    const { seq, hash, at, hmac } = record ?? {};
    if (typeof seq !== 'string' || !/^[0-9]+$/.test(seq) || typeof hash !== 'string' || typeof at !== 'string' || typeof hmac !== 'string') {
      problems.push(`audit anchor file ${file} line ${line} is not an anchor record`);
      return;
    }
    const expected = Buffer.from(mac(key, seq, hash, at), 'hex');
    const given = Buffer.from(hmac, 'hex');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
      problems.push(`audit anchor file ${file} line ${line} (seq ${seq}): bad HMAC; the line was altered or not written with this control plane's key`);
      return;
    }
    anchors.push({ seq, hash, at, line });
  });
  return { anchors, problems };
}

/** Retention may delete only entries older than this (the audit trigger's floor, migration 1764950000000). */
export const AUDIT_RETENTION_FLOOR_DAYS = 30;

/**
 * What the anchors say about the chain (`entries`: every kept entry, oldest first): the newest anchored
 * entry missing means truncation; an anchored entry the chain should still hold that is missing or has
 * another hash means rewriting. An entry "should still be held" when it lies within the kept span, or
 * when it was anchored less than the retention floor ago: retention cannot have removed it, so deleting
 * the older part of the chain is found too, not only its head.
 */
export function anchorProblems(anchors: readonly Anchor[], entries: readonly AuditHead[], now = new Date()): { seq: string; message: string }[] {
  if (anchors.length === 0) return [];
  const byId = new Map(entries.map((e) => [e.seq, e.hash]));
  const oldest = entries.length ? BigInt(entries[0]!.seq) : undefined;
  const newest = entries.length ? entries[entries.length - 1]!.seq : undefined;
  const floor = now.getTime() - AUDIT_RETENTION_FLOOR_DAYS * 86_400_000;
  const inSpan = (seq: string): boolean => oldest !== undefined && BigInt(seq) >= oldest && BigInt(seq) <= BigInt(newest!);
  const tooYoungToPrune = (a: Anchor): boolean => Date.parse(a.at) > floor && (oldest === undefined || BigInt(a.seq) < oldest);
  const sorted = [...anchors].sort((a, b) => (BigInt(b.seq) > BigInt(a.seq) ? 1 : BigInt(b.seq) < BigInt(a.seq) ? -1 : 0));
  const problems: { seq: string; message: string }[] = [];
  const head = sorted[0]!;
  if (!byId.has(head.seq)) {
    problems.push({
      seq: head.seq,
      message:
        `audit chain truncated: anchored entry seq ${head.seq} (hash ${head.hash}, anchored at ${head.at}) is missing; ` +
        `the newest entry in the database is ${newest === undefined ? 'none (the log is empty)' : `seq ${newest}`}`,
    });
  }
  for (const a of sorted) {
    if (problems.length >= 5) break;
    const hash = byId.get(a.seq);
    if (hash === undefined) {
      // Beyond the newest entry: part of the truncation above; before the oldest: pruned by retention,
      // unless it is too young for retention to have pruned it.
      if (inSpan(a.seq))
        problems.push({
          seq: a.seq,
          message: `audit chain rewritten: anchored entry seq ${a.seq} (hash ${a.hash}, anchored at ${a.at}) is missing from the middle of the chain`,
        });
      else if (tooYoungToPrune(a))
        problems.push({
          seq: a.seq,
          message: `audit chain cut: anchored entry seq ${a.seq} (hash ${a.hash}, anchored at ${a.at}) is missing, and retention deletes only entries older than ${AUDIT_RETENTION_FLOOR_DAYS} days`,
        });
      continue;
    }
    if (hash !== a.hash)
      problems.push({ seq: a.seq, message: `audit chain rewritten: entry seq ${a.seq} has hash ${hash}, but was anchored with hash ${a.hash} at ${a.at}` });
  }
  return problems;
}

/** The anchor file and its key on this host. The key is created (0600, in a 0700 folder) on first use. */
export class AuditAnchorFile {
  private readonly key: Buffer;

  constructor(
    readonly file: string,
    keyFile: string,
  ) {
    this.key = loadOrCreateKey(keyFile, 'audit anchor key');
  }

  append(head: AuditHead, at = new Date()): void {
    fs.mkdirSync(path.dirname(this.file), { recursive: true, mode: 0o700 });
    fs.appendFileSync(this.file, anchorLine(this.key, head, at), { mode: 0o600 });
  }

  read(): { anchors: Anchor[]; problems: string[] } {
    let text: string;
    try {
      text = fs.readFileSync(this.file, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { anchors: [], problems: [] };
      throw e;
    }
    return parseAnchors(text, this.key, this.file);
  }
}
