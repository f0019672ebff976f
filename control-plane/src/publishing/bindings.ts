// Search-parameter bindings for a publication, derived from every source endpoint's CapabilityStatement.
// A column is bound only where all sources agree: the connector sends the same search to each.
import { UnprocessableEntityException } from '@nestjs/common';
import { loadServerSearchParams, ServerSearchParams } from '../catalogs/capability';
import { Binding, deriveBindings, ViewDefinitionLike } from '../catalogs/search-bindings';
import { ownValue } from '../own-property';

export interface SourceEndpoint {
  odsCode: string;
  baseUrl: string;
}

export async function deriveProductBindings(
  views: Record<string, unknown>[],
  sources: SourceEndpoint[],
): Promise<{ bindings: Record<string, Record<string, Binding>>; notes: string[] }> {
  const servers: { source: SourceEndpoint; server: ServerSearchParams }[] = [];
  for (const source of sources) {
    try {
      servers.push({ source, server: await loadServerSearchParams(source.baseUrl) });
    } catch (e) {
      throw new UnprocessableEntityException(`endpoint of domain ${source.odsCode} (${source.baseUrl}) could not be read: ${(e as Error).message}`);
    }
  }
  const perView: [string, Record<string, Binding>][] = [];
  const notes: string[] = [];
  for (const view of views as unknown as (ViewDefinitionLike & { name: string })[]) {
    let agreed: Record<string, Binding> | undefined;
    for (const { source, server } of servers) {
      let derived: Record<string, Binding>;
      try {
        derived = deriveBindings(view, server.forResource(view.resource).params).bindings;
      } catch (e) {
        throw new UnprocessableEntityException(`view '${view.name}': the endpoint of ${source.odsCode} cannot serve ${view.resource}: ${(e as Error).message}`);
      }
      if (agreed === undefined) {
        agreed = derived;
        continue;
      }
      for (const column of Object.keys(agreed)) {
        if (JSON.stringify(ownValue(agreed, column)) !== JSON.stringify(ownValue(derived, column))) {
          notes.push(`${view.name}.${column}: unbound, ${source.odsCode} does not support the same search parameter`);
          delete agreed[column];
        }
      }
    }
    perView.push([view.name, agreed ?? {}]);
  }
  // fromEntries defines keys, so a view name is never taken for a prototype setter.
  return { bindings: Object.fromEntries(perView), notes };
}
