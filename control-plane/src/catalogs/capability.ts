// What a FHIR server says it can search: its CapabilityStatement (which parameters each resource type
// supports, by name, type and canonical definition) and the expressions behind those parameters.
//
// Expressions come, in this order, from the server's own SearchParameter resources (custom parameters,
// or servers that store their built-ins), then from the official FHIR R4 definitions bundled in
// r4-search-parameters.json, looked up by the canonical URL the CapabilityStatement cites. HAPI FHIR
// serves its built-in parameters the second way: `GET [base]/SearchParameter` is empty and
// `GET [base]/SearchParameter/Condition-onset-date` is "not known".
import r4Definitions from './r4-search-parameters.json';
import { SearchParamDef } from './search-bindings';

export interface CapabilitySearchParam {
  name: string;
  type: string;
  definition?: string;
}

export interface CapabilityStatement {
  resourceType: 'CapabilityStatement';
  fhirVersion?: string;
  software?: { name?: string; version?: string };
  rest?: {
    mode?: string;
    searchParam?: CapabilitySearchParam[];
    resource?: { type: string; searchParam?: CapabilitySearchParam[] }[];
  }[];
}

export interface SearchParameterResource {
  resourceType: 'SearchParameter';
  url?: string;
  status?: string;
  code?: string;
  base?: string[];
  type?: string;
  expression?: string;
  target?: string[];
}

/** A definition with the fields binding derivation needs. */
export interface SearchParamDefinition {
  url: string;
  code: string;
  base: string[];
  type: string;
  expression?: string;
  target?: string[];
}

interface BundledDefinitions {
  fhirVersion: string;
  searchParameters: SearchParamDefinition[];
}

/** The bundled official R4 definitions (see the file's description for source and selection). */
export const R4_DEFINITIONS: readonly SearchParamDefinition[] = (r4Definitions as BundledDefinitions).searchParameters;

/** A FHIR server could not be read, or did not answer as a FHIR server. */
export class FhirServerError extends Error {
  override name = 'FhirServerError';
}

const TIMEOUT_MS = 60_000;
const MAX_PAGES = 100;

interface Bundle<T> {
  resourceType: 'Bundle';
  entry?: { resource?: T }[];
  link?: { relation: string; url: string }[];
}

function diagnostics(body: unknown): string {
  const issues = body as { resourceType?: string; issue?: { diagnostics?: string; details?: { text?: string } }[] } | undefined;
  if (issues?.resourceType !== 'OperationOutcome') return '';
  const text = (issues.issue ?? [])
    .map((i) => i.diagnostics ?? i.details?.text)
    .filter((t) => t)
    .join('; ');
  return text ? `: ${text}` : '';
}

async function getJson(url: string, timeoutMs: number): Promise<{ status: number; body: unknown }> {
  let response: Response;
  try {
    response = await fetch(url, { headers: { accept: 'application/fhir+json' }, signal: AbortSignal.timeout(timeoutMs) });
  } catch (e) {
    const error = e as Error & { cause?: { code?: string; message?: string } };
    const why = error.name === 'TimeoutError' ? `no answer within ${timeoutMs / 1000} s` : (error.cause?.code ?? error.cause?.message ?? error.message);
    throw new FhirServerError(`cannot reach the FHIR server at ${url} (${why}); is the mesh up? (npm run mesh)`);
  }
  const text = await response.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new FhirServerError(
      `GET ${url} answered HTTP ${response.status} with ${response.headers.get('content-type') ?? 'no content type'}, not FHIR JSON: ${text.slice(0, 200)}`,
    );
  }
  return { status: response.status, body };
}

function trimBase(baseUrl: string): string {
  return baseUrl.replace(/\/+$/, '');
}

/** GET [base]/metadata. */
export async function fetchCapabilityStatement(baseUrl: string, timeoutMs = TIMEOUT_MS): Promise<CapabilityStatement> {
  const url = `${trimBase(baseUrl)}/metadata`;
  const { status, body } = await getJson(url, timeoutMs);
  if (status !== 200) throw new FhirServerError(`GET ${url} answered HTTP ${status}${diagnostics(body)}`);
  const resourceType = (body as { resourceType?: unknown }).resourceType;
  if (resourceType !== 'CapabilityStatement') {
    throw new FhirServerError(`GET ${url} returned ${typeof resourceType === 'string' ? `a ${resourceType}` : 'no FHIR resource'}, not a CapabilityStatement`);
  }
  const cs = body as CapabilityStatement;
  if (!cs.rest?.some((r) => (r.resource ?? []).length > 0)) throw new FhirServerError(`the CapabilityStatement at ${url} lists no resource types`);
  return cs;
}

/**
 * The SearchParameter resources the server stores (all pages). A server that does not offer the type
 * at all gives an empty list with a note rather than an error: the bundled definitions may still do.
 */
export async function fetchSearchParameters(baseUrl: string, timeoutMs = TIMEOUT_MS): Promise<{ resources: SearchParameterResource[]; note?: string }> {
  let url: string | undefined = `${trimBase(baseUrl)}/SearchParameter?_count=200`;
  const resources: SearchParameterResource[] = [];
  for (let page = 0; url !== undefined; page += 1) {
    if (page >= MAX_PAGES) throw new FhirServerError(`GET ${trimBase(baseUrl)}/SearchParameter: more than ${MAX_PAGES} pages, a next-link loop?`);
    const { status, body }: { status: number; body: unknown } = await getJson(url, timeoutMs);
    if (status !== 200) {
      if (page === 0 && status >= 400 && status < 500) return { resources, note: `GET ${url} answered HTTP ${status}${diagnostics(body)}` };
      throw new FhirServerError(`GET ${url} answered HTTP ${status}${diagnostics(body)}`);
    }
    const bundle = body as Bundle<SearchParameterResource>;
    if (bundle.resourceType !== 'Bundle') throw new FhirServerError(`GET ${url} returned no Bundle`);
    for (const entry of bundle.entry ?? []) {
      if (entry.resource?.resourceType === 'SearchParameter') resources.push(entry.resource);
    }
    url = bundle.link?.find((l) => l.relation === 'next')?.url;
  }
  return { resources };
}

