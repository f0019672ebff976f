// A publication is dry-run through the real connector before it is accepted: a temporary Trino catalog
// reads each view from the source endpoints (LIMIT n), so FHIRPath the evaluator cannot run, values that
// do not fit a column's type, and unreachable endpoints are found before analysts meet them.
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ServiceUnavailableException, UnprocessableEntityException } from '@nestjs/common';
import { CatalogDomain, catalogProperties, renderMappingFile } from '../catalogs/generation';
import { Binding } from '../catalogs/search-bindings';
import { TrinoAdmin, TrinoStatementError, TrinoUnavailableError } from '../catalogs/trino-admin';
import { ownValue } from '../own-property';

export interface DryRunResult {
  view: string;
  rows: number;
}

export async function dryRun(
  trino: TrinoAdmin,
  workDir: string,
  views: Record<string, unknown>[],
  bindings: Record<string, Record<string, Binding>>,
  sources: CatalogDomain[],
  rows: number,
): Promise<DryRunResult[]> {
  const id = randomBytes(5).toString('hex');
  const catalog = `dryrun_${id}`;
  const dir = path.join(workDir, id);
  fs.mkdirSync(dir, { recursive: true });
  try {
    for (const view of views) {
      const name = String(view.name);
      fs.writeFileSync(
        path.join(dir, `${name}.json`),
        renderMappingFile({
          table: name,
          description: 'dry run',
          view,
          bindings: ownValue(bindings, name) ?? {},
          domains: sources.map((s) => s.odsCode),
        }),
      );
    }
    const properties = catalogProperties(sources, dir, { 'fhir.page-size': String(Math.max(1, rows)), 'fhir.retry.max-attempts': '1' });
    try {
      await trino.replaceCatalog(catalog, properties);
    } catch (e) {
      if (e instanceof TrinoUnavailableError) throw new ServiceUnavailableException(`dry run needs Trino: ${e.message}`);
      throw new UnprocessableEntityException(`dry run: the connector refused the views: ${(e as Error).message}`);
    }
    const results: DryRunResult[] = [];
    for (const view of views) {
      const name = String(view.name);
      try {
        // Only the row count leaves the dry run, so rows are read as stored: the connector's patient exclusion
        // (opt-outs, patients without an NHS number, restricted patients) would otherwise hide rows to check.
        const read = await trino.query(`SELECT * FROM ${catalog}.default."${name}" LIMIT ${rows}`, {
          [`${catalog}.apply_opt_outs`]: 'false',
          [`${catalog}.excluded_patient_labels`]: '',
          [`${catalog}.exclude_patients_without_nhs_number`]: 'false',
        });
        results.push({ view: name, rows: read.length });
      } catch (e) {
        if (e instanceof TrinoUnavailableError) throw new ServiceUnavailableException(`dry run needs Trino: ${e.message}`);
        const reason = e instanceof TrinoStatementError ? `${e.errorName}: ${e.message}` : (e as Error).message;
        throw new UnprocessableEntityException(`dry run of view '${name}' against ${sources.map((s) => s.odsCode).join(', ')} failed: ${reason}`);
      }
    }
    return results;
  } finally {
    await trino.dropCatalog(catalog).catch(() => undefined);
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
