package uk.nhs.fhirmesh.client;

import com.fasterxml.jackson.databind.JsonNode;

import java.util.ArrayList;
import java.util.List;

/** The human-readable part of an OperationOutcome, for error messages. */
final class OperationOutcomes
{
    static final int MAX_LENGTH = 300;

    private OperationOutcomes() {}

    /**
     * Each issue's {@code diagnostics}, else {@code details.text}, else its {@code code}, joined with "; ",
     * values of the request masked, truncated; empty when there is nothing to say.
     */
    static String summary(JsonNode issues, Redactor redactor)
    {
        List<String> texts = new ArrayList<>();
        for (JsonNode issue : issues) {
            String text = firstText(issue.path("diagnostics"), issue.path("details").path("text"), issue.path("code"));
            if (text != null) {
                texts.add(text);
            }
        }
        return Texts.truncate(redactor.apply(String.join("; ", texts)), MAX_LENGTH);
    }

    private static String firstText(JsonNode... candidates)
    {
        for (JsonNode candidate : candidates) {
            if (candidate.isTextual() && !candidate.asText().isBlank()) {
                return candidate.asText().strip();
            }
        }
        return null;
    }
}
