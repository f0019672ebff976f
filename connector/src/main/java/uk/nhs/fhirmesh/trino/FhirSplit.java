package uk.nhs.fhirmesh.trino;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonProperty;
import io.trino.spi.connector.ConnectorSplit;
import uk.nhs.fhirmesh.search.FhirSearch;

import java.util.Map;
import java.util.OptionalLong;

import static java.util.Objects.requireNonNull;

/** One FHIR search against one domain's endpoint: a whole domain, or one _lastUpdated slice of it. */
public record FhirSplit(String domain, FhirSearch search, OptionalLong rowLimit)
        implements ConnectorSplit
{
    @JsonCreator
    public FhirSplit(@JsonProperty("domain") String domain, @JsonProperty("search") FhirSearch search, @JsonProperty("rowLimit") OptionalLong rowLimit)
    {
        this.domain = requireNonNull(domain, "domain");
        this.search = requireNonNull(search, "search");
        this.rowLimit = requireNonNull(rowLimit, "rowLimit");
    }

    @Override
    public Map<String, String> getSplitInfo()
    {
        return Map.of("domain", domain, "search", search.toString());
    }

    @Override
    public long getRetainedSizeInBytes()
    {
        return 256L + search.toString().length() * 2L;
    }
}
