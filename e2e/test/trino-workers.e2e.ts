// Multi-node Trino (`npm run mesh -- --workers K`): the coordinator schedules no splits itself, table scans run
// on the workers, catalogs created at run time (CREATE CATALOG, catalog.management=dynamic) reach them, and the
// answers equal the ground truth. Skipped on a single-node mesh, the default topology.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { expect } from 'chai';
import { GENERATED_DIR } from '../runtime/control-plane';
import { meshDomains } from '../runtime/topology';
import { activeNodes } from '../runtime/trino';
import { AS_STORED_SESSION, TrinoEngine } from './connector/engines';
import { readResources } from './ground-truth';

/** Where each task of a query ran and how many splits it completed (system.runtime.tasks, gathered from every node). */
async function splitsByNode(trino: TrinoEngine, queryId: string): Promise<Map<string, number>> {
  const { rows } = await trino.query(`SELECT node_id, sum(completed_splits) FROM system.runtime.tasks WHERE query_id = '${queryId}' GROUP BY node_id`);
  return new Map(rows.map(([node, splits]) => [String(node), Number(splits)]));
}

/** FHIR requests per `node domain` of the `fhir` catalog, from the connector's JMX figures on every node (mesh.request_metrics). */
async function requestsByNode(trino: TrinoEngine): Promise<Map<string, number>> {
  const { rows } = await trino.query('SELECT node, domain, requests FROM fhir.mesh.request_metrics');
  return new Map(rows.map(([node, domain, requests]) => [`${node} ${domain}`, Number(requests)]));
}

/** Patients per domain code in the ground truth (every Patient resource: the engine reads the catalog as stored). */
function patientsPerDomain(): Map<string, number> {
  return new Map(meshDomains().map((d) => [d.odsCode, readResources(d, 'Patient').length]));
}

describe('Trino workers: splits run on the workers', () => {
  const trino = new TrinoEngine();
  let coordinator: string;
  let workers: string[];

  before(async function () {
    const nodes = await activeNodes();
    workers = nodes.filter((n) => !n.coordinator).map((n) => n.nodeId);
    if (workers.length === 0) {
      console.log('    (skipped: this mesh runs Trino on one node; start it with `npm run mesh -- --workers 1` or MESH_TRINO_WORKERS=1 npm test)');
      this.skip();
    }
    coordinator = nodes.find((n) => n.coordinator)!.nodeId;
  });

  it('answers a grouped count over every domain from the workers, equal to the ground truth', async () => {
    const result = await trino.query('SELECT domain, count(*) FROM fhir.default.patient GROUP BY domain');
    const answer = new Map(result.rows.map(([domain, n]) => [String(domain), Number(n)]));
    expect(answer).to.deep.equal(patientsPerDomain());

    const splits = await splitsByNode(trino, result.queryId!);
    expect(splits.get(coordinator) ?? 0, 'splits run on the coordinator').to.equal(0);
    const onWorkers = workers.reduce((sum, w) => sum + (splits.get(w) ?? 0), 0);
    // At least one scan split per domain, all of them completed by workers.
    expect(onWorkers, `splits completed on ${workers.join(', ')}`).to.be.at.least(meshDomains().length);

    // The connector's request metrics come from every node: the workers' page reads of each domain are in them (a
    // column is read, so no count-only scan, whose one count per domain is asked while splits are planned).
    const requestsBefore = await requestsByNode(trino);
    await trino.query('SELECT domain, count(gender) FROM fhir.default.patient GROUP BY domain');
    const requestsAfter = await requestsByNode(trino);
    for (const domain of meshDomains().map((d) => d.odsCode)) {
      const onWorkerNodes = workers.reduce((sum, w) => sum + (requestsAfter.get(`${w} ${domain}`) ?? 0) - (requestsBefore.get(`${w} ${domain}`) ?? 0), 0);
      expect(onWorkerNodes, `requests to ${domain} counted on the workers`).to.be.greaterThan(0);
    }
  });

  it('serves a catalog created while the workers run (dynamic catalogs reach them)', async () => {
    // The control plane's own catalog properties under another name: created now, after every worker started.
    const properties = fs
      .readFileSync(path.join(GENERATED_DIR, 'catalogs', 'fhir.properties'), 'utf8')
      .split('\n')
      .filter((line) => line && !line.startsWith('#') && !line.startsWith('connector.name='))
      .map((line) => {
        const at = line.indexOf('=');
        return `"${line.slice(0, at)}" = '${line.slice(at + 1).replaceAll("'", "''")}'`;
      });
    const catalog = 'fhir_worker_probe';
    await trino.query(`DROP CATALOG IF EXISTS ${catalog}`);
    await trino.query(`CREATE CATALOG ${catalog} USING fhir WITH (${properties.join(', ')})`);
    try {
      // As stored, like the `fhir` reads here: the engine's session switches the patient exclusion off per catalog name.
      const asStored = Object.fromEntries(Object.entries(AS_STORED_SESSION).map(([key, value]) => [key.replace(/^fhir\./, `${catalog}.`), value]));
      const result = await trino.query(`SELECT domain, count(*) FROM ${catalog}.default.patient GROUP BY domain`, { session: asStored });
      expect(new Map(result.rows.map(([domain, n]) => [String(domain), Number(n)]))).to.deep.equal(patientsPerDomain());
      const splits = await splitsByNode(trino, result.queryId!);
      expect(splits.get(coordinator) ?? 0, 'splits run on the coordinator').to.equal(0);
      expect(
        workers.reduce((sum, w) => sum + (splits.get(w) ?? 0), 0),
        'splits completed on the workers',
      ).to.be.at.least(meshDomains().length);
    } finally {
      await trino.query(`DROP CATALOG IF EXISTS ${catalog}`);
    }
  });
});
