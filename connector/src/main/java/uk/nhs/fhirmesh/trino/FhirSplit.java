package uk.nhs.fhirmesh.trino;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonProperty;
import io.trino.spi.connector.ConnectorSplit;
import uk.nhs.fhirmesh.search.FhirSearch;

import java.util.Map;
import java.util.OptionalLong;

import static java.util.Objects.requireNonNull;

/**
 * One FHIR search against one domain's endpoint: a whole domain, or one _lastUpdated slice of it. A count-only
 * scan's split carries {@code countedRows}, the server's count for its search at planning: it yields that many
 * rows without another request.
 */
public record FhirSplit(String domain, FhirSearch search, OptionalLong rowLimit, OptionalLong countedRows)
        implements ConnectorSplit
{
    @JsonCreator
    public FhirSplit(@JsonProperty("domain") String domain, @JsonProperty("search") FhirSearch search, @JsonProperty("rowLimit") OptionalLong rowLimit,
            @JsonProperty("countedRows") OptionalLong countedRows)
    {
        this.domain = requireNonNull(domain, "domain");
        this.search = requireNonNull(search, "search");
        this.rowLimit = requireNonNull(rowLimit, "rowLimit");
        this.countedRows = requireNonNull(countedRows, "countedRows");
    }

    /** A split whose rows are read from the server. */
    public FhirSplit(String domain, FhirSearch search, OptionalLong rowLimit)
    {
        this(domain, search, rowLimit, OptionalLong.empty());
    }

    @Override
    public Map<String, String> getSplitInfo()
    {
        return countedRows.isPresent()
                ? Map.of("domain", domain, "search", search.toString(), "countedRows", Long.toString(countedRows.getAsLong()))
                : Map.of("domain", domain, "search", search.toString());
    }

    @Override
    public long getRetainedSizeInBytes()
    {
        return 256L + search.toString().length() * 2L;
    }
}
