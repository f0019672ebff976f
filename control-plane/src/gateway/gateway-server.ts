// The analysts' only door: Trino's client protocol over HTTPS. Each POST /v1/statement is authenticated
// (access.ts), given a purpose and project, parsed and rewritten (rewrite/statement-rewriter.ts with the
// caller's policy, policy/query-policy.ts), audited (query-audit.ts) and relayed to Trino as the gateway's
// own principal, with the project's pseudonym key as an extra credential. Paging (GET nextUri) and
// cancelling (DELETE) are relayed only for the user who started the query. Trino builds nextUri for the
// gateway's address from the X-Forwarded-* headers (http-server.process-forwarded=true), so result pages
// pass through as Trino wrote them.
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import { Logger } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { AuditService } from '../audit/audit.service';
import type { ControlPlaneConfig } from '../config';
import { BudgetLedger } from '../privacy/budget-ledger';
import {
  aggregateOnly,
  type DifferentialPrivacyPolicy,
  type DisclosurePolicy,
  disclosurePolicyOf,
  InvalidDisclosurePolicy,
  type SmallNumbersPolicy,
} from '../privacy/disclosure-policy';
import { activeBreakGlass } from '../registry/break-glass.service';
import { AccessDenied, type Analyst, GatewayAccess, parseExtraCredentials, type QueryPurpose } from './access';
import { type AggregateAnswer, AggregateAnswers, AggregateRefused } from './disclosure/aggregate-answers';
import { protectExtract } from './disclosure/row-extract';
import { type GatewayConfig, patientExclusionSession } from './gateway-config';
import { type PageSummary, summarizePage } from './page-scan';
import {
  FAILURE_MODE_CREDENTIAL,
  type FailureMode,
  failingDomain,
  failureModeOf,
  failureReason,
  InvalidFailureMode,
  type MissingDomain,
  openCircuitDomains,
  openCircuitsSql,
  partialResultNote,
  skipDomainsSession,
} from './partial-results';
import { type MeshTable, MeshTables } from './policy/mesh-tables';
import { QueryPolicy } from './policy/query-policy';
import { PSEUDONYM_KEY_CREDENTIAL, PseudonymKeys } from './pseudonym-keys';
import { QueryAudit, type QueryOutcomeCounter, type QueryRecord } from './query-audit';
import { QueryCostTally, queryCostOf } from './query-cost';
import { DEADLINE_CREDENTIAL, DEADLINE_SESSION_PROPERTY, deadlineSessionValue, InvalidDeadline, statementDeadlineMs } from './query-deadline';
import { QueryTracker, type TrackedQuery } from './query-tracker';
import { originalPosition, type Refusal, type RewriteOptions, rewriteStatement } from './rewrite/statement-rewriter';
import { parseStatement } from './sql/trino-parser';
import { formatTraceparent, statementTrace } from './trace-context';
import { type ResultSet, TrinoExecutor, TrinoQueryFailed } from './trino-executor';
import {
  ERROR_CODES,
  encodeFormValue,
  failedQueryResults,
  finishedQueryResults,
  forwardedRequestHeaders,
  forwardedResponseHeaders,
  gatewayQueryId,
  headerValues,
  type ProtocolColumn,
  type ProtocolError,
  parseEncodedPairs,
  protocolError,
} from './trino-protocol';
import { TrinoRelay } from './trino-relay';

const STATEMENT_PATH = /^\/v1\/statement\/(queued|executing)\/([A-Za-z0-9_]+)\/[A-Za-z0-9_/.-]+$/;
/** Largest row-level extract checked for k-anonymity in one answer (the gateway holds it whole). */
const MAX_EXTRACT_ROWS = 200_000;
const QUERY_PATH = /^\/v1\/query\/([A-Za-z0-9_]+)$/;

/** A statement the gateway runs itself and answers whole (disclosure control). */
interface WholeAnswer {
  id: string;
  record: QueryRecord;
  started: number;
  /** The analyst's text (aggregates) or the rewritten statement (extracts). */
  sql: string;
  /** Headers for Trino: pseudonym key, patient exclusion, trace token. */
  headers: Record<string, string>;
  tables: Map<string, MeshTable>;
  /** What the statement's Trino runs cost, for its end record. */
  cost: QueryCostTally;
}

class Refused extends Error {
  constructor(readonly error: ProtocolError) {
    super(error.message);
  }
}

export class GatewayServer {
  private readonly log = new Logger('gateway');
  private server?: https.Server;
  private readonly access: GatewayAccess;
  private readonly tables: MeshTables;
  private readonly keys: PseudonymKeys;
  private readonly relay: TrinoRelay;
  private readonly tracker: QueryTracker;
  private readonly queryAudit: QueryAudit;
  private readonly gateway: GatewayConfig;
  private readonly aggregates: AggregateAnswers;
  private readonly executor: TrinoExecutor;

