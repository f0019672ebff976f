package uk.nhs.fhirmesh.search;

import io.airlift.slice.Slice;
import io.airlift.slice.Slices;

import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Optional;

/**
 * Which SQL values a FHIR search can carry, and how they are spelt. A value outside these rules is not
 * pushed: Trino re-checks every predicate, so leaving it out only reads more, whereas sending it makes
 * servers fail the query or, worse, match other resources. Measured on HAPI FHIR 8 (connector-spec/pushdown-rules.md):
 * NUL in a value gives HTTP 500 from PostgreSQL; year 10000 is spelt {@code +10000} and refused (HAPI-1941);
 * year -3000 printed with year-of-era would read as 3001; string values over 768 characters are refused (HAPI-1260).
 */
public final class SearchValues
{
    /** FHIR dates and instants have four-digit years, 0001 to 9999. */
    public static final int FIRST_YEAR = 1;
    public static final int LAST_YEAR = 9999;

    /**
     * Longest token or string value sent. HAPI indexes at most 200 characters of a token value (and, in older
     * versions, of a string), so a longer search value could miss resources it should match.
     */
    public static final int MAX_TEXT_LENGTH = 200;

    // uuuu is the proleptic year; yyyy would be year-of-era, and no sign is ever printed within 0001..9999.
    private static final DateTimeFormatter DATE = DateTimeFormatter.ofPattern("uuuu-MM-dd");

    private SearchValues() {}

    /** {@code 2020-01-31}, or empty for a year outside 0001..9999. */
    public static Optional<String> date(LocalDate date)
    {
        return inRange(date.getYear()) ? Optional.of(DATE.format(date)) : Optional.empty();
    }

    /** {@code 2020-01-31T10:00:00Z} (with a fraction only when it has one), or empty for a UTC year outside 0001..9999. */
    public static Optional<String> instant(Instant instant)
    {
        int year = instant.atOffset(ZoneOffset.UTC).getYear();
        return inRange(year) ? Optional.of(DateTimeFormatter.ISO_INSTANT.format(instant)) : Optional.empty();
    }

    /**
     * Whether a token or string value can be sent: at most {@link #MAX_TEXT_LENGTH} characters, and no control
     * character (U+0000–U+001F, U+007F–U+009F) or unpaired surrogate. FHIR strings hold no control
     * characters but tab, CR and LF, and those are left to Trino too: a rule this simple is easy to audit.
     */
    public static boolean isText(String value)
    {
        if (value.isEmpty() || value.length() > MAX_TEXT_LENGTH) {
            return false;
        }
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (Character.isISOControl(c)) {
                return false;
            }
            if (Character.isHighSurrogate(c) && i + 1 < value.length() && Character.isLowSurrogate(value.charAt(i + 1))) {
                i++;
            }
            else if (Character.isSurrogate(c)) {
                return false;
            }
        }
        return true;
    }

    /** The text of a VARCHAR value when it is well-formed UTF-8 and {@link #isText}; decoding would otherwise replace bytes. */
    public static Optional<String> text(Slice value)
    {
        String text = value.toStringUtf8();
        return isText(text) && Slices.utf8Slice(text).equals(value) ? Optional.of(text) : Optional.empty();
    }

    private static boolean inRange(int year)
    {
        return year >= FIRST_YEAR && year <= LAST_YEAR;
    }
}
