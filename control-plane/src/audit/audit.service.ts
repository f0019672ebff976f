import { createHash } from 'node:crypto';
import { Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { DataSource, EntityManager, EntitySubscriberInterface, TransactionCommitEvent } from 'typeorm';
import { CONFIG, ControlPlaneConfig } from '../config';
import { AuditAnchorFile, AuditHead, anchorProblems } from './audit-anchor';
import { AuditEntry } from './audit-entry.entity';
import { canonicalJson } from './canonical-json';

export interface AuditRecord {
  actor: string;
  action: string;
  entity: string;
  entityId: string;
  before?: unknown;
  after?: unknown;
}

const GENESIS = '0'.repeat(64);
/** Serialises appends so the chain has one order (registry writes are rare; this is not a hot path). */
const CHAIN_LOCK = 72_001;

export function entryHash(prevHash: string, entry: Omit<AuditEntry, 'id' | 'hash' | 'prevHash'>): string {
  return createHash('sha256')
    .update(prevHash)
    .update(canonicalJson({ ...entry, at: entry.at.toISOString() }))
    .digest('hex');
}

export interface AuditVerification {
  ok: boolean;
  entries: number;
  /** The first entry whose hash does not match, or the anchored entry that is missing or rewritten. */
  brokenAt?: string;
  anchors: { file: string; count: number; newest?: { seq: string; at: string } };
  problems: string[];
}

/** Where a transaction that appended an entry keeps its head until it commits (QueryRunner.data). */
const PENDING_HEAD = 'meshAuditHead';

@Injectable()
export class AuditService implements EntitySubscriberInterface, OnApplicationBootstrap {
  private readonly log = new Logger('audit');
  private readonly anchors: AuditAnchorFile;

  constructor(
    @Inject(DataSource) private readonly db: DataSource,
    @Inject(CONFIG) config: ControlPlaneConfig,
  ) {
    this.anchors = new AuditAnchorFile(config.auditAnchorFile, config.auditAnchorKeyFile);
    // Anchors are written after commit, so a rolled-back entry is never anchored (and then "missing").
    db.subscribers.push(this);
  }

  /** The head as found at start (entries written while the control plane was down, or by another host). */
  async onApplicationBootstrap(): Promise<void> {
    const newest = await this.db.getRepository(AuditEntry).find({ order: { id: 'DESC' }, take: 1 });
    if (newest[0]) this.anchor({ seq: newest[0].id, hash: newest[0].hash });
  }

  afterTransactionCommit(event: TransactionCommitEvent): void {
    const data = event.queryRunner.data as Record<string, unknown> | undefined;
    const head = data?.[PENDING_HEAD] as AuditHead | undefined;
    if (!head || !data) return;
    delete data[PENDING_HEAD];
    this.anchor(head);
  }

  private anchor(head: AuditHead): void {
    try {
      this.anchors.append(head);
    } catch (e) {
      // The change has committed; a missing anchor only weakens truncation detection for this entry.
      this.log.error(`could not anchor audit entry ${head.seq} in ${this.anchors.file}: ${(e as Error).message}`);
    }
  }

  /** Appends an entry inside the caller's transaction: the change and its audit record commit together. */
  async record(manager: EntityManager, record: AuditRecord): Promise<AuditEntry> {
    await manager.query('select pg_advisory_xact_lock($1)', [CHAIN_LOCK]);
    const last = await manager.getRepository(AuditEntry).find({ order: { id: 'DESC' }, take: 1 });
    const prevHash = last[0]?.hash ?? GENESIS;
    const fields = {
      at: new Date(),
      actor: record.actor,
      action: record.action,
      entity: record.entity,
      entityId: record.entityId,
      before: toJson(record.before),
      after: toJson(record.after),
    };
    const saved = await manager.getRepository(AuditEntry).save({ ...fields, prevHash, hash: entryHash(prevHash, fields) });
    const runner = manager.queryRunner;
    if (runner?.isTransactionActive) runner.data = { ...(runner.data as object), [PENDING_HEAD]: { seq: String(saved.id), hash: saved.hash } };
    else this.anchor({ seq: String(saved.id), hash: saved.hash });
    return saved;
  }

  async list(filter: { entity?: string; entityId?: string; limit: number }): Promise<AuditEntry[]> {
    return this.db.getRepository(AuditEntry).find({
      where: { ...(filter.entity ? { entity: filter.entity } : {}), ...(filter.entityId ? { entityId: filter.entityId } : {}) },
      order: { id: 'DESC' },
      take: filter.limit,
    });
  }

  /**
   * Recomputes the chain and checks it against the anchors outside the database: an edited entry breaks
   * the chain, removed newest entries miss their anchor.
   */
  async verify(): Promise<AuditVerification> {
    const entries = await this.db.getRepository(AuditEntry).find({ order: { id: 'ASC' } });
    const problems: string[] = [];
    let brokenAt: string | undefined;
    let prev = entries[0]?.prevHash ?? GENESIS; // after retention the chain starts at the oldest kept entry
    for (const e of entries) {
      const { id, hash, prevHash, ...fields } = e;
      if (prevHash !== prev || entryHash(prevHash, { ...fields, at: new Date(fields.at) }) !== hash) {
        brokenAt = id;
        problems.push(
          `audit chain broken at entry seq ${id}: ${prevHash !== prev ? 'its previous hash is not the hash of the entry before it' : 'its content does not match its hash'}`,
        );
        break;
      }
      prev = hash;
    }
    const { anchors, problems: fileProblems } = this.anchors.read();
    const anchored = anchorProblems(
      anchors,
      entries.map((e) => ({ seq: String(e.id), hash: e.hash })),
    );
    brokenAt ??= anchored[0]?.seq;
    problems.push(...anchored.map((p) => p.message), ...fileProblems);
    const newest = anchors.reduce<(typeof anchors)[number] | undefined>((a, b) => (!a || BigInt(b.seq) > BigInt(a.seq) ? b : a), undefined);
    return {
      ok: problems.length === 0,
      entries: entries.length,
      ...(brokenAt !== undefined ? { brokenAt } : {}),
      anchors: { file: this.anchors.file, count: anchors.length, ...(newest ? { newest: { seq: newest.seq, at: newest.at } } : {}) },
      problems,
    };
  }
}

/** Entities become plain JSON (dates as ISO strings), so what is hashed is what is stored. */
function toJson(value: unknown): unknown {
  return value === undefined ? null : JSON.parse(JSON.stringify(value));
}