  constructor(
    private readonly db: DataSource,
    audit: AuditService,
    private readonly config: ControlPlaneConfig,
    outcomes?: QueryOutcomeCounter,
  ) {
    this.gateway = config.gateway;
    this.access = new GatewayAccess(db, this.gateway);
    this.tables = new MeshTables(db);
    this.keys = new PseudonymKeys(this.gateway.pseudonymKeyFile);
    this.relay = new TrinoRelay({
      url: config.trinoUrl,
      user: this.gateway.trinoUser,
      passwordFile: this.gateway.trinoPasswordFile,
      caFile: config.trinoCaFile,
    });
    this.tracker = new QueryTracker(this.gateway.queryRetentionMs);
    this.executor = new TrinoExecutor(this.relay);
    this.aggregates = new AggregateAnswers(new BudgetLedger(db), this.executor);
    this.queryAudit = new QueryAudit(db, audit, outcomes);
  }

  async start(): Promise<void> {
    warmUpParser();
    const pem = fs.readFileSync(this.gateway.tlsPemFile, 'utf8');
    this.server = https.createServer({ key: pem, cert: pem, minVersion: 'TLSv1.2' }, (req, res) => void this.handle(req, res));
    this.server.keepAliveTimeout = 65_000;
    await new Promise<void>((resolve, reject) => {
      this.server!.once('error', reject);
      this.server!.listen(this.gateway.port, this.gateway.host, () => resolve());
    });
    this.log.log(`SQL gateway (Trino protocol) on https://${this.gateway.host}:${this.gateway.port}`);
  }

  async stop(): Promise<void> {
    this.relay.close();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
    this.server?.closeAllConnections();
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    try {
      const path = (req.url ?? '/').split('?')[0]!;
      if (req.method === 'POST' && path === '/v1/statement') return await this.submit(req, res);
      const statement = STATEMENT_PATH.exec(path);
      if (statement && (req.method === 'GET' || req.method === 'DELETE')) return await this.follow(req, res, statement[2]!, req.url!);
      const query = QUERY_PATH.exec(path);
      if (query && req.method === 'DELETE') return await this.follow(req, res, query[1]!, req.url!);
      if (path === '/v1/info' && req.method === 'GET') return await this.info(res);
      this.plain(res, 404, `not found: the FHIR mesh gateway serves Trino's client protocol (POST /v1/statement)`);
    } catch (e) {
      if (e instanceof AccessDenied) return this.denied(res, e);
      this.log.error(`request failed: ${(e as Error).stack ?? String(e)}`);
      if (!res.headersSent) this.plain(res, 502, `the FHIR mesh gateway could not complete the request: ${(e as Error).message}`);
      else res.destroy();
    }
  }

