package uk.nhs.fhirmesh.search;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonProperty;

import java.net.URLEncoder;
import java.util.ArrayList;
import java.util.List;

import static java.nio.charset.StandardCharsets.UTF_8;
import static java.util.Objects.requireNonNull;

/**
 * One FHIR search request, {@code [type]?name=value&...}, as the search translator builds it and the
 * HTTP client sends it. Parameter order is kept so that EXPLAIN output and request logs are stable.
 */
public record FhirSearch(String resourceType, List<Parameter> parameters)
{
    public record Parameter(String name, String value)
    {
        @JsonCreator
        public Parameter(@JsonProperty("name") String name, @JsonProperty("value") String value)
        {
            this.name = requireNonNull(name, "name");
            this.value = requireNonNull(value, "value");
        }
    }

    @JsonCreator
    public FhirSearch(@JsonProperty("resourceType") String resourceType, @JsonProperty("parameters") List<Parameter> parameters)
    {
        this.resourceType = requireNonNull(resourceType, "resourceType");
        this.parameters = List.copyOf(parameters);
    }

    public static FhirSearch of(String resourceType)
    {
        return new FhirSearch(resourceType, List.of());
    }

    public FhirSearch with(String name, String value)
    {
        List<Parameter> next = new ArrayList<>(parameters);
        next.add(new Parameter(name, value));
        return new FhirSearch(resourceType, next);
    }

    /** This search without any parameter named {@code name}. */
    public FhirSearch without(String name)
    {
        return new FhirSearch(resourceType, parameters.stream().filter(parameter -> !parameter.name().equals(name)).toList());
    }

    /**
     * This search without the lower ({@code ge}/{@code gt}) or upper ({@code le}/{@code lt}) bounds on the
     * date parameter {@code name}, so that a tighter bound can take their place: servers refuse two bounds
     * in one direction on one date parameter (HAPI-1923, HAPI-1924).
     */
    public FhirSearch withoutBound(String name, boolean upper)
    {
        List<String> prefixes = upper ? List.of("le", "lt") : List.of("ge", "gt");
        return new FhirSearch(resourceType, parameters.stream()
                .filter(parameter -> !(parameter.name().equals(name) && prefixes.stream().anyMatch(parameter.value()::startsWith)))
                .toList());
    }

    /** URL-encoded query string without the leading {@code ?}; FHIR's {@code ,} and {@code :} stay readable in logs. */
    public String queryString()
    {
        StringBuilder query = new StringBuilder();
        for (Parameter parameter : parameters) {
            if (!query.isEmpty()) {
                query.append('&');
            }
            query.append(encode(parameter.name())).append('=').append(encode(parameter.value()));
        }
        return query.toString();
    }

    /** Path and query relative to an endpoint's base URL, e.g. {@code Condition?code=...}. */
    public String relativeUrl()
    {
        return parameters.isEmpty() ? resourceType : resourceType + "?" + queryString();
    }

    /** Human-readable form for EXPLAIN: unencoded values. */
    @Override
    public String toString()
    {
        StringBuilder text = new StringBuilder(resourceType);
        char separator = '?';
        for (Parameter parameter : parameters) {
            text.append(separator).append(parameter.name()).append('=').append(parameter.value());
            separator = '&';
        }
        return text.toString();
    }

    private static String encode(String text)
    {
        return URLEncoder.encode(text, UTF_8)
                .replace("%2C", ",")
                .replace("%3A", ":");
    }
}
