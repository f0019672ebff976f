// The mesh's local certificate authority and the server certificates it issues (Trino now, the gateway
// later), made with the openssl command line from Debian. Clients trust paths.run/mesh-ca.pem: the Trino
// CLI and JDBC refuse passwords over plain HTTP, and so does the mesh.
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { run } from './processes';
import { MESH_CA_CERT, SECRETS, writeSecret } from './secrets';
import { HOST } from './topology';

const NAME = 'tls';
const CA_DAYS = 3650;
/** Browsers and JDKs refuse server certificates valid for more than 825 days. */
const SERVER_DAYS = 825;

function openssl(args: string[]): string {
  return run(NAME, 'openssl', args, { cwd: '/' });
}

/** Creates the CA once: its key stays in secrets/ca, its certificate is public. */
export function ensureMeshCa(): void {
  if (fs.existsSync(SECRETS.caKey) && fs.existsSync(MESH_CA_CERT)) return;
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'mesh-ca-'));
  try {
    const key = path.join(work, 'ca.key');
    const cert = path.join(work, 'ca.pem');
    openssl([
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      key,
      '-out',
      cert,
      '-days',
      String(CA_DAYS),
      '-sha256',
      '-subj',
      '/CN=FHIR mesh local CA',
      '-addext',
      'basicConstraints=critical,CA:TRUE,pathlen:0',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
    ]);
    writeSecret(SECRETS.caKey, fs.readFileSync(key, 'utf8'));
    fs.mkdirSync(path.dirname(MESH_CA_CERT), { recursive: true });
    fs.writeFileSync(MESH_CA_CERT, fs.readFileSync(cert, 'utf8'), { mode: 0o644 });
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

/**
 * A server key and certificate for the loopback host, signed by the mesh CA, written as one PEM file (key
 * first, then the certificate and the CA's) in the form Trino's `http-server.https.keystore.path` reads.
 * Reissued when missing or when the CA changed.
 */
export function ensureServerPem(file: string, commonName: string): void {
  ensureMeshCa();
  const ca = fs.readFileSync(MESH_CA_CERT, 'utf8');
  if (fs.existsSync(file) && fs.readFileSync(file, 'utf8').endsWith(ca)) return;
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'mesh-cert-'));
  try {
    const key = path.join(work, 'server.key');
    const csr = path.join(work, 'server.csr');
    const cert = path.join(work, 'server.pem');
    const caKey = path.join(work, 'ca.key');
    fs.writeFileSync(caKey, fs.readFileSync(SECRETS.caKey), { mode: 0o600 });
    const extensions = path.join(work, 'ext.cnf');
    fs.writeFileSync(
      extensions,
      [
        `subjectAltName=IP:${HOST},DNS:localhost`,
        'basicConstraints=critical,CA:FALSE',
        'keyUsage=critical,digitalSignature,keyEncipherment',
        'extendedKeyUsage=serverAuth',
        '',
      ].join('\n'),
    );
    openssl(['req', '-new', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', csr, '-subj', `/CN=${commonName}`]);
    openssl([
      'x509',
      '-req',
      '-in',
      csr,
      '-CA',
      MESH_CA_CERT,
      '-CAkey',
      caKey,
      '-set_serial',
      `0x${randomBytes(16).toString('hex')}`,
      '-out',
      cert,
      '-days',
      String(SERVER_DAYS),
      '-sha256',
      '-extfile',
      extensions,
    ]);
    writeSecret(file, `${fs.readFileSync(key, 'utf8')}${fs.readFileSync(cert, 'utf8')}${ca}`);
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}
