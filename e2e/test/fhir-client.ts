// Test support: plain FHIR REST reads against the trusts, following `next` links exactly as given, with
// the domain's own reader token (the servers refuse anonymous reads).
import { readSecret, SECRETS } from '../runtime/secrets';
import { DomainSpec, fhirBaseUrl } from '../runtime/topology';
import { Resource } from './ground-truth';

interface Bundle {
  total?: number;
  entry?: { resource: Resource }[];
  link?: { relation: string; url: string }[];
}

/** Headers of a read at a tenant: its reader token. */
export function readerHeaders(tenant: string): Record<string, string> {
  return { accept: 'application/fhir+json', authorization: `Bearer ${readSecret(SECRETS.fhirReaderToken(tenant))}` };
}

async function getJson<T>(domain: DomainSpec, url: string): Promise<{ status: number; body: T }> {
  const response = await fetch(url, { headers: readerHeaders(domain.id), signal: AbortSignal.timeout(120_000) });
  return { status: response.status, body: (await response.json()) as T };
}

export async function searchTotal(domain: DomainSpec, query: string): Promise<number> {
  const { status, body } = await getJson<Bundle>(domain, `${fhirBaseUrl(domain)}/${query}${query.includes('?') ? '&' : '?'}_summary=count`);
  if (status !== 200) throw new Error(`${domain.id} ${query}: HTTP ${status}`);
  if (body.total === undefined) throw new Error(`${domain.id} ${query}: Bundle.total missing`);
  return body.total;
}

/** Every resource a search matches, page by page. */
export async function searchAll(domain: DomainSpec, query: string): Promise<{ resources: Resource[]; pages: number }> {
  let url: string | undefined = `${fhirBaseUrl(domain)}/${query}`;
  const resources: Resource[] = [];
  let pages = 0;
  while (url) {
    const { status, body }: { status: number; body: Bundle } = await getJson<Bundle>(domain, url);
    if (status !== 200) throw new Error(`${url}: HTTP ${status}`);
    pages += 1;
    resources.push(...(body.entry ?? []).map((e) => e.resource));
    url = body.link?.find((l) => l.relation === 'next')?.url;
    if (pages > 10_000) throw new Error(`${query}: more than 10000 pages, a next-link loop?`);
  }
  return { resources, pages };
}

export async function read(domain: DomainSpec, resourceType: string, id: string): Promise<number> {
  const response = await fetch(`${fhirBaseUrl(domain)}/${resourceType}/${id}`, { headers: readerHeaders(domain.id) });
  await response.arrayBuffer();
  return response.status;
}
