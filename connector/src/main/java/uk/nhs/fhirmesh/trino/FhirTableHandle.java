package uk.nhs.fhirmesh.trino;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonProperty;
import io.trino.spi.connector.ColumnHandle;
import io.trino.spi.connector.ConnectorTableHandle;
import io.trino.spi.connector.SchemaTableName;
import io.trino.spi.predicate.TupleDomain;
import uk.nhs.fhirmesh.search.FhirSearch;
import uk.nhs.fhirmesh.search.SearchTranslator.ElementCondition;

import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;

import static java.util.Objects.requireNonNull;

/**
 * A table scan as planned so far: which domains to ask, the constraint Trino offered (kept to detect
 * when a new offer changes nothing), the FHIR search it translated to, the row limit, the sort that makes
 * the limit a top-N, and the elements to request. {@link #toString()} is what EXPLAIN shows.
 */
public record FhirTableHandle(
        SchemaTableName tableName,
        List<String> domains,
        TupleDomain<ColumnHandle> constraint,
        List<ElementCondition> elementConditions,
        FhirSearch search,
        OptionalLong limit,
        Optional<FhirSort> sort,
        Optional<List<String>> elements)
        implements ConnectorTableHandle
{
    @JsonCreator
    public FhirTableHandle(
            @JsonProperty("tableName") SchemaTableName tableName,
            @JsonProperty("domains") List<String> domains,
            @JsonProperty("constraint") TupleDomain<ColumnHandle> constraint,
            @JsonProperty("elementConditions") List<ElementCondition> elementConditions,
            @JsonProperty("search") FhirSearch search,
            @JsonProperty("limit") OptionalLong limit,
            @JsonProperty("sort") Optional<FhirSort> sort,
            @JsonProperty("elements") Optional<List<String>> elements)
    {
        this.tableName = requireNonNull(tableName, "tableName");
        this.domains = List.copyOf(domains);
        this.constraint = requireNonNull(constraint, "constraint");
        this.elementConditions = List.copyOf(elementConditions);
        this.search = requireNonNull(search, "search");
        this.limit = requireNonNull(limit, "limit");
        this.sort = requireNonNull(sort, "sort");
        this.elements = requireNonNull(elements, "elements").map(List::copyOf);
    }

    public static FhirTableHandle scanAll(SchemaTableName tableName, List<String> domains, String resourceType)
    {
        return new FhirTableHandle(tableName, domains, TupleDomain.all(), List.of(), FhirSearch.of(resourceType), OptionalLong.empty(), Optional.empty(), Optional.empty());
    }

    public FhirTableHandle withFilter(List<String> domains, TupleDomain<ColumnHandle> constraint, List<ElementCondition> elementConditions, FhirSearch search)
    {
        return new FhirTableHandle(tableName, domains, constraint, elementConditions, search, limit, sort, elements);
    }

    public FhirTableHandle withLimit(long limit)
    {
        return new FhirTableHandle(tableName, domains, constraint, elementConditions, search, OptionalLong.of(limit), sort, elements);
    }

    /** The first {@code count} rows in {@code sort}'s order: the search gains {@code _sort}. */
    public FhirTableHandle withTopN(FhirSort sort, long count)
    {
        return new FhirTableHandle(tableName, domains, constraint, elementConditions, search.with("_sort", sort.parameter()), OptionalLong.of(count), Optional.of(sort), elements);
    }

    public FhirTableHandle withElements(List<String> elements)
    {
        return new FhirTableHandle(tableName, domains, constraint, elementConditions, search, limit, sort, Optional.of(elements));
    }

    /** The search each split starts from (before page size and _lastUpdated slicing). */
    public FhirSearch searchWithElements()
    {
        return elements.map(list -> search.with("_elements", String.join(",", list))).orElse(search);
    }

    @Override
    public String toString()
    {
        StringBuilder text = new StringBuilder(tableName.getTableName())
                .append(" domains=").append(String.join(",", domains))
                .append(" search=").append(searchWithElements());
        limit.ifPresent(value -> text.append(" limit=").append(value));
        return text.toString();
    }
}
