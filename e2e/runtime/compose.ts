// compose.yaml is generated from topology.ts, the same configuration the local runtime uses, so the
// Docker topology cannot drift from what `npm run mesh` starts (a unit test compares the two).
// Usage: `npm run compose` rewrites compose.yaml.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { stringify } from 'yaml';
import { catalogProperties, renderCatalogFile } from '../../control-plane/src/catalogs/generation';
import { DEFAULT_CATALOG_SETTINGS } from '../../control-plane/src/config';
import { FHIR_CATALOG } from './fhir-catalog';
import { DOMAINS, DEFAULT_PORTS as ports, postgres, ROOT, versions } from './topology';

export const COMPOSE_FILE = path.join(ROOT, 'compose.yaml');
/** The catalog the Docker Trino mounts: service names instead of loopback, mappings mounted read-only. */
export const COMPOSE_CATALOG_FILE = path.join(ROOT, 'catalogs', `${FHIR_CATALOG}.properties`);
const COMPOSE_MAPPINGS_DIR = '/etc/trino/sql-mappings';
/** The secrets `npm run mesh` generated, mounted read-only: each container gets only its own folder. */
const COMPOSE_FHIR_SECRETS = '/run/secrets/fhir-server';
const COMPOSE_TOKEN_DIR = '/run/secrets/fhir-tokens';

/** Rendered by the control plane's own renderer and settings, so it reads like the catalog it generates live. */
export function renderComposeCatalog(): string {
  const domains = DOMAINS.map((d) => ({
    odsCode: d.odsCode,
    baseUrl: `http://fhir:${ports.fhir}/fhir/${d.id}`,
    authSecretRef: `file:${COMPOSE_TOKEN_DIR}/${d.id}.token`,
    name: d.name,
    kind: d.kind,
    region: d.region,
  }));
  return renderCatalogFile(catalogProperties(domains, COMPOSE_MAPPINGS_DIR, DEFAULT_CATALOG_SETTINGS), '`npm run compose` from e2e/runtime/topology.ts');
}

export function renderCompose(): string {
  const tenants = DOMAINS.map((d) => d.id).join(',');
  const document = {
    name: 'fhir-mesh',
    services: {
      postgres: {
        image: 'postgres:15',
        environment: {
          POSTGRES_USER: postgres.user,
          POSTGRES_DB: postgres.registryDatabase,
          // Same as the local cluster: trust auth, reachable only from the compose network and loopback.
          POSTGRES_HOST_AUTH_METHOD: 'trust',
        },
        command: ['postgres', '-c', 'max_connections=200', '-c', 'shared_buffers=256MB', '-c', 'synchronous_commit=off'],
        configs: [{ source: 'fhir-database', target: '/docker-entrypoint-initdb.d/fhir-database.sql' }],
        ports: [`127.0.0.1:${ports.postgres}:5432`],
        volumes: ['pgdata:/var/lib/postgresql/data'],
        healthcheck: { test: ['CMD', 'pg_isready', '-U', postgres.user], interval: '5s', retries: 20 },
      },
      fhir: {
        image: 'eclipse-temurin:25-jre',
        depends_on: { postgres: { condition: 'service_healthy' } },
        // The jar is the one `npm run mesh` builds (e2e/fhir-server/target).
        volumes: ['./e2e/fhir-server/target/fhir-mesh-hapi.jar:/app/fhir-mesh-hapi.jar:ro', `./.mesh/secrets/fhir-server:${COMPOSE_FHIR_SECRETS}:ro`],
        command: [
          'java',
          '-Xmx1536m',
          '-XX:+UseG1GC',
          '-jar',
          '/app/fhir-mesh-hapi.jar',
          '--server.address=0.0.0.0',
          `--server.port=${ports.fhir}`,
          `--spring.datasource.url=jdbc:postgresql://postgres:5432/${postgres.fhirDatabase}`,
          `--spring.datasource.username=${postgres.user}`,
          `--mesh.tenants=${tenants}`,
          `--mesh.callers-file=${COMPOSE_FHIR_SECRETS}/callers.tsv`,
        ],
        ports: [`127.0.0.1:${ports.fhir}:${ports.fhir}`],
        healthcheck: {
          test: ['CMD-SHELL', `curl -sf http://127.0.0.1:${ports.fhir}/fhir/${DOMAINS[0]?.id}/metadata > /dev/null`],
          interval: '10s',
          retries: 30,
        },
      },
      trino: {
        image: `trinodb/trino:${versions.trino}`,
        depends_on: { fhir: { condition: 'service_healthy' } },
        volumes: [
          './connector/target/plugin/fhir:/usr/lib/trino/plugin/fhir:ro',
          './catalogs:/etc/trino/catalog:ro',
          `./sql-mappings:${COMPOSE_MAPPINGS_DIR}:ro`,
          `./.mesh/secrets/fhir-tokens:${COMPOSE_TOKEN_DIR}:ro`,
        ],
        // The connector reads token files from this folder only.
        environment: { JAVA_TOOL_OPTIONS: `-Dfhir.secrets-dir=${COMPOSE_TOKEN_DIR}` },
        ports: [`127.0.0.1:${ports.trino}:8080`],
      },
    },
    configs: {
      // As locally: the FHIR data may trade durability for load speed, the registry (audit, budgets) may not.
      'fhir-database': {
        content: `create database ${postgres.fhirDatabase};\nalter database ${postgres.registryDatabase} set synchronous_commit = on;\n`,
      },
    },
    volumes: { pgdata: {} },
  };
  return (
    `# Generated from e2e/runtime/topology.ts by \`npm run compose\`; do not edit by hand.\n` +
    `# The same topology as \`npm run mesh\`, for machines with a Docker engine.\n${stringify(document)}`
  );
}

if (require.main === module) {
  fs.writeFileSync(COMPOSE_FILE, renderCompose());
  fs.writeFileSync(COMPOSE_CATALOG_FILE, renderComposeCatalog());
  for (const file of [COMPOSE_FILE, COMPOSE_CATALOG_FILE]) process.stdout.write(`wrote ${path.relative(process.cwd(), file)}\n`);
}