  private async submit(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const analyst = await this.access.authenticate(req.headers.authorization, single(req.headers['x-trino-user']), true);
    const sql = await readBody(req, this.gateway.maxStatementBytes);
    const id = gatewayQueryId();
    // One trace id for everything Trino does for this statement, whichever way it is answered.
    const trace = statementTrace(req.headers.traceparent);
    res.setHeader('traceparent', formatTraceparent(trace));
    const record: QueryRecord = {
      user: analyst.name,
      sql: sql ?? `(${this.gateway.maxStatementBytes}+ bytes, not kept)`,
      tables: [],
      domains: [],
      traceId: trace.traceId,
    };
    const started = Date.now();
    try {
      if (sql === undefined) throw new Refused(protocolError(`statement is larger than ${this.gateway.maxStatementBytes} bytes`, 'QUERY_REJECTED'));
      const credentials = parseExtraCredentials(headerValues(req.headers, 'x-trino-extra-credential'));
      const purpose = this.purpose(analyst, credentials);
      const failureMode = this.failureMode(credentials);
      Object.assign(record, { purpose: purpose.purpose, project: purpose.project });
      // Expiry and revocation of break-glass are checked here, on every statement: a grant never outlives its time.
      const [tables, grant] = await Promise.all([this.tables.get(), activeBreakGlass(this.db, analyst.id, purpose.purpose)]);
      if (grant) record.breakGlass = { grant: grant.id, reason: grant.reason, expiresAt: grant.expiresAt.toISOString() };
      const excludedLabels = [...this.gateway.alwaysExcludedLabels, ...this.gateway.sensitivityLabels.filter((l) => !purpose.rules.sensitivities.includes(l))];
      const disclosure = this.disclosurePolicy(analyst);
      // Break-glass reveals identifiers row by row; aggregate-only consumers never see rows, so it does not apply.
      const policy = new QueryPolicy(tables, this.sources(), { excludedLabels, breakGlass: grant !== null && !aggregateOnly(disclosure) });
      const options: RewriteOptions = {
        session: { catalog: single(req.headers['x-trino-catalog']), schema: single(req.headers['x-trino-schema']) },
        resolver: policy,
        sessionProperties: new Set(this.gateway.sessionProperties),
      };
      const headers = forwardedRequestHeaders(req.headers);
      // Trino hands the trace token to the connector (ConnectorSession.getTraceToken), which sends it on as traceparent.
      headers['x-trino-trace-token'] = trace.traceId;
      this.checkSessionProperties(req, options, headers);
      const prepared = this.rewritePrepared(req, options, headers, record);
      const rewrite = rewriteStatement(sql, options);
      if (!rewrite.ok) throw new Refused(refusalError(rewrite.refusal));
      record.rewrittenSql = rewrite.sql;
      record.tables = [...new Set([...rewrite.tables, ...record.tables])].sort();
      record.domains = domainsOf(record.tables, tables);
      if (Object.keys(prepared).length) record.prepared = prepared;

      headers['x-trino-extra-credential'] = `${PSEUDONYM_KEY_CREDENTIAL}=${this.keys.forProject(purpose.project)}`;
      // The connector's exclusion of patients at the source, for this purpose (after the analyst's own settings, so it wins).
      const exclusion = patientExclusionSession(this.config.catalogName, purpose.rules, excludedLabels).map(([k, v]) => `${k}=${encodeFormValue(v)}`);
      headers['x-trino-session'] = [headers['x-trino-session'], ...exclusion].filter(Boolean).join(',');
      record.deadlineMs = this.applyDeadline(credentials, headers);
      const checksAnswers = aggregateOnly(disclosure) || (disclosure.mode === 'row-level' && disclosure.kAnonymity !== undefined);
      const readsPatients = record.tables.some((t) => t.startsWith(`${this.config.catalogName}.default.`) && tables.has(t.split('.').pop()!));
      // Answers the gateway must check whole are computed from plain statements only: a prepared one would run unchecked.
      if (checksAnswers && (Object.keys(prepared).length || ['prepare', 'execute', 'execute-immediate'].includes(rewrite.kind)))
        throw new Refused(
          protocolError(
            `${analyst.name}'s answers are disclosure-controlled (${disclosure.mode}): prepared statements are not available; send the query as plain SQL (JDBC: a Statement, or explicitPrepare=false)`,
            'PERMISSION_DENIED',
          ),
        );
      if (failureMode === 'partial' && checksAnswers)
        throw new Refused(
          protocolError(
            `${analyst.name}'s answers are disclosure-controlled (${disclosure.mode}): partial results are not available to them; ask without ${FAILURE_MODE_CREDENTIAL}=partial`,
            'PERMISSION_DENIED',
          ),
        );
      if (failureMode === 'partial' && rewrite.kind === 'query' && record.domains.length)
        return await this.answerPartial(res, req, { id, record, started, sql: rewrite.sql, headers, tables, cost: new QueryCostTally() });
      if (disclosure.mode === 'row-level' && disclosure.kAnonymity && rewrite.kind === 'query' && readsPatients)
        return await this.answerExtract(res, req, {
          id,
          record,
          started,
          sql: rewrite.sql,
          headers,
          tables,
          cost: new QueryCostTally(),
          kAnonymity: disclosure.kAnonymity,
        });
      if (aggregateOnly(disclosure)) {
        if (rewrite.kind === 'query' && readsPatients) {
          const epsilon = credentials.get('epsilon');
          const cost = new QueryCostTally();
          return await this.answerAggregate(res, req, {
            id,
            record,
            started,
            sql,
            analyst,
            purpose,
            disclosure,
            policy,
            options,
            headers,
            tables,
            epsilon,
            cost,
          });
        }
      }
      Object.assign(headers, this.forwarding(req));
      const response = await this.relay.request('POST', '/v1/statement', headers, rewrite.sql);
      const page = summarizePage(response.body);
      const queryId = typeof page?.fields.id === 'string' ? page.fields.id : undefined;
      if (!queryId) {
        // Trino refused the request itself (authentication, a malformed header): pass its answer on.
        await this.queryAudit.ended(id, record, { outcome: 'failed', error: `Trino answered HTTP ${response.status}`, durationMs: Date.now() - started });
        return this.reply(res, response.status, forwardedResponseHeaders(response.headers), response.body);
      }
      const tracked: TrackedQuery = {
        id: queryId,
        ownerId: analyst.id,
        record,
        startedAt: started,
        rows: 0,
        auditStarted: this.queryAudit.started(queryId, record),
        prepared: rewrite.prepared,
        removedColumns: policy.removalReasons(record.tables),
        // EXECUTE's errors point into the prepared text, not this statement: only direct statements are mapped.
        source: rewrite.kind === 'execute' ? undefined : { original: sql, rewritten: rewrite.sql, replaced: rewrite.replaced },
      };
      // Awaited before any result leaves (relayPage); a failure is handled there, never left unobserved.
      tracked.auditStarted.catch(() => undefined);
      this.tracker.add(tracked);
      await this.relayPage(res, tracked, response.status, response.headers, response.body, page);
    } catch (e) {
      if (!(e instanceof Refused)) throw e;
      await this.queryAudit.ended(id, record, { outcome: 'refused', error: e.error.message, durationMs: Date.now() - started });
      this.reply(res, 200, { 'content-type': 'application/json' }, JSON.stringify(failedQueryResults(id, this.infoUri(req, id), e.error)));
    }
  }

