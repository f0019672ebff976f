// Locating the JDK and running Maven builds. Trino 476 needs JDK 24+, so the mesh always runs and builds
// its JVMs with the Temurin JDK 25 installed beside the machine's default Java 17.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ComponentError, run, say } from './processes';

const JDK_SEARCH_ROOT = '/usr/lib/jvm';

export function javaHome(): string {
  const fromEnv = process.env.MESH_JAVA_HOME;
  if (fromEnv) {
    if (!fs.existsSync(path.join(fromEnv, 'bin', 'java'))) {
      throw new ComponentError('java', `MESH_JAVA_HOME=${fromEnv} has no bin/java`);
    }
    return fromEnv;
  }
  const candidates = fs.existsSync(JDK_SEARCH_ROOT)
    ? fs
        .readdirSync(JDK_SEARCH_ROOT)
        .filter((name) => /^temurin-(2[5-9])/.test(name))
        .sort()
        .reverse()
    : [];
  const found = candidates.map((name) => path.join(JDK_SEARCH_ROOT, name)).find((dir) => fs.existsSync(path.join(dir, 'bin', 'java')));
  if (!found) {
    throw new ComponentError(
      'java',
      `no Temurin JDK 25 under ${JDK_SEARCH_ROOT}; install one (e.g. the temurin-25-jdk package) or point MESH_JAVA_HOME at a JDK 25`,
    );
  }
  return found;
}

export function javaBin(): string {
  return path.join(javaHome(), 'bin', 'java');
}

/** Environment for Maven: the JDK 25, and quiet about Maven's own use of sun.misc.Unsafe on JDK 25. */
export function mavenEnv(): NodeJS.ProcessEnv {
  return {
    ...process.env,
    JAVA_HOME: javaHome(),
    MAVEN_OPTS: `${process.env.MAVEN_OPTS ?? ''} --sun-misc-unsafe-memory-access=allow -Xmx1g`.trim(),
  };
}

function newestMtime(dir: string): number {
  let newest = 0;
  const walk = (current: string): void => {
    for (const entry of fs.readdirSync(current, { withFileTypes: true })) {
      if (entry.name === 'target' || entry.name === 'node_modules') continue;
      const full = path.join(current, entry.name);
      if (entry.isDirectory()) walk(full);
      else newest = Math.max(newest, fs.statSync(full).mtimeMs);
    }
  };
  walk(dir);
  return newest;
}

/**
 * Builds a Maven project when its artefact is missing or older than its sources (pom included),
 * so a warm start does not rebuild.
 */
export function mavenPackage(component: string, projectDir: string, artefact: string, extraArgs: string[] = []): void {
  const upToDate = fs.existsSync(artefact) && fs.statSync(artefact).mtimeMs >= newestMtime(projectDir);
  if (upToDate) return;
  say(component, `building ${path.relative(process.cwd(), projectDir) || projectDir} with Maven (first build downloads dependencies)`);
  const started = Date.now();
  run(component, 'mvn', ['-B', '-q', '-DskipTests', ...extraArgs, 'package'], { cwd: projectDir, env: mavenEnv(), stdio: 'pipe' });
  if (!fs.existsSync(artefact)) throw new ComponentError(component, `Maven finished but ${artefact} is missing`);
  say(component, `built in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}
