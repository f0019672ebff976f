// What the gateway needs from a Trino result page (its id, nextUri, error, how many rows) without building
// the rows: a page can hold megabytes of `data`, and parsing it all costs more than relaying it. One pass
// over the bytes finds the top-level `data` array and counts its elements; the rest of the page (small)
// is parsed normally. Pure.

export interface PageSummary {
  /** The page without its `data` member, parsed. */
  fields: Record<string, unknown>;
  rows: number;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const COLON = 0x3a;
const OPEN = new Set([0x5b, 0x7b]); // [ {
const CLOSE = new Set([0x5d, 0x7d]); // ] }
const WHITESPACE = new Set([0x20, 0x09, 0x0a, 0x0d]);

/** undefined when the body is not a JSON object (an HTML error page, an empty body). */
export function summarizePage(body: Buffer): PageSummary | undefined {
  let depth = 0;
  let inString = false;
  let expectKey = false; // at depth 1, after `{` or `,`: the next string is a member name
  let keyStart = -1;
  let lastKey = '';
  let dataStart = -1; // offset of the `[` of the top-level data array
  let dataEnd = -1; // offset just after its `]`
  let rows = 0;
  let sawElement = false;
  const inData = (): boolean => depth === 2 && dataStart >= 0 && dataEnd < 0;
  for (let i = 0; i < body.length; i++) {
    const c = body[i]!;
    if (inString) {
      if (c === BACKSLASH) i++;
      else if (c === QUOTE) {
        inString = false;
        if (keyStart >= 0) lastKey = body.toString('utf8', keyStart, i);
        keyStart = -1;
      }
      continue;
    }
    if (c === QUOTE) {
      inString = true;
      if (depth === 1 && expectKey) keyStart = i + 1;
      if (inData()) sawElement = true;
      continue;
    }
    if (OPEN.has(c)) {
      if (inData()) sawElement = true;
      depth++;
      if (depth === 1) expectKey = true;
      if (depth === 2 && lastKey === 'data' && dataStart < 0 && c === 0x5b) dataStart = i;
      continue;
    }
    if (CLOSE.has(c)) {
      if (inData()) {
        if (sawElement) rows++;
        dataEnd = i + 1;
      }
      depth--;
      continue;
    }
    if (inData()) {
      if (c === COMMA) {
        if (sawElement) rows++;
        sawElement = false;
      } else if (!WHITESPACE.has(c)) sawElement = true;
    } else if (depth === 1 && c === COMMA) {
      expectKey = true;
      lastKey = '';
    } else if (depth === 1 && c === COLON) expectKey = false;
  }
  let rest: string;
  if (dataStart >= 0 && dataEnd > dataStart) rest = `${body.toString('utf8', 0, dataStart)}null${body.toString('utf8', dataEnd)}`;
  else rest = body.toString('utf8');
  try {
    const parsed: unknown = JSON.parse(rest);
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return undefined;
    const fields = parsed as Record<string, unknown>;
    delete fields.data;
    return { fields, rows };
  } catch {
    return undefined;
  }
}