  /**
   * An aggregate-only consumer's query: answered whole by the gateway (disclosure/aggregate-answers.ts), with
   * the protected numbers, their intervals and what was done as warnings the CLI prints.
   */
  private async answerAggregate(
    res: http.ServerResponse,
    req: http.IncomingMessage,
    a: WholeAnswer & {
      analyst: Analyst;
      purpose: QueryPurpose;
      disclosure: DifferentialPrivacyPolicy | SmallNumbersPolicy;
      policy: QueryPolicy;
      options: RewriteOptions;
      epsilon: string | undefined;
    },
  ): Promise<void> {
    const requestedEpsilon = a.epsilon === undefined ? undefined : Number(a.epsilon);
    if (requestedEpsilon !== undefined && !Number.isFinite(requestedEpsilon))
      throw new Refused(protocolError(`epsilon=${a.epsilon} is not a number`, 'PERMISSION_DENIED'));
    let answer: AggregateAnswer;
    try {
      answer = await this.aggregates.answer({
        sql: a.sql,
        parsed: parseStatement(a.sql),
        analyst: a.analyst,
        purpose: a.purpose,
        policy: a.disclosure,
        resolver: a.policy,
        options: a.options,
        requestedEpsilon,
        trinoHeaders: a.headers,
        trinoCost: a.cost,
        queryId: a.id,
        domains: new Map([...a.tables.values()].map((t) => [t.table, t.domains])),
      });
    } catch (e) {
      if (e instanceof AggregateRefused) throw new Refused(protocolError(e.message, e.errorName));
      if (!(e instanceof TrinoQueryFailed)) throw e;
      return await this.answerFailed(res, req, a, e);
    }
    Object.assign(a.record, { rewrittenSql: answer.rewrittenSql, disclosure: answer.audit });
    a.record.tables = [...new Set([...a.record.tables, ...answer.tables])].sort();
    await this.answerWhole(res, req, a, { columns: answer.columns, rows: answer.rows, notes: answer.notes, audit: answer.audit });
  }

  /** A row-level extract under k-anonymity: run whole, rows of too-small groups withheld (disclosure/row-extract.ts). */
  private async answerExtract(res: http.ServerResponse, req: http.IncomingMessage, a: WholeAnswer & { kAnonymity: { k: number; l: number } }): Promise<void> {
    let result: ResultSet;
    try {
      result = await this.executor.run(a.sql, a.headers, MAX_EXTRACT_ROWS, a.cost);
    } catch (e) {
      if (!(e instanceof TrinoQueryFailed)) throw e;
      return await this.answerFailed(res, req, a, e);
    }
    const read = a.record.tables.map((t) => a.tables.get(t.split('.').pop()!)).filter((t): t is MeshTable => t !== undefined);
    const extract = protectExtract(
      result.columns.map((c) => c.name),
      result.rows,
      { tags: new Map(read.map((t) => [t.table, t.tags])) },
      a.kAnonymity.k,
      a.kAnonymity.l,
    );
    a.record.disclosure = extract.audit;
    await this.answerWhole(res, req, a, { columns: result.columns, rows: extract.rows, notes: extract.notes, audit: extract.audit });
  }

  /** A disclosure-controlled answer, whole: both audit records are written before any number leaves (if that fails, nothing is released). */
  private async answerWhole(
    res: http.ServerResponse,
    req: http.IncomingMessage,
    a: { id: string; record: QueryRecord; started: number; cost: QueryCostTally },
    answer: { columns: ProtocolColumn[]; rows: unknown[][]; notes: string[]; audit?: Record<string, unknown> },
  ): Promise<void> {
    await this.queryAudit.started(a.id, a.record);
    await this.queryAudit.ended(a.id, a.record, {
      outcome: 'finished',
      rows: answer.rows.length,
      durationMs: Date.now() - a.started,
      ...(answer.audit ? { disclosure: answer.audit } : {}),
      ...(a.record.partial ? { partial: a.record.partial } : {}),
      ...(a.cost.total ? { trino: a.cost.total } : {}),
    });
    this.reply(
      res,
      200,
      { 'content-type': 'application/json' },
      finishedQueryResults(a.id, this.infoUri(req, a.id), answer.columns, answer.rows, answer.notes),
    );
  }

