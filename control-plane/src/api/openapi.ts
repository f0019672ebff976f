// The admin API's OpenAPI 3.1 document, assembled from the route table below and the JSON Schemas in
// connector-spec/api/ (the same ones requests are validated against).
import { API_SCHEMAS, RESPONSE_SCHEMAS, SchemaValidator } from './schema-validator';

interface Route {
  method: 'get' | 'post' | 'patch' | 'delete';
  path: string;
  summary: string;
  roles?: string;
  body?: string;
  /** The response's schema (connector-spec/api/<name>.schema.json), where one is published. */
  response?: string;
  public?: boolean;
  /** The success status when it is not the method's usual one (a POST that creates nothing answers 200). */
  status?: string;
}

const ROUTES: Route[] = [
  { method: 'get', path: '/api/v1/health', summary: 'Liveness and registry reachability', public: true },
  { method: 'get', path: '/api/v1/me', summary: 'The calling consumer' },
  { method: 'get', path: '/api/v1/domains', summary: 'List domains' },
  { method: 'post', path: '/api/v1/domains', summary: 'Register a domain', roles: 'ops', body: 'domain' },
  { method: 'get', path: '/api/v1/domains/{ods}', summary: 'One domain by ODS code' },
  { method: 'patch', path: '/api/v1/domains/{ods}', summary: 'Change a domain', roles: 'ops', body: 'domain' },
  { method: 'delete', path: '/api/v1/domains/{ods}', summary: 'Remove a domain with nothing attached', roles: 'ops' },
  { method: 'get', path: '/api/v1/endpoints', summary: 'List FHIR endpoints with their health' },
  { method: 'post', path: '/api/v1/endpoints', summary: 'Register a FHIR endpoint', roles: 'ops', body: 'endpoint' },
  { method: 'get', path: '/api/v1/endpoints/{id}', summary: 'One endpoint' },
  { method: 'patch', path: '/api/v1/endpoints/{id}', summary: 'Change an endpoint (e.g. suspend)', roles: 'ops', body: 'endpoint' },
  { method: 'delete', path: '/api/v1/endpoints/{id}', summary: 'Remove an endpoint', roles: 'ops' },
  { method: 'get', path: '/api/v1/endpoints/{id}/health', summary: 'Health-check history' },
  { method: 'get', path: '/api/v1/consumers', summary: 'List consumers', roles: 'ops' },
  { method: 'post', path: '/api/v1/consumers', summary: 'Create a consumer; the response holds its API token, shown once', roles: 'ops', body: 'consumer' },
  { method: 'get', path: '/api/v1/consumers/{name}', summary: 'One consumer', roles: 'ops' },
  { method: 'patch', path: '/api/v1/consumers/{name}', summary: 'Change a consumer', roles: 'ops', body: 'consumer' },
  { method: 'delete', path: '/api/v1/consumers/{name}', summary: 'Remove a consumer', roles: 'ops' },
  { method: 'post', path: '/api/v1/consumers/{name}/token', summary: "Replace the consumer's API token", roles: 'ops' },
  {
    method: 'post',
    path: '/api/v1/consumers/{name}/break-glass',
    summary: 'Grant break-glass: lift identifier removal at the gateway for one purpose, reasoned, at most 24 hours',
    roles: 'ops',
    body: 'break-glass',
  },
  { method: 'get', path: '/api/v1/consumers/{name}/break-glass', summary: "The consumer's break-glass grants, newest first", roles: 'ops' },
  { method: 'delete', path: '/api/v1/consumers/{name}/break-glass/{id}', summary: 'Revoke a break-glass grant now', roles: 'ops' },
  {
    method: 'get',
    path: '/api/v1/consumers/{name}/budget',
    summary: "The consumer's privacy-budget accounts (?project=, ?entries=): totals, spent, reserved, remaining, latest ledger entries",
    roles: 'ops',
    response: 'budget',
  },
  { method: 'get', path: '/api/v1/data-products', summary: 'List data products and their versions' },
  {
    method: 'post',
    path: '/api/v1/data-products',
    summary: 'Publish a data product version (validated, bound, dry-run)',
    roles: 'data-product-owner (own domain) or ops',
    body: 'data-product',
  },
  {
    method: 'post',
    path: '/api/v1/data-products/dry-run',
    summary: 'Every check of a publish (the dry run against the endpoints included) and the diff against the previous version; writes nothing',
    roles: 'data-product-owner (own domain) or ops',
    body: 'data-product',
    status: '200',
  },
  { method: 'get', path: '/api/v1/data-products/{name}', summary: 'One data product' },
  { method: 'get', path: '/api/v1/data-products/{name}/versions/{version}', summary: 'One version with its ViewDefinitions and bindings' },
  {
    method: 'patch',
    path: '/api/v1/data-products/{name}/versions/{version}',
    summary: 'Deprecate, retire or publish a draft',
    roles: 'data-product-owner (own domain) or ops',
    body: 'lifecycle-change',
  },
  {
    method: 'post',
    path: '/api/v1/webhooks/publish',
    summary: "Publish from a domain's CI",
    roles: 'data-product-owner (own domain) or ops',
    body: 'data-product',
  },
  { method: 'get', path: '/api/v1/catalogs', summary: 'What the registry makes Trino serve, and what Trino serves' },
  { method: 'post', path: '/api/v1/catalogs/reconcile', summary: 'Regenerate files and repair Trino drift now', roles: 'ops' },
  {
    method: 'get',
    path: '/api/v1/catalogs/circuits',
    summary: "The fhir connector's circuit breaker per Trino node and domain (open: requests to it fail at once)",
    roles: 'ops',
  },
  {
    method: 'get',
    path: '/api/v1/queries',
    summary: 'Recent gateway statements, newest first (?limit=, ?user=, ?outcome=): SQL, rewritten SQL, outcome, rows, duration, ε, trace id',
    roles: 'ops',
  },
  { method: 'get', path: '/api/v1/budgets', summary: 'Every consumer with a privacy budget and what each account has spent', roles: 'ops' },
  { method: 'post', path: '/api/v1/endpoints/health-check', summary: 'Health-check every endpoint now; answers the checks', roles: 'ops', status: '200' },
  { method: 'get', path: '/api/v1/audit', summary: 'Registry audit log, newest first (entity=query: every gateway statement)', roles: 'ops' },
  { method: 'get', path: '/api/v1/audit/verify', summary: 'Verify the audit hash chain', roles: 'ops' },
  {
    method: 'get',
    path: '/metrics',
    summary: 'Prometheus metrics (text exposition format): gateway queries, connector requests per domain, privacy budgets, publishes, syncs',
    roles: 'ops',
  },
];

