package uk.nhs.fhirmesh.view.fhirpath;

import uk.nhs.fhirmesh.view.fhirpath.Token.Kind;

import java.util.ArrayList;
import java.util.List;

/** Splits a FHIRPath expression into tokens (FHIRPath N1 lexical rules, without quantity units). */
final class Lexer
{
    private static final List<String> SYMBOLS = List.of("<=", ">=", "!=", "!~", ".", "[", "]", "(", ")", "{", "}", ",",
            "+", "-", "*", "/", "&", "|", "=", "~", "<", ">");

    private final String text;
    private int position;

    private Lexer(String text)
    {
        this.text = text;
    }

    static List<Token> tokenize(String text)
    {
        return new Lexer(text).tokens();
    }

    private List<Token> tokens()
    {
        List<Token> tokens = new ArrayList<>();
        while (true) {
            skipWhitespaceAndComments();
            if (position >= text.length()) {
                tokens.add(new Token(Kind.END, "", position));
                return tokens;
            }
            tokens.add(next());
        }
    }

    private Token next()
    {
        int start = position;
        char c = text.charAt(position);
        if (c == '\'') {
            return new Token(Kind.STRING, quoted('\''), start);
        }
        if (c == '`') {
            return new Token(Kind.DELIMITED_IDENTIFIER, quoted('`'), start);
        }
        if (isDigit(c)) {
            return number(start);
        }
        if (isIdentifierStart(c)) {
            return new Token(Kind.IDENTIFIER, identifier(), start);
        }
        if (c == '%') {
            position++;
            if (position < text.length() && (text.charAt(position) == '`' || text.charAt(position) == '\'')) {
                return new Token(Kind.CONSTANT, quoted(text.charAt(position)), start);
            }
            return new Token(Kind.CONSTANT, requireIdentifier("'%'"), start);
        }
        if (c == '$') {
            position++;
            return new Token(Kind.VARIABLE, requireIdentifier("'$'"), start);
        }
        if (c == '@') {
            return dateTime(start);
        }
        for (String symbol : SYMBOLS) {
            if (text.startsWith(symbol, position)) {
                position += symbol.length();
                return new Token(Kind.SYMBOL, symbol, start);
            }
        }
        throw error("unexpected character '" + c + "'", start);
    }

    private void skipWhitespaceAndComments()
    {
        while (position < text.length()) {
            char c = text.charAt(position);
            if (Character.isWhitespace(c)) {
                position++;
            }
            else if (text.startsWith("//", position)) {
                int end = text.indexOf('\n', position);
                position = end < 0 ? text.length() : end + 1;
            }
            else if (text.startsWith("/*", position)) {
                int end = text.indexOf("*/", position + 2);
                if (end < 0) {
                    throw error("unterminated comment", position);
                }
                position = end + 2;
            }
            else {
                return;
            }
        }
    }

    private Token number(int start)
    {
        while (position < text.length() && isDigit(text.charAt(position))) {
            position++;
        }
        boolean decimal = position + 1 < text.length() && text.charAt(position) == '.' && isDigit(text.charAt(position + 1));
        if (decimal) {
            position++;
            while (position < text.length() && isDigit(text.charAt(position))) {
                position++;
            }
        }
        String digits = text.substring(start, position);
        if (!decimal && position < text.length() && text.charAt(position) == 'L') {
            position++;
            return new Token(Kind.LONG_NUMBER, digits, start);
        }
        return new Token(Kind.NUMBER, digits, start);
    }

    /** Date/time literals are scanned generously here and validated by {@link PartialTemporal#parse}. */
    private Token dateTime(int start)
    {
        position++;
        boolean time = position < text.length() && text.charAt(position) == 'T';
        if (time) {
            position++;
        }
        int valueStart = position;
        while (position < text.length()) {
            char c = text.charAt(position);
            boolean fraction = c == '.' && position + 1 < text.length() && isDigit(text.charAt(position + 1));
            if (!(isDigit(c) || c == '-' || c == ':' || c == 'T' || c == 'Z' || c == '+' || fraction)) {
                break;
            }
            position++;
        }
        String value = text.substring(valueStart, position);
        if (value.isEmpty()) {
            throw error("invalid date/time literal", start);
        }
        return new Token(time ? Kind.TIME : Kind.DATE_TIME, value, start);
    }

    private String identifier()
    {
        int start = position;
        while (position < text.length() && isIdentifierPart(text.charAt(position))) {
            position++;
        }
        return text.substring(start, position);
    }

    private String requireIdentifier(String after)
    {
        if (position >= text.length() || !isIdentifierStart(text.charAt(position))) {
            throw error("expected a name after " + after, position);
        }
        return identifier();
    }

    private String quoted(char quote)
    {
        int start = position;
        position++;
        StringBuilder value = new StringBuilder();
        while (position < text.length()) {
            char c = text.charAt(position++);
            if (c == quote) {
                return value.toString();
            }
            if (c != '\\') {
                value.append(c);
                continue;
            }
            if (position >= text.length()) {
                break;
            }
            char escaped = text.charAt(position++);
            switch (escaped) {
                case 'n' -> value.append('\n');
                case 'r' -> value.append('\r');
                case 't' -> value.append('\t');
                case 'f' -> value.append('\f');
                case 'u' -> {
                    if (position + 4 > text.length()) {
                        throw error("bad unicode escape", position - 2);
                    }
                    try {
                        value.append((char) Integer.parseInt(text.substring(position, position + 4), 16));
                    }
                    catch (NumberFormatException e) {
                        throw error("bad unicode escape", position - 2);
                    }
                    position += 4;
                }
                default -> value.append(escaped);
            }
        }
        throw error("unterminated " + (quote == '`' ? "identifier" : "string"), start);
    }

    private FhirPathException error(String message, int at)
    {
        return new FhirPathException(message + " at position " + at);
    }

    private static boolean isDigit(char c)
    {
        return c >= '0' && c <= '9';
    }

    private static boolean isIdentifierStart(char c)
    {
        return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
    }

    private static boolean isIdentifierPart(char c)
    {
        return isIdentifierStart(c) || isDigit(c);
    }
}
