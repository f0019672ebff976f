// trino-grammar.json is what the parser interprets: it must be exactly what io.trino:trino-grammar:476
// gives. Re-extracted here with the JDK and Maven when both are present (CI has them and Maven Central).

import * as fs from 'node:fs';
import { expect } from 'chai';
import { extractGrammar, GRAMMAR_ARTIFACT, GRAMMAR_JSON, jdkHome, mavenAvailable } from '../src/gateway/sql/grammar-extraction';
import { GRAMMAR, RULE_NAMES } from '../src/gateway/sql/trino-grammar';

describe('Trino grammar extracted from io.trino:trino-grammar', () => {
  it('records where it came from: Trino 476, generated for ANTLR 4.13.2', () => {
    expect(GRAMMAR.source).to.deep.include({ maven: GRAMMAR_ARTIFACT, antlrRuntime: '4.13.2', grammarFileName: 'SqlBase.g4' });
    expect(GRAMMAR.source.jarSha256).to.match(/^[0-9a-f]{64}$/);
    expect(RULE_NAMES).to.include.members(['singleStatement', 'statement', 'query', 'relationPrimary', 'identifier']);
  });

  it('matches what the jar gives today, byte for byte', function () {
    const javaHome = jdkHome();
    if (!javaHome || !mavenAvailable()) this.skip();
    this.timeout(180_000);
    expect(extractGrammar(javaHome!) === fs.readFileSync(GRAMMAR_JSON, 'utf8'), `run \`npm run grammar\` to regenerate ${GRAMMAR_JSON}`).to.equal(true);
  });
});
