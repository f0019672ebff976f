package uk.nhs.fhirmesh.exclusion;

import com.fasterxml.jackson.databind.JsonNode;

import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

import static java.util.Objects.requireNonNull;

/**
 * What exclusion needs of one Patient resource: its id, its NHS numbers (identifiers of system
 * {@value #NHS_NUMBER_SYSTEM}, spaces removed, so {@code 943 476 5919} matches {@code 9434765919}) and its
 * security label codes ({@code meta.security[].code}, any system, as the {@code security_labels} column).
 */
public record PatientRecord(String id, List<String> nhsNumbers, Set<String> labels)
{
    public static final String NHS_NUMBER_SYSTEM = "https://fhir.nhs.uk/Id/nhs-number";

    public PatientRecord
    {
        requireNonNull(id, "id");
        nhsNumbers = List.copyOf(nhsNumbers);
        labels = Set.copyOf(labels);
    }

    /** The record of a Patient resource; empty for another resource or one without an id (nothing can refer to it). */
    public static Optional<PatientRecord> of(JsonNode resource)
    {
        String id = resource.path("id").asText("");
        if (!"Patient".equals(resource.path("resourceType").asText()) || id.isEmpty()) {
            return Optional.empty();
        }
        Set<String> numbers = new LinkedHashSet<>();
        for (JsonNode identifier : resource.path("identifier")) {
            nhsNumber(identifier).ifPresent(numbers::add);
        }
        Set<String> labels = new LinkedHashSet<>();
        for (JsonNode label : resource.path("meta").path("security")) {
            String code = label.path("code").asText("");
            if (!code.isEmpty()) {
                labels.add(code);
            }
        }
        return Optional.of(new PatientRecord(id, List.copyOf(numbers), labels));
    }

    /** The NHS number an Identifier holds, if it is one. */
    static Optional<String> nhsNumber(JsonNode identifier)
    {
        if (!NHS_NUMBER_SYSTEM.equals(identifier.path("system").asText())) {
            return Optional.empty();
        }
        String value = identifier.path("value").asText("").replaceAll("\\s+", "");
        return value.isEmpty() ? Optional.empty() : Optional.of(value);
    }
}