  /** Trino failed a statement the gateway ran for a whole answer: audited and answered in Trino's shape. */
  private async answerFailed(
    res: http.ServerResponse,
    req: http.IncomingMessage,
    a: { id: string; record: QueryRecord; started: number; cost: QueryCostTally },
    e: TrinoQueryFailed,
  ): Promise<void> {
    // The statement, its rewriting and (partial results) the domains left out are in query.started.
    await this.queryAudit.started(a.id, a.record);
    await this.queryAudit.ended(a.id, a.record, {
      outcome: 'failed',
      error: e.message,
      durationMs: Date.now() - a.started,
      ...(a.cost.total ? { trino: a.cost.total } : {}),
    });
    const error = e.trinoError ?? protocolError(e.message, e.errorName in ERROR_CODES ? e.errorName : 'GENERIC_INTERNAL_ERROR');
    this.reply(res, 200, { 'content-type': 'application/json' }, JSON.stringify(failedQueryResults(a.id, this.infoUri(req, a.id), error)));
  }

  /**
   * A statement of an analyst who asked for partial results (partial-results.ts): domains with an open circuit
   * are left out from the start, and each domain a run fails on is left out of the next, until a run succeeds
   * within the deadline. The answer is held whole, so no row of a failed run is ever released.
   */
  private async answerPartial(res: http.ServerResponse, req: http.IncomingMessage, a: WholeAnswer): Promise<void> {
    const reads = new Set(a.record.domains);
    const missing: MissingDomain[] = (await this.openCircuits(a.headers['x-trino-trace-token'])).filter((d) => reads.has(d.domain));
    const deadlineAt = a.started + (a.record.deadlineMs ?? this.gateway.maxRunTimeMs);
    let result: ResultSet | undefined;
    while (result === undefined) {
      const left = [...reads].filter((d) => !missing.some((m) => m.domain === d));
      const remainingMs = deadlineAt - Date.now();
      if (left.length === 0 || remainingMs <= 0) {
        a.record.partial = { missingDomains: missing };
        const why = left.length === 0 ? `every domain it reads is unavailable` : `its deadline passed before the healthy domains answered`;
        const error = protocolError(`the query has no partial result: ${why}; ${partialResultNote(missing, reads.size)}`, 'QUERY_REJECTED');
        await this.queryAudit.started(a.id, a.record);
        await this.queryAudit.ended(a.id, a.record, {
          outcome: 'failed',
          error: error.message,
          durationMs: Date.now() - a.started,
          ...(a.cost.total ? { trino: a.cost.total } : {}),
        });
        return this.reply(res, 200, { 'content-type': 'application/json' }, JSON.stringify(failedQueryResults(a.id, this.infoUri(req, a.id), error)));
      }
      const session = [DEADLINE_SESSION_PROPERTY, deadlineSessionValue(remainingMs)] as [string, string];
      const headers = withSession(a.headers, missing.length ? [session, skipDomainsSession(this.config.catalogName, missing)] : [session]);
      try {
        result = await this.executor.run(a.sql, headers, MAX_EXTRACT_ROWS, a.cost);
      } catch (e) {
        if (!(e instanceof TrinoQueryFailed)) throw e;
        const domain = failingDomain(e, new Set(left));
        if (domain === undefined) {
          if (missing.length) a.record.partial = { missingDomains: missing };
          return await this.answerFailed(res, req, a, e);
        }
        missing.push({ domain, reason: failureReason(e) });
      }
    }
    if (missing.length) a.record.partial = { missingDomains: missing };
    const notes = missing.length ? [partialResultNote(missing, reads.size)] : [];
    await this.answerWhole(res, req, a, { columns: result.columns, rows: result.rows, notes });
  }

  /** Domains whose circuit breaker is open on any Trino node: a run would fail on them at once. */
  private async openCircuits(traceToken: string | undefined): Promise<MissingDomain[]> {
    try {
      const headers: Record<string, string> = traceToken ? { 'x-trino-trace-token': traceToken } : {};
      return openCircuitDomains((await this.executor.run(openCircuitsSql(this.config.catalogName), headers, 10_000)).rows);
    } catch (e) {
      // Without the breakers' state every domain is tried: a failing one is then left out after its own failure.
      this.log.warn(`could not read the circuit breakers' state: ${(e as Error).message}`);
      return [];
    }
  }

