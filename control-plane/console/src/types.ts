// The admin API's answers as the console reads them (shapes in /api/v1/openapi.json and the control plane's services).

export interface ApiRefusal {
  statusCode: number;
  error: string;
  message: string | string[];
}

export type Role = 'analyst' | 'researcher' | 'data-product-owner' | 'ops';

export interface Budget {
  epsilon: number;
  period: string;
  delta?: number;
}

export interface Me {
  name: string;
  kind: string;
  roles: Role[];
  domain: string | null;
}

export interface Consumer extends Me {
  id: string;
  team: string | null;
  allowedPurposes: string[];
  policies: { projects?: string[]; disclosure?: { mode?: string } } & Record<string, unknown>;
  budget: Budget | null;
  createdAt: string;
}

export interface Domain {
  id: string;
  odsCode: string;
  name: string;
  kind: string;
  region: string | null;
  ownerContact: string | null;
}

export type Health = 'up' | 'down' | 'unknown';

export interface Endpoint {
  id: string;
  domain: string;
  baseUrl: string;
  status: string;
  health: Health | string;
  lastCheckedAt: string | null;
  lastLatencyMs: number | null;
  lastError: string | null;
}

export interface HealthCheck {
  id: string;
  endpointId: string;
  checkedAt: string;
  ok: boolean;
  httpStatus: number | null;
  latencyMs: number | null;
  error: string | null;
}

export type Lifecycle = 'draft' | 'published' | 'deprecated' | 'retired';

/** view name -> column name -> privacy tag */
export type ColumnTags = Record<string, Record<string, string>>;

export interface ProductSummary {
  name: string;
  domain: string;
  description: string;
  versions: { version: string; lifecycle: Lifecycle; views: string[]; columnTags?: ColumnTags }[];
}

export interface VersionSummary {
  version: string;
  lifecycle: Lifecycle;
  sources: string[];
  sla: Record<string, number> | null;
  columnTags: ColumnTags;
  views: string[];
  publishedBy: string | null;
  createdAt: string;
}

export interface Product {
  name: string;
  domain: string;
  description: string;
  createdAt: string;
  versions: VersionSummary[];
}

export interface ViewDefinition {
  name: string;
  [key: string]: unknown;
}

export interface VersionDetail extends Omit<VersionSummary, 'views'> {
  views: ViewDefinition[];
}

export interface DryRun {
  product: string;
  version: string;
  previousVersion: string | null;
  tables: string[];
  dryRun: { view: string; rows: number }[];
  bindingNotes: string[];
  breakingChanges: string[];
  diff: string;
  wouldCreate: boolean;
}

export interface BudgetAccount {
  project: string;
  periodStart: string;
  spent: number;
  reserved: number;
  remaining: number;
}

export interface ConsumerBudget {
  consumer: string;
  budgetEpsilon: number;
  period: string;
  accounts: BudgetAccount[];
}

export interface QueryRecord {
  queryId: string;
  user: string;
  purpose: string | null;
  project: string | null;
  startedAt: string | null;
  endedAt: string | null;
  outcome: string | null;
  sql: string | null;
  rewrittenSql: string | null;
  tables: string[];
  domains: string[];
  rows: number | null;
  durationMs: number | null;
  error: string | null;
  traceId: string | null;
  deadlineMs: number | null;
  disclosure: { epsilon?: number; delta?: number; mode?: string } | null;
  partial: { missingDomains: ({ domain: string; reason?: string } | string)[] } | null;
  trino: { cpuMs: number; processedRows: number; processedBytes: number; peakMemoryBytes: number } | null;
}

export interface AuditVerification {
  ok: boolean;
  entries: number;
  anchors?: { file?: string; count: number; newest?: { seq: string; at: string } | null } | null;
  problems: string[];
}

export interface AuditEntry {
  id: string;
  at: string;
  actor: string;
  action: string;
  entity: string;
  entityId: string | null;
}