/**
 * The API schemas and the schemas they share, as components. Each loses its `$id` (and `$schema`: OpenAPI
 * 3.1's dialect is 2020-12 already), since a `$ref` under an `$id` resolves against that `$id` rather than
 * against this document; references by `$id` and a schema's own `#/...` pointers are rewritten to component
 * pointers, so the document is self-contained whether or not a tool honours `$id`.
 */
function componentSchemas(schemas: SchemaValidator): Record<string, unknown> {
  const byId = new Map<string, string>();
  for (const [component, schema] of schemas.sharedSchemas()) byId.set(String(schema.$id), component);
  const rebase = (value: unknown, component: string): unknown => {
    if (Array.isArray(value)) return value.map((v) => rebase(v, component));
    if (value === null || typeof value !== 'object') return value;
    return Object.fromEntries(
      Object.entries(value as Record<string, unknown>).map(([key, v]) => {
        if (key === '$ref' && typeof v === 'string') {
          const target = byId.get(v);
          if (target) return [key, `#/components/schemas/${target}`];
          if (v.startsWith('#/')) return [key, `#/components/schemas/${component}/${v.slice(2)}`];
        }
        return [key, rebase(v, component)];
      }),
    );
  };
  const component = (name: string, schema: Record<string, unknown>): [string, unknown] => {
    const { $id: _id, $schema: _schema, ...rest } = schema;
    return [name, rebase(rest, name)];
  };
  return Object.fromEntries([
    ...API_SCHEMAS.map((name) => component(name, schemas.schema(name))),
    ...RESPONSE_SCHEMAS.map((name) => component(name, schemas.responseSchema(name))),
    ...[...schemas.sharedSchemas()].map(([name, schema]) => component(name, schema)),
  ]);
}

export function openApiDocument(schemas: SchemaValidator): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const r of ROUTES) {
    const parameters = [...r.path.matchAll(/\{(\w+)\}/g)].map((m) => ({ name: m[1], in: 'path', required: true, schema: { type: 'string' } }));
    paths[r.path] ??= {};
    paths[r.path]![r.method] = {
      summary: r.summary,
      ...(r.roles ? { description: `Requires role: ${r.roles}.` } : {}),
      ...(r.public ? { security: [] } : {}),
      ...(parameters.length ? { parameters } : {}),
      ...(r.body ? { requestBody: { required: true, content: { 'application/json': { schema: { $ref: `#/components/schemas/${r.body}` } } } } } : {}),
      responses: {
        [r.status ?? (r.method === 'post' ? '201' : r.method === 'delete' ? '204' : '200')]: {
          description: 'OK',
          ...(r.response ? { content: { 'application/json': { schema: { $ref: `#/components/schemas/${r.response}` } } } } : {}),
        },
        ...(r.body ? { 400: { $ref: '#/components/responses/Error' } } : {}),
        ...(r.public ? {} : { 401: { $ref: '#/components/responses/Error' }, 403: { $ref: '#/components/responses/Error' } }),
      },
    };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'FHIR mesh control plane admin API',
      version: '1.0.0',
      description: 'Registry of domains, endpoints, data products and consumers. Bearer tokens; roles per operation.',
    },
    security: [{ bearer: [] }],
    paths,
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } },
      schemas: componentSchemas(schemas),
      responses: {
        Error: {
          description: 'Error: statusCode, error, message (naming the field, column or resource at fault), and details where useful.',
          content: {
            'application/json': {
              schema: {
                type: 'object',
                required: ['statusCode', 'error', 'message'],
                properties: { statusCode: { type: 'integer' }, error: { type: 'string' }, message: { type: 'string' } },
              },
            },
          },
        },
      },
    },
  };
}