  private failureMode(credentials: ReadonlyMap<string, string>): FailureMode {
    try {
      return failureModeOf(credentials);
    } catch (e) {
      if (e instanceof InvalidFailureMode) throw new Refused(protocolError(e.message, 'PERMISSION_DENIED'));
      throw e;
    }
  }

  /** The statement's deadline, set as Trino's query_max_run_time over the analyst's own value (which may only lower it). */
  private applyDeadline(credentials: ReadonlyMap<string, string>, headers: Record<string, string>): number {
    const pairs = parseEncodedPairs(headers['x-trino-session'] ? [headers['x-trino-session']] : []);
    const own = pairs.find(([name]) => name.toLowerCase() === DEADLINE_SESSION_PROPERTY)?.[1];
    let deadlineMs: number;
    try {
      deadlineMs = statementDeadlineMs(this.gateway.maxRunTimeMs, credentials.get(DEADLINE_CREDENTIAL), own);
    } catch (e) {
      if (e instanceof InvalidDeadline) throw new Refused(protocolError(e.message, 'PERMISSION_DENIED'));
      throw e;
    }
    Object.assign(headers, withSession(headers, [[DEADLINE_SESSION_PROPERTY, deadlineSessionValue(deadlineMs)]]));
    return deadlineMs;
  }

  /** The consumer's disclosure policy; a malformed one refuses every query (never falls back to rows). */
  private disclosurePolicy(analyst: Analyst): DisclosurePolicy {
    try {
      return disclosurePolicyOf(analyst.policies);
    } catch (e) {
      if (e instanceof InvalidDisclosurePolicy)
        throw new Refused(
          protocolError(`the disclosure policy of ${analyst.name} is invalid (${e.message}); ask the mesh operators to correct it`, 'PERMISSION_DENIED'),
        );
      throw e;
    }
  }

  private async follow(req: http.IncomingMessage, res: http.ServerResponse, queryId: string, pathAndQuery: string): Promise<void> {
    const analyst = await this.access.authenticate(req.headers.authorization, single(req.headers['x-trino-user']), false);
    const tracked = this.tracker.owned(queryId, analyst.id);
    if (!tracked)
      return this.plain(
        res,
        404,
        `Query not found: ${queryId} (unknown to this gateway: finished long ago, started by another user, or begun before the gateway restarted); run the query again`,
      );
    const headers = { ...forwardedRequestHeaders(req.headers), ...this.forwarding(req) };
    const response = await this.relay.request(req.method!, pathAndQuery, headers);
    if (req.method === 'DELETE') {
      if (tracked.endedAt === undefined) await this.end(tracked, { outcome: 'cancelled' });
      return this.reply(res, response.status, forwardedResponseHeaders(response.headers), response.body);
    }
    await this.relayPage(res, tracked, response.status, response.headers, response.body, summarizePage(response.body));
  }

  /**
   * Relays one page. A page that carries rows, an error or the end waits for the query's `query.started`
   * record, so nothing is released unaudited; Trino's queued pages before it go straight through, which
   * hides the audit write behind Trino's own start-up. Counts rows; audits the end after replying.
   */
  private async relayPage(
    res: http.ServerResponse,
    tracked: TrackedQuery,
    status: number,
    headers: http.IncomingHttpHeaders,
    raw: Buffer,
    page: PageSummary | undefined,
  ): Promise<void> {
    const body = page?.fields;
    const releases = !page || page.rows > 0 || body?.error !== undefined || typeof body?.nextUri !== 'string' || Array.isArray(body?.columns);
    try {
      if (releases) await tracked.auditStarted;
    } catch (e) {
      this.log.error(`audit of query ${tracked.id} failed; cancelling it: ${(e as Error).message}`);
      await this.relay.request('DELETE', `/v1/query/${tracked.id}`, {}).catch(() => undefined);
      tracked.endedAt = Date.now();
      const error = protocolError('the query was cancelled because its audit record could not be written; try again later', 'GENERIC_INTERNAL_ERROR');
      return this.reply(res, 200, { 'content-type': 'application/json' }, JSON.stringify(failedQueryResults(tracked.id, '', error)));
    }
    const out = forwardedResponseHeaders(headers);
    const added = headerValues(headers, 'x-trino-added-prepare');
    // Trino echoes the statement it stored, i.e. the rewritten one; the client must keep the analyst's text,
    // which the gateway rewrites afresh on every request.
    if (added.length && tracked.prepared) out['x-trino-added-prepare'] = `${tracked.prepared.name}=${encodeFormValue(tracked.prepared.sql)}`;
    if (body?.error) raw = annotateError(raw, tracked) ?? raw;
    let ended: Parameters<GatewayServer['end']>[1] | undefined;
    if (page && body) {
      tracked.rows += page.rows;
      tracked.cost = queryCostOf(body.stats) ?? tracked.cost;
      if (typeof body.nextUri !== 'string' && tracked.endedAt === undefined) {
        const error = body.error as { message?: string } | undefined;
        ended = error ? { outcome: 'failed', error: error.message } : { outcome: 'finished' };
        tracked.endedAt = Date.now();
      }
    }
    this.reply(res, status, out, raw);
    // The end record is written after the last page is on its way; a failure there is logged.
    if (ended) await this.end(tracked, ended);
  }

