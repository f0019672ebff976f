package uk.nhs.fhirmesh.trino;

import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeParseException;

/**
 * FHIR date and dateTime text to SQL values. A partial value (2020, 2020-05, or a dateTime given to the
 * day) becomes the start of the period it names, in UTC when it carries no offset: the same low
 * boundary SQL-on-FHIR's lowBoundary() gives, and the one FHIR date search compares against.
 */
final class FhirTemporal
{
    private FhirTemporal() {}

    static long epochDay(String text)
    {
        return lowBoundaryDate(text).toEpochDay();
    }

    static long epochMillis(String text)
    {
        if (text.length() <= 10) {
            return lowBoundaryDate(text).atStartOfDay().toInstant(ZoneOffset.UTC).toEpochMilli();
        }
        try {
            return OffsetDateTime.parse(text.endsWith("Z") ? text.substring(0, text.length() - 1) + "+00:00" : text).toInstant().toEpochMilli();
        }
        catch (DateTimeParseException e) {
            // FHIR requires an offset when a time is given; a value without one is read as UTC.
            return LocalDateTime.parse(text).toInstant(ZoneOffset.UTC).toEpochMilli();
        }
    }

    private static LocalDate lowBoundaryDate(String text)
    {
        return switch (text.length()) {
            case 4 -> LocalDate.of(Integer.parseInt(text), 1, 1);
            case 7 -> LocalDate.of(Integer.parseInt(text.substring(0, 4)), Integer.parseInt(text.substring(5, 7)), 1);
            default -> LocalDate.parse(text.substring(0, 10));
        };
    }
}
