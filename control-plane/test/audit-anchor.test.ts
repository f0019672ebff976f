import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { expect } from 'chai';
import { AuditAnchorFile, AuditHead, anchorLine, anchorProblems, parseAnchors } from '../src/audit/audit-anchor';

const KEY = Buffer.alloc(32, 7);
const OTHER_KEY = Buffer.alloc(32, 8);
const chain = (from: number, to: number): AuditHead[] => Array.from({ length: to - from + 1 }, (_, i) => ({ seq: String(from + i), hash: `h${from + i}` }));
const at = new Date('2026-12-05T12:00:00Z');
const anchorsOf = (heads: AuditHead[], key = KEY) => parseAnchors(heads.map((h) => anchorLine(key, h, at)).join(''), KEY, 'anchors.jsonl');

describe('audit anchors: the chain head outside the database', () => {
  it('an intact chain, and one whose oldest entries retention removed, verify', () => {
    const { anchors, problems } = anchorsOf(chain(1, 10));
    expect(problems).to.deep.equal([]);
    expect(anchorProblems(anchors, chain(1, 10), at)).to.deep.equal([]);
    const afterFloor = new Date(at.getTime() + 31 * 86_400_000);
    expect(anchorProblems(anchors, chain(4, 12), afterFloor)).to.deep.equal([]);
  });

  it('oldest entries deleted before retention could have pruned them: found, naming the entry', () => {
    const { anchors } = anchorsOf(chain(1, 10));
    const problems = anchorProblems(anchors, chain(4, 10), new Date(at.getTime() + 86_400_000));
    expect(problems.map((p) => p.seq)).to.deep.equal(['3', '2', '1']);
    expect(problems[0]!.message).to.equal(
      'audit chain cut: anchored entry seq 3 (hash h3, anchored at 2026-12-05T12:00:00.000Z) is missing, and retention deletes only entries older than 30 days',
    );
  });

  it('newest entries deleted: truncated, naming the anchored entry', () => {
    const { anchors } = anchorsOf(chain(1, 10));
    const problems = anchorProblems(anchors, chain(1, 8));
    expect(problems).to.have.length(1);
    expect(problems[0]).to.deep.equal({
      seq: '10',
      message:
        'audit chain truncated: anchored entry seq 10 (hash h10, anchored at 2026-12-05T12:00:00.000Z) is missing; the newest entry in the database is seq 8',
    });
    expect(anchorProblems(anchors, [])[0]!.message).to.include('the newest entry in the database is none');
  });

  it('truncated and then appended to (ids go on), or rewritten: still found', () => {
    const { anchors } = anchorsOf(chain(1, 10));
    const appended = [...chain(1, 8), { seq: '11', hash: 'h11' }];
    expect(
      anchorProblems(anchors, appended)
        .map((p) => p.message)
        .join(),
    )
      .to.include('anchored entry seq 10')
      .and.include('missing from the middle');
    const rewritten = [...chain(1, 9), { seq: '10', hash: 'forged' }];
    expect(anchorProblems(anchors, rewritten)).to.deep.equal([
      { seq: '10', message: 'audit chain rewritten: entry seq 10 has hash forged, but was anchored with hash h10 at 2026-12-05T12:00:00.000Z' },
    ]);
  });

  it('a line edited, forged with another key, or not an anchor is reported; the others still count', () => {
    const lines = chain(1, 3).map((h) => anchorLine(KEY, h, at));
    lines[1] = lines[1]!.replace('"hash":"h2"', '"hash":"hX"');
    lines.push(anchorLine(OTHER_KEY, { seq: '4', hash: 'h4' }, at), 'not json\n');
    const { anchors, problems } = parseAnchors(lines.join(''), KEY, 'anchors.jsonl');
    expect(anchors.map((a) => a.seq)).to.deep.equal(['1', '3']);
    expect(problems).to.deep.equal([
      "audit anchor file anchors.jsonl line 2 (seq 2): bad HMAC; the line was altered or not written with this control plane's key",
      "audit anchor file anchors.jsonl line 4 (seq 4): bad HMAC; the line was altered or not written with this control plane's key",
      'audit anchor file anchors.jsonl line 5 is not an anchor record',
    ]);
  });

  it('creates its key 0600 in a 0700 folder, appends, and reads back', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'anchor-'));
    try {
      const keyFile = path.join(dir, 'secrets', 'control-plane', 'audit-anchor.key');
      const file = path.join(dir, 'run', 'audit-anchor.jsonl');
      const anchor = new AuditAnchorFile(file, keyFile);
      expect(anchor.read()).to.deep.equal({ anchors: [], problems: [] });
      anchor.append({ seq: '1', hash: 'h1' }, at);
      new AuditAnchorFile(file, keyFile).append({ seq: '2', hash: 'h2' }, at); // the same key again
      expect(anchor.read().anchors.map((a) => a.seq)).to.deep.equal(['1', '2']);
      expect(fs.statSync(keyFile).mode & 0o777).to.equal(0o600);
      expect(fs.statSync(path.dirname(keyFile)).mode & 0o777).to.equal(0o700);
      expect(fs.statSync(file).mode & 0o777).to.equal(0o600);
      expect(fs.readFileSync(file, 'utf8')).to.not.include(fs.readFileSync(keyFile, 'utf8').trim());
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