  private async end(tracked: TrackedQuery, outcome: { outcome: 'finished' | 'failed' | 'cancelled'; error?: string }): Promise<void> {
    tracked.endedAt ??= Date.now();
    try {
      // A cancelled query's last page is not its end: Trino's final figures are never seen.
      const cost = outcome.outcome !== 'cancelled' && tracked.cost ? { trino: tracked.cost } : {};
      await this.queryAudit.ended(tracked.id, tracked.record, { ...outcome, rows: tracked.rows, durationMs: tracked.endedAt - tracked.startedAt, ...cost });
    } catch (e) {
      this.log.error(`could not audit the end of query ${tracked.id}: ${(e as Error).message}`);
    }
  }

  private purpose(analyst: Analyst, credentials: ReadonlyMap<string, string>): QueryPurpose {
    try {
      return this.access.purposeOf(analyst, credentials);
    } catch (e) {
      if (e instanceof AccessDenied) throw new Refused(protocolError(e.message, 'PERMISSION_DENIED'));
      throw e;
    }
  }

  /** X-Trino-Session: only allow-listed properties (the ones SET SESSION accepts) are passed on. */
  private checkSessionProperties(req: http.IncomingMessage, options: RewriteOptions, headers: Record<string, string>): void {
    const pairs = parseEncodedPairs(headerValues(req.headers, 'x-trino-session'));
    for (const [name] of pairs) {
      if (!options.sessionProperties.has(name.toLowerCase())) {
        throw new Refused(
          protocolError(
            `session property ${name} may not be set through the mesh gateway; allowed: ${[...options.sessionProperties].join(', ')}`,
            'PERMISSION_DENIED',
          ),
        );
      }
    }
    if (pairs.length) headers['x-trino-session'] = pairs.map(([k, v]) => `${k}=${encodeFormValue(v)}`).join(',');
  }

  /** X-Trino-Prepared-Statement is SQL the client holds and Trino would run: each is rewritten like a query. */
  private rewritePrepared(req: http.IncomingMessage, options: RewriteOptions, headers: Record<string, string>, record: QueryRecord): Record<string, string> {
    const pairs = parseEncodedPairs(headerValues(req.headers, 'x-trino-prepared-statement'));
    const originals: Record<string, string> = {};
    const rewritten: string[] = [];
    for (const [name, sql] of pairs) {
      const result = rewriteStatement(sql, options);
      if (!result.ok) throw new Refused(refusalError({ ...result.refusal, message: `prepared statement ${name}: ${result.refusal.message}` }));
      if (result.kind !== 'query')
        throw new Refused(protocolError(`prepared statement ${name}: only queries may be prepared through the mesh gateway`, 'PERMISSION_DENIED'));
      originals[name] = sql;
      record.tables.push(...result.tables);
      rewritten.push(`${name}=${encodeFormValue(result.sql)}`);
    }
    if (rewritten.length) headers['x-trino-prepared-statement'] = rewritten.join(',');
    return originals;
  }

  private sources() {
    return { catalog: this.config.catalogName, schema: 'default', patientIndex: this.gateway.patientIndex, optOut: this.gateway.optOut };
  }

  /** Trino writes nextUri for the address the client used (the gateway's), not its own. */
  private forwarding(req: http.IncomingMessage): Record<string, string> {
    const host = validHost(req.headers.host) ?? `${this.gateway.host}:${this.gateway.port}`;
    return {
      'x-forwarded-proto': 'https',
      'x-forwarded-host': host,
      'x-forwarded-port': String(this.gateway.port),
      'x-forwarded-for': req.socket.remoteAddress ?? '',
    };
  }

  private infoUri(req: http.IncomingMessage, id: string): string {
    return `https://${validHost(req.headers.host) ?? `${this.gateway.host}:${this.gateway.port}`}/ui/query.html?${id}`;
  }

  private async info(res: http.ServerResponse): Promise<void> {
    const response = await this.relay.request('GET', '/v1/info', {});
    this.reply(res, response.status, { 'content-type': 'application/json' }, response.body);
  }

