// `npm run grammar` rewrites trino-grammar.json from io.trino:trino-grammar; `npm run grammar -- --check`
// only compares, exiting 1 when the committed file differs from what the jar gives.
import * as fs from 'node:fs';
import { extractGrammar, GRAMMAR_ARTIFACT, GRAMMAR_JSON, jdkHome } from './grammar-extraction';

const check = process.argv.includes('--check');
const javaHome = jdkHome();
if (!javaHome) {
  process.stderr.write('grammar: no Temurin JDK 25 under /usr/lib/jvm; set MESH_JAVA_HOME to one\n');
  process.exit(2);
}
const extracted = extractGrammar(javaHome);
const committed = fs.existsSync(GRAMMAR_JSON) ? fs.readFileSync(GRAMMAR_JSON, 'utf8') : '';
if (check) {
  if (extracted !== committed) {
    process.stderr.write(`grammar: ${GRAMMAR_JSON} differs from ${GRAMMAR_ARTIFACT}; run \`npm run grammar\`\n`);
    process.exit(1);
  }
  process.stdout.write(`grammar: ${GRAMMAR_JSON} matches ${GRAMMAR_ARTIFACT}\n`);
} else {
  fs.writeFileSync(GRAMMAR_JSON, extracted);
  process.stdout.write(`grammar: wrote ${GRAMMAR_JSON} from ${GRAMMAR_ARTIFACT}\n`);
}
