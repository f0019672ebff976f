package uk.nhs.fhirmesh.view.fhirpath;

/** One lexical token; {@code text} is the unescaped value for strings, identifiers and constants. */
record Token(Kind kind, String text, int position)
{
    enum Kind
    {
        IDENTIFIER,
        /** A back-quoted identifier: never a keyword. */
        DELIMITED_IDENTIFIER,
        STRING,
        NUMBER,
        LONG_NUMBER,
        /** {@code @2020-01-01}, {@code @2020-01-01T10:00:00Z}; text without the {@code @}. */
        DATE_TIME,
        /** {@code @T10:00}; text without the {@code @T}. */
        TIME,
        /** {@code %name}; text without the {@code %}. */
        CONSTANT,
        /** {@code $this}, {@code $index}, {@code $total}; text without the {@code $}. */
        VARIABLE,
        SYMBOL,
        END
    }

    boolean is(String symbol)
    {
        return kind == Kind.SYMBOL && text.equals(symbol);
    }

    /** A bare identifier used as an operator keyword ({@code and}, {@code div}, ...). */
    boolean isKeyword(String keyword)
    {
        return kind == Kind.IDENTIFIER && text.equals(keyword);
    }

    String describe()
    {
        return kind == Kind.END ? "end of expression" : "'" + text + "'";
    }
}
