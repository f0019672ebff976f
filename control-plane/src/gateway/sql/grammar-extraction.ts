// Build-time only: extracts Trino's grammar from the io.trino:trino-grammar jar (Maven Central) with the
// project's JDK 25, by running ExtractTrinoGrammar.java against the jar's generated classes. The result
// is committed as trino-grammar.json; nothing here runs when a statement is parsed.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export const GRAMMAR_ARTIFACT = 'io.trino:trino-grammar:476';
/** The runtime the 476 classes were generated for (trino-root 476: dep.antlr.version). */
export const ANTLR_RUNTIME_ARTIFACT = 'org.antlr:antlr4-runtime:4.13.2';
export const GRAMMAR_JSON = path.join(__dirname, 'trino-grammar.json');
const EXTRACTOR = path.join(__dirname, 'ExtractTrinoGrammar.java');

/** A Temurin JDK 25+ (single-file source launch and Trino's class files need a recent JDK). */
export function jdkHome(): string | undefined {
  const fromEnv = process.env.MESH_JAVA_HOME;
  if (fromEnv) return fs.existsSync(path.join(fromEnv, 'bin', 'java')) ? fromEnv : undefined;
  const root = '/usr/lib/jvm';
  if (!fs.existsSync(root)) return undefined;
  return fs
    .readdirSync(root)
    .filter((name) => /^temurin-(2[5-9]|[3-9]\d)/.test(name))
    .sort()
    .reverse()
    .map((name) => path.join(root, name))
    .find((dir) => fs.existsSync(path.join(dir, 'bin', 'java')));
}

export function mavenAvailable(): boolean {
  try {
    execFileSync('mvn', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Fetches the two jars with Maven (from ~/.m2 when already there) and returns the extracted JSON text. */
export function extractGrammar(javaHome: string): string {
  const jars = fs.mkdtempSync(path.join(os.tmpdir(), 'trino-grammar-'));
  try {
    const env = { ...process.env, JAVA_HOME: javaHome, MAVEN_OPTS: `${process.env.MAVEN_OPTS ?? ''} --sun-misc-unsafe-memory-access=allow`.trim() };
    for (const artifact of [GRAMMAR_ARTIFACT, ANTLR_RUNTIME_ARTIFACT]) {
      // Output kept for failures only (execFileSync puts it in the error).
      execFileSync('mvn', ['-B', '-q', 'dependency:copy', `-Dartifact=${artifact}`, `-DoutputDirectory=${jars}`], { env, stdio: 'pipe' });
    }
    const classpath = fs
      .readdirSync(jars)
      .map((jar) => path.join(jars, jar))
      .join(path.delimiter);
    return execFileSync(path.join(javaHome, 'bin', 'java'), ['-cp', classpath, EXTRACTOR], { env, encoding: 'utf8', maxBuffer: 64 << 20 });
  } finally {
    fs.rmSync(jars, { recursive: true, force: true });
  }
}
