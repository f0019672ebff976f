// The pseudonym contract the gateway shares with the connector's mesh_pseudonym (connector-spec/
// pseudonym-vectors.json): first 16 bytes of HMAC-SHA256 under the project key, lowercase hex. The Java side
// runs the same file (TestPseudonymizer), so a change on either side fails here or there.

import { createHmac } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { expect } from 'chai';

interface Vector {
  about: string;
  key: string;
  value: string;
  valueUtf8Hex: string;
  pseudonym: string;
}
interface Vectors {
  vectors: Vector[];
  invalidKeys: { about: string; key: string }[];
}

const VECTORS = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', 'connector-spec', 'pseudonym-vectors.json'), 'utf8')) as Vectors;

function pseudonym(keyHex: string, value: string): string {
  return createHmac('sha256', Buffer.from(keyHex, 'hex')).update(value, 'utf8').digest('hex').slice(0, 32);
}

describe('pseudonym vectors shared with the connector', () => {
  it('has vectors with non-ASCII values', () => {
    expect(VECTORS.vectors.length).to.be.at.least(5);
    expect(VECTORS.vectors.some((v) => /[^\x00-\x7f]/.test(v.value))).to.equal(true);
  });

  for (const vector of VECTORS.vectors) {
    it(`Node's HMAC gives the pseudonym of ${vector.about}`, () => {
      expect(Buffer.from(vector.value, 'utf8').toString('hex'), "the value's UTF-8 bytes").to.equal(vector.valueUtf8Hex);
      expect(pseudonym(vector.key, vector.value)).to.equal(vector.pseudonym);
    });
  }

  it('lists as invalid every key that is not exactly 64 lowercase hex characters', () => {
    // Buffer.from(hex) silently drops what it cannot parse: keys must be checked before use, against this shape.
    for (const { about, key } of VECTORS.invalidKeys) expect(/^[0-9a-f]{64}$/.test(key), about).to.equal(false);
    for (const { key } of VECTORS.vectors) expect(key).to.match(/^[0-9a-f]{64}$/);
  });
});
