// A statement Trino would refuse with SYNTAX_ERROR, positioned and worded as Trino words it, so the
// gateway can answer a client exactly as the server behind it would.

export class SqlSyntaxError extends Error {
  override readonly name = 'SqlSyntaxError';

  constructor(
    /** The reason alone, e.g. `mismatched input 'FROM'. Expecting: ...`. */
    readonly reason: string,
    /** 1-based, as Trino reports it. */
    readonly line: number,
    /** 1-based column (Trino adds 1 to ANTLR's 0-based position in the line). */
    readonly column: number,
  ) {
    // Trino's ParsingException message shape: `line 1:8: <reason>`.
    super(`line ${line}:${column}: ${reason}`);
  }
}
