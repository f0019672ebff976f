// The gateway's parser (control-plane/src/gateway/sql) against the real Trino 476: for every statement of
// the corpus both must agree on accept vs reject, and on the line and column of a rejection. Trino is asked
// as the operator with `PREPARE p_check FROM <statement>`: PREPARE parses the inner statement as part of its
// own text and stores it without analysing or running it, so a syntax error comes back as SYNTAX_ERROR and
// anything else (success, or a later refusal such as NOT_SUPPORTED for a nested PREPARE) means it parsed.
import { expect } from 'chai';
import { parseStatement, SqlSyntaxError } from '../../control-plane/src/gateway/sql/trino-parser';
import { TrinoEngine } from './connector/engines';
import { SQL_CORPUS } from './sql-parser-corpus';

const PREFIX = 'PREPARE p_check FROM ';

type Verdict = { accepted: true; errorName?: string } | { accepted: false; line: number; column: number; reason: string };

/** Trino's verdict on `sql` alone: positions on the first line are shifted back by the PREPARE prefix. */
async function trinoVerdict(sql: string, wrap = true): Promise<Verdict> {
  // A fresh client each time: trino-client keeps every Added-Prepare in the headers of later requests.
  const trino = new TrinoEngine();
  try {
    await trino.query(wrap ? `${PREFIX}${sql}` : sql);
    return { accepted: true };
  } catch (e) {
    const message = (e as Error).message.split('\n')[0] ?? '';
    if (message.startsWith('Trino returned no columns')) return { accepted: true };
    const errorName = message.slice('Trino '.length, message.indexOf(':'));
    if (!message.startsWith('Trino ') || errorName !== 'SYNTAX_ERROR') return { accepted: true, errorName };
    const detail = message.slice(message.indexOf(':') + 2); // `line L:C: reason`
    const [position = '', ...rest] = detail.slice('line '.length).split(': ');
    const [line, column] = position.split(':').map(Number) as [number, number];
    const shift = wrap && line === 1 && !detail.includes('stack overflow') ? PREFIX.length : 0;
    return { accepted: false, line, column: column - shift, reason: rest.join(': ') };
  }
}

function parserVerdict(sql: string): Verdict {
  try {
    parseStatement(sql);
    return { accepted: true };
  } catch (e) {
    if (!(e instanceof SqlSyntaxError)) throw e;
    return { accepted: false, line: e.line, column: e.column, reason: e.reason };
  }
}

const brief = (sql: string): string => JSON.stringify(sql.length > 120 ? `${sql.slice(0, 117)}...` : sql);

describe('the gateway parser accepts exactly what Trino 476 accepts', function () {
  this.timeout(600_000);

  before(async () => {
    try {
      await new TrinoEngine().query('SELECT 1');
    } catch (e) {
      throw new Error(`Trino is not answering (start the mesh with \`npm run mesh -- --detach\`): ${(e as Error).message}`);
    }
  });

  it('PREPARE tells syntax errors apart from every other failure (the oracle works)', async () => {
    // Parses but names nothing that exists, would be refused, or PREPARE cannot hold: not SYNTAX_ERROR.
    for (const sql of ['SELECT * FROM nosuch.nosuch.nosuch', 'DROP TABLE nosuch.nosuch.nosuch', 'SET SESSION AUTHORIZATION nobody', 'USE nosuch.nosuch']) {
      expect(await trinoVerdict(sql), sql).to.deep.include({ accepted: true });
    }
    expect(await trinoVerdict('PREPARE q FROM SELECT 1')).to.deep.equal({ accepted: true, errorName: 'NOT_SUPPORTED' });
    // PREPARE only stores: the table it would drop is still there, and a kill it would call never ran.
    expect(await trinoVerdict('DROP TABLE fhir.default.patient')).to.deep.include({ accepted: true });
    expect((await new TrinoEngine().query("SHOW TABLES FROM fhir.default LIKE 'patient'")).rows).to.deep.equal([['patient']]);
    // The same syntax error alone and inside PREPARE: same reason, same position once the prefix is removed.
    const alone = await trinoVerdict('SELECT FROM t', false);
    expect(alone).to.deep.equal({ accepted: false, line: 1, column: 8, reason: "mismatched input 'FROM'. Expecting: '*', 'ALL', 'DISTINCT', <expression>" });
    expect(await trinoVerdict('SELECT FROM t')).to.deep.equal(alone);
    expect(await trinoVerdict('SELECT 1\nFROM t t2 t3')).to.deep.include({ accepted: false, line: 2, column: 11 });
    // Statements PREPARE refuses to store are still parsed first: a syntax error in them is SYNTAX_ERROR.
    expect(await trinoVerdict('DEALLOCATE PREPARE')).to.deep.include({ accepted: false });
    // Session-only statements sent as they are (no side effect beyond this client) get the same verdict.
    for (const sql of ['DEALLOCATE PREPARE nosuch', 'USE nosuch.nosuch', 'EXECUTE nosuch']) {
      expect((await trinoVerdict(sql, false)).accepted, sql).to.equal((await trinoVerdict(sql)).accepted);
    }
  });

  it(`agrees with Trino on all ${SQL_CORPUS.length} statements of the corpus`, async () => {
    const disagreements: string[] = [];
    let rejected = 0;
    const otherWording: string[] = [];
    for (const sql of SQL_CORPUS) {
      const trino = await trinoVerdict(sql);
      const ours = parserVerdict(sql);
      if (!trino.accepted) rejected++;
      const agree = trino.accepted === ours.accepted && (trino.accepted || ours.accepted || (trino.line === ours.line && trino.column === ours.column));
      if (!agree) disagreements.push(`${brief(sql)}\n    Trino:  ${JSON.stringify(trino)}\n    parser: ${JSON.stringify(ours)}`);
      if (!trino.accepted && !ours.accepted && trino.reason !== ours.reason)
        otherWording.push(`${brief(sql)}\n        Trino:  ${trino.reason}\n        parser: ${ours.reason}`);
    }
    const agreed = SQL_CORPUS.length - disagreements.length;
    process.stdout.write(
      `      agreement: ${agreed}/${SQL_CORPUS.length} statements (${rejected} rejected by Trino; ` +
        `same error text on ${rejected - otherWording.length}/${rejected})\n`,
    );
    // The wording is informative only (Trino's own listing of expected tokens): position and verdict are the contract.
    for (const line of otherWording) process.stdout.write(`      other wording: ${line}\n`);
    expect(disagreements, disagreements.join('\n')).to.deep.equal([]);
  });
});
