// Cached downloads of release artefacts from Maven Central, checked against Central's SHA-1 files.
// A second start finds the file in .mesh/cache and downloads nothing.
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ComponentError, say } from './processes';
import { paths } from './topology';

const CENTRAL = process.env.MESH_MAVEN_REPO ?? 'https://repo.maven.apache.org/maven2';

export interface Artefact {
  group: string;
  artifact: string;
  version: string;
  /** e.g. `tar.gz`, `jar` */
  extension: string;
  classifier?: string;
}

export function artefactFileName(a: Artefact): string {
  return `${a.artifact}-${a.version}${a.classifier ? `-${a.classifier}` : ''}.${a.extension}`;
}

export function artefactUrl(a: Artefact): string {
  return `${CENTRAL}/${a.group.replace(/\./g, '/')}/${a.artifact}/${a.version}/${artefactFileName(a)}`;
}

function sha1Of(file: string): string {
  return createHash('sha1').update(fs.readFileSync(file)).digest('hex');
}

/** Returns the cached file's path, downloading and verifying it first when it is not cached yet. */
export async function cachedArtefact(component: string, a: Artefact): Promise<string> {
  fs.mkdirSync(paths.cache, { recursive: true });
  const target = path.join(paths.cache, artefactFileName(a));
  if (fs.existsSync(target)) return target;

  const url = artefactUrl(a);
  const expectedSha1 = await fetchText(component, `${url}.sha1`).then((text) => text.trim().split(/\s+/)[0]);
  const response = await fetch(url).catch((e: Error) => {
    throw new ComponentError(component, `cannot download ${url}: ${e.message}`);
  });
  if (!response.ok || !response.body) throw new ComponentError(component, `download of ${url} failed: HTTP ${response.status}`);

  const total = Number(response.headers.get('content-length') ?? 0);
  const partial = `${target}.part`;
  const out = fs.createWriteStream(partial);
  let received = 0;
  let lastReport = 0;
  say(component, `downloading ${artefactFileName(a)} (${(total / 1e6).toFixed(0)} MB) from Maven Central`);
  for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
    received += chunk.length;
    if (!out.write(chunk)) await new Promise<void>((resolve) => out.once('drain', () => resolve()));
    if (total && Date.now() - lastReport > 3000) {
      say(component, `  ${Math.round((100 * received) / total)}% of ${artefactFileName(a)}`);
      lastReport = Date.now();
    }
  }
  await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));

  const actual = sha1Of(partial);
  if (actual !== expectedSha1) {
    fs.rmSync(partial, { force: true });
    throw new ComponentError(component, `${artefactFileName(a)} failed its SHA-1 check (expected ${expectedSha1}, got ${actual})`);
  }
  fs.renameSync(partial, target);
  return target;
}

async function fetchText(component: string, url: string): Promise<string> {
  const response = await fetch(url).catch((e: Error) => {
    throw new ComponentError(component, `cannot reach ${url}: ${e.message}`);
  });
  if (!response.ok) throw new ComponentError(component, `${url} answered HTTP ${response.status}`);
  return response.text();
}
