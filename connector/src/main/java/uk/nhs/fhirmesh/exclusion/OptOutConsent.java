package uk.nhs.fhirmesh.exclusion;

import com.fasterxml.jackson.databind.JsonNode;

import java.time.Instant;
import java.time.LocalDate;
import java.time.OffsetDateTime;
import java.time.YearMonth;
import java.time.ZoneOffset;
import java.time.format.DateTimeParseException;
import java.util.Optional;

/**
 * A national data opt-out as a trust records it: a Consent that is {@code active}, whose
 * {@code provision.type} is {@code deny}, one of whose {@code policy[].uri} is the opt-out's policy URI, and
 * whose {@code provision.period.end} is absent or still ahead. A provision that has not started yet is honoured
 * already, and an end that cannot be read keeps the opt-out in force: when in doubt, the person is left out.
 *
 * @param patientId the id of the Patient the Consent names by a literal reference ({@code Patient/123}), or null
 * @param nhsNumber the NHS number the Consent names by a logical reference ({@code patient.identifier}), or null
 */
public record OptOutConsent(String patientId, String nhsNumber)
{
    /** The opt-out a Consent records, if it is one in force at {@code now} naming somebody. */
    public static Optional<OptOutConsent> of(JsonNode consent, String policyUri, Instant now)
    {
        if (!"Consent".equals(consent.path("resourceType").asText()) || !"active".equals(consent.path("status").asText())) {
            return Optional.empty();
        }
        JsonNode provision = consent.path("provision");
        if (!"deny".equals(provision.path("type").asText()) || !hasPolicy(consent, policyUri) || ended(provision.path("period").path("end"), now)) {
            return Optional.empty();
        }
        JsonNode patient = consent.path("patient");
        String patientId = patientId(patient.path("reference").asText(""));
        String nhsNumber = PatientRecord.nhsNumber(patient.path("identifier")).orElse(null);
        return patientId == null && nhsNumber == null ? Optional.empty() : Optional.of(new OptOutConsent(patientId, nhsNumber));
    }

    private static boolean hasPolicy(JsonNode consent, String policyUri)
    {
        for (JsonNode policy : consent.path("policy")) {
            if (policyUri.equals(policy.path("uri").asText(null))) {
                return true;
            }
        }
        return false;
    }

    private static boolean ended(JsonNode end, Instant now)
    {
        if (!end.isTextual()) {
            return false;
        }
        return highBoundary(end.asText()).map(boundary -> !boundary.isAfter(now)).orElse(false);
    }

    /**
     * The first instant after a FHIR dateTime's period (2020 -> 2021-01-01T00:00Z, 2020-05-03 -> 2020-05-04T00:00Z,
     * in UTC when no offset is given); empty when the text is not a dateTime.
     */
    static Optional<Instant> highBoundary(String text)
    {
        try {
            return Optional.of(switch (text.length()) {
                case 4 -> LocalDate.of(Integer.parseInt(text) + 1, 1, 1).atStartOfDay().toInstant(ZoneOffset.UTC);
                case 7 -> YearMonth.parse(text).plusMonths(1).atDay(1).atStartOfDay().toInstant(ZoneOffset.UTC);
                case 10 -> LocalDate.parse(text).plusDays(1).atStartOfDay().toInstant(ZoneOffset.UTC);
                default -> OffsetDateTime.parse(text).toInstant();
            });
        }
        catch (DateTimeParseException | NumberFormatException e) {
            return Optional.empty();
        }
    }

    /** The id of a reference to a Patient, relative ({@code Patient/1}, with or without {@code _history}) or absolute. */
    static String patientId(String reference)
    {
        String path = reference.replaceFirst("/_history/[^/]*$", "");
        int at = path.lastIndexOf("Patient/");
        if (at < 0 || (at > 0 && path.charAt(at - 1) != '/')) {
            return null;
        }
        String id = path.substring(at + "Patient/".length());
        return id.matches("[A-Za-z0-9\\-.]{1,64}") ? id : null;
    }
}