function withoutVersion(canonical: string): string {
  return canonical.split('|')[0]!;
}

export interface ResolvedSearchParams {
  /** The parameters the server supports for the type, with expressions where one was found. */
  params: SearchParamDef[];
  notes: string[];
  /** How many expressions came from where. */
  sources: { server: number; bundled: number; none: number };
  /** Parameters the CapabilityStatement lists without a definition (server-specific, e.g. HAPI's _has, _list). */
  withoutDefinition: string[];
}

/**
 * The search parameters a CapabilityStatement advertises for `resourceType`, each with the expression
 * of its definition (pure: `stored` is what fetchSearchParameters returned).
 */
export function resolveSearchParams(
  cs: CapabilityStatement,
  stored: readonly SearchParameterResource[],
  resourceType: string,
  bundled: readonly SearchParamDefinition[] = R4_DEFINITIONS,
): ResolvedSearchParams {
  const rest = cs.rest?.find((r) => r.mode === 'server') ?? cs.rest?.[0];
  const resource = rest?.resource?.find((r) => r.type === resourceType);
  if (!rest || !resource) throw new FhirServerError(`the server's CapabilityStatement does not list ${resourceType}`);
  const active = stored.filter((sp) => sp.status === undefined || sp.status === 'active');
  const useBundled = (cs.fhirVersion ?? '').startsWith('4.0');
  const params: SearchParamDef[] = [];
  const notes: string[] = [];
  const sources = { server: 0, bundled: 0, none: 0 };
  const noExpression: string[] = [];
  const withoutDefinition: string[] = [];
  const seen = new Set<string>();
  for (const advertised of [...(resource.searchParam ?? []), ...(rest.searchParam ?? [])]) {
    if (seen.has(advertised.name)) continue;
    seen.add(advertised.name);
    const canonical = advertised.definition ? withoutVersion(advertised.definition) : undefined;
    if (canonical === undefined && !active.some((sp) => sp.code === advertised.name && (sp.base ?? []).includes(resourceType))) {
      withoutDefinition.push(advertised.name);
      sources.none += 1;
      continue;
    }
    let definition: SearchParamDefinition | undefined;
    let from: 'server' | 'bundled' | undefined;
    const own =
      active.find((sp) => canonical !== undefined && sp.url !== undefined && withoutVersion(sp.url) === canonical) ??
      active.find((sp) => sp.code === advertised.name && (sp.base ?? []).includes(resourceType));
    if (own?.type) {
      definition = {
        url: own.url ?? '',
        code: own.code ?? advertised.name,
        base: own.base ?? [resourceType],
        type: own.type,
        expression: own.expression,
        target: own.target,
      };
      from = 'server';
    } else if (useBundled && canonical !== undefined) {
      definition = bundled.find((d) => d.url === canonical);
      if (definition) from = 'bundled';
    }
    if (!definition || !from) {
      noExpression.push(advertised.name);
      sources.none += 1;
      continue;
    }
    if (definition.type !== advertised.type) {
      notes.push(
        `${resourceType}.${advertised.name}: the CapabilityStatement says ${advertised.type}, its definition ${definition.url} says ${definition.type}; not used`,
      );
      sources.none += 1;
      continue;
    }
    sources[from] += 1;
    const param: SearchParamDef = { code: advertised.name, base: definition.base, type: advertised.type, url: definition.url };
    if (definition.expression !== undefined) param.expression = definition.expression;
    if (definition.target !== undefined) param.target = definition.target;
    params.push(param);
  }
  if (noExpression.length > 0) {
    notes.push(
      `${resourceType}: no expression known for ${noExpression.join(', ')} (neither served by the server nor in the bundled R4 definitions); these cannot be bound`,
    );
  }
  return { params, notes, sources, withoutDefinition };
}

export interface ServerSearchParams {
  baseUrl: string;
  capability: CapabilityStatement;
  stored: SearchParameterResource[];
  /** Notes about the server as a whole (e.g. SearchParameter not offered). */
  notes: string[];
  forResource(resourceType: string): ResolvedSearchParams;
  /** One line: software, FHIR version, stored SearchParameter count. */
  describe(): string;
}

/** Reads the CapabilityStatement and stored SearchParameters of the server at `baseUrl`. */
export async function loadServerSearchParams(baseUrl: string): Promise<ServerSearchParams> {
  const capability = await fetchCapabilityStatement(baseUrl);
  const { resources: stored, note } = await fetchSearchParameters(baseUrl);
  const notes = note ? [note] : [];
  if (!(capability.fhirVersion ?? '').startsWith('4.0')) {
    notes.push(
      `the server speaks FHIR ${capability.fhirVersion ?? '(version not stated)'}: only its own SearchParameter resources are used, not the bundled R4 definitions`,
    );
  }
  return {
    baseUrl,
    capability,
    stored,
    notes,
    forResource: (resourceType) => resolveSearchParams(capability, stored, resourceType),
    describe: () => {
      const software = capability.software ? `${capability.software.name ?? '?'} ${capability.software.version ?? ''}`.trim() : 'unknown software';
      return `${baseUrl}: ${software}, FHIR ${capability.fhirVersion ?? '?'}, ${stored.length} stored SearchParameter resource(s)`;
    },
  };
}