  private denied(res: http.ServerResponse, e: AccessDenied): void {
    const headers: Record<string, string> = { 'content-type': 'text/plain; charset=utf-8' };
    if (e.status === 401) headers['www-authenticate'] = 'Basic realm="FHIR mesh gateway"';
    this.reply(res, e.status, headers, `${e.message}\n`);
  }

  private plain(res: http.ServerResponse, status: number, message: string): void {
    this.reply(res, status, { 'content-type': 'text/plain; charset=utf-8' }, `${message}\n`);
  }

  private reply(res: http.ServerResponse, status: number, headers: Record<string, string | string[]>, body: Buffer | string): void {
    res.writeHead(status, headers);
    res.end(body);
  }
}

/**
 * Trino's errors speak of the statement it ran. The analyst is shown positions in their own text, and
 * told why a column the policy removed "cannot be resolved". Only error pages are re-encoded.
 */
function annotateError(raw: Buffer, tracked: TrackedQuery): Buffer | undefined {
  const body = parseJson(raw);
  if (!body?.error) return undefined;
  const error = body.error as { message?: string; errorLocation?: { lineNumber: number; columnNumber: number } };
  let changed = false;
  const location = error.errorLocation;
  if (location && tracked.source) {
    const { original, rewritten, replaced } = tracked.source;
    const mapped = originalPosition(original, rewritten, replaced, { line: location.lineNumber, column: location.columnNumber });
    const prefix = `line ${location.lineNumber}:${location.columnNumber}: `;
    if (error.message?.startsWith(prefix)) error.message = `line ${mapped.line}:${mapped.column}: ${error.message.slice(prefix.length)}`;
    error.errorLocation = { lineNumber: mapped.line, columnNumber: mapped.column };
    changed = true;
  }
  const column = /Column '([^']+)' cannot be resolved/.exec(error.message ?? '')?.[1];
  // `p.nhs_number` or `nhs_number`: the column is the last part.
  const reason = column === undefined ? undefined : tracked.removedColumns.get(column.split('.').pop()!.toLowerCase());
  if (reason !== undefined) {
    error.message = `${error.message}: ${reason}`;
    changed = true;
  }
  return changed ? Buffer.from(JSON.stringify(body)) : undefined;
}

/**
 * The interpreted parser builds its prediction cache (DFA) on first use: a few hundred ms that would
 * otherwise land on the first analysts' statements.
 */
function warmUpParser(): void {
  for (const sql of [
    "WITH c AS (SELECT a, count(*) AS n FROM t WHERE b IN (1, 2) AND d >= DATE '2020-01-01' GROUP BY 1) SELECT * FROM c JOIN u ON c.a = u.a ORDER BY n DESC LIMIT 10",
    "SELECT x.y, CASE WHEN z LIKE 'a%' THEN 1 ELSE 0 END, sum(v) OVER (PARTITION BY w) FROM s.t x LEFT JOIN (SELECT * FROM u) q ON x.k = q.k UNION ALL SELECT 1, 2, 3",
    'SHOW COLUMNS FROM t',
    'EXPLAIN SELECT 1',
  ]) {
    try {
      parseStatement(sql);
    } catch {
      // warming only
    }
  }
}

/** The headers with session properties set (replacing the same names, in any case), others kept. */
function withSession(headers: Record<string, string>, properties: [string, string][]): Record<string, string> {
  const names = new Set(properties.map(([name]) => name.toLowerCase()));
  const kept = parseEncodedPairs(headers['x-trino-session'] ? [headers['x-trino-session']] : []).filter(([name]) => !names.has(name.toLowerCase()));
  const session = [...kept, ...properties].map(([k, v]) => `${k}=${encodeFormValue(v)}`).join(',');
  return { ...headers, 'x-trino-session': session };
}

function refusalError(refusal: Refusal): ProtocolError {
  return protocolError(refusal.message, refusal.errorName, { line: refusal.line, column: refusal.column });
}

function domainsOf(tables: string[], meshTables: Map<string, { domains: string[] }>): string[] {
  const domains = new Set<string>();
  for (const t of tables) for (const d of meshTables.get(t.split('.').pop()!)?.domains ?? []) domains.add(d);
  return [...domains].sort();
}

function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function validHost(host: string | undefined): string | undefined {
  return host && /^[A-Za-z0-9.-]+(:\d{1,5})?$|^\[[0-9a-fA-F:]+\](:\d{1,5})?$/.test(host) ? host : undefined;
}

function parseJson(body: Buffer): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(body.toString('utf8'));
    return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** The request body as text, or undefined when it exceeds the limit. */
function readBody(req: http.IncomingMessage, limit: number): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let over = false;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) over = true;
      else chunks.push(chunk);
    });
    req.on('end', () => resolve(over ? undefined : Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}
