// `npm run mesh`, `mesh:down`, `mesh:status` and `npm test`: the README's commands.
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { ensureSyntheticData } from '../synthetic/generate';
import { OPS_TOKEN_FILE } from './control-plane';
import { DEMO_ANALYST, DEMO_DP_ANALYST } from './demo-registry';
import { loadManifest, meshDown, meshStatus, meshUp, printReport, trinoCliJar } from './mesh';
import { ComponentError, say } from './processes';
import { MESH_CA_CERT, SECRETS } from './secrets';
import { runTests } from './test-runner';
import { chooseMeshShape, controlPlaneUrl, DOMAINS, fhirBaseUrl, gatewayUrl, meshDomains, meshShape, paths, trinoUrl } from './topology';

async function up(detach: boolean): Promise<void> {
  let stopping = false;
  const stop = async (): Promise<void> => {
    if (stopping) return;
    stopping = true;
    say('mesh', 'stopping (Ctrl-C)');
    await meshDown();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop());
  process.on('SIGTERM', () => void stop());

  const report = await meshUp().catch(async (e: unknown) => {
    await meshDown(); // nothing half-started is left behind
    throw e;
  });
  printReport(report);
  const cli = path.relative(process.cwd(), await trinoCliJar());
  process.stdout.write(
    [
      '',
      'FHIR mesh is up.',
      `  Trino:        ${trinoUrl()}   (the gateway and operators only)`,
      `  SQL gateway:  ${gatewayUrl()}   (Trino protocol; analysts connect here, never to Trino)`,
      `  Trino CLI:    TRINO_PASSWORD=$(cat ${path.relative(process.cwd(), SECRETS.gatewayToken(DEMO_ANALYST.name))}) java -jar ${cli} --server ${gatewayUrl()} ` +
        `--truststore-path ${path.relative(process.cwd(), MESH_CA_CERT)} --user ${DEMO_ANALYST.name} --password ` +
        `--extra-credential purpose=${DEMO_ANALYST.purposes[0]} --extra-credential project=${DEMO_ANALYST.project} --catalog fhir --schema default`,
      `  Aggregates:   the same with --user ${DEMO_DP_ANALYST.name} (${path.relative(process.cwd(), SECRETS.gatewayToken(DEMO_DP_ANALYST.name))}), ` +
        `--extra-credential project=${DEMO_DP_ANALYST.project}: differentially private answers only (README: disclosure control)`,
      ...DOMAINS.map((d) => `  FHIR ${d.odsCode}:     ${fhirBaseUrl(d)}   (${d.name})`),
      ...(meshDomains().length > DOMAINS.length
        ? [
            `  FHIR sites:   ${meshDomains().length - DOMAINS.length} more, ${fhirBaseUrl(meshDomains()[DOMAINS.length]!)} ... ${fhirBaseUrl(meshDomains().at(-1)!)}`,
          ]
        : []),
      ...(meshShape().workers > 0 ? [`  Trino nodes:  a coordinator and ${meshShape().workers} worker(s); splits run on the workers`] : []),
      `  Admin API:    ${controlPlaneUrl()}/api/v1   (OpenAPI: /api/openapi.json; ops token in ${path.relative(process.cwd(), OPS_TOKEN_FILE)})`,
      `  Web console:  ${controlPlaneUrl()}/console/   (sign in with an API token, e.g. the ops token)`,
      `  Metrics:      ${controlPlaneUrl()}/metrics   (Prometheus text format; scrape with the ops token as bearer token)`,
      `  Status:       npm run mesh:status        Logs: ${path.relative(process.cwd(), paths.logs)}/`,
      detach ? '  Stop with:    npm run mesh:down' : '  Stop with Ctrl-C (or npm run mesh:down from another shell).',
      '',
    ].join('\n'),
  );
  if (detach) return;
  setInterval(() => undefined, 1 << 30); // a live handle keeps the process in the foreground until a signal
}

async function status(json: boolean): Promise<void> {
  const rows = await meshStatus();
  if (json) {
    process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
  } else {
    const width = Math.max(...rows.map((r) => r.name.length));
    for (const row of rows) {
      const memory = row.rssMiB !== undefined ? `  ${row.rssMiB} MiB` : '';
      process.stdout.write(`${row.healthy ? 'up  ' : 'DOWN'}  ${row.name.padEnd(width)}  ${row.url}  ${row.detail ?? ''}${memory}\n`);
    }
  }
  process.exitCode = rows.every((r) => r.healthy) ? 0 : 1;
}

async function main(): Promise<void> {
  const [command, ...args] = process.argv.slice(2);
  // --domains N and --workers K size the mesh (also MESH_DOMAINS, MESH_TRINO_WORKERS; see topology.ts).
  const { values } = parseArgs({
    args,
    options: {
      detach: { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
      domains: { type: 'string' },
      workers: { type: 'string' },
    },
    strict: true,
  });
  if (values.domains !== undefined || values.workers !== undefined) {
    if (command !== 'up' && command !== 'test') throw new Error('--domains and --workers size a mesh being started: use them with up or test');
    const shape = chooseMeshShape({ domains: values.domains, workers: values.workers });
    // Child processes (the test runner's mocha, benches) read the same shape.
    process.env.MESH_DOMAINS = String(shape.domains);
    process.env.MESH_TRINO_WORKERS = String(shape.workers);
  }
  switch (command) {
    case 'up':
      return up(values.detach);
    case 'down':
      return meshDown();
    case 'status':
      return status(values.json);
    case 'load': {
      // For a mesh started some other way (compose.yaml): generate if needed, then load what is missing.
      const report = await loadManifest(await ensureSyntheticData({}));
      say('load', `${report.resources} resources loaded in ${report.seconds.toFixed(1)} s`);
      return;
    }
    case 'test':
      process.exitCode = await runTests();
      return;
    default:
      throw new Error(`unknown command '${command ?? ''}'; use up [--detach] [--domains N] [--workers K], down, status [--json], load or test`);
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`[mesh] ${e instanceof ComponentError ? e.message : ((e as Error).stack ?? String(e))}\n`);
  process.exit(1);
});
