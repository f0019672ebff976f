package uk.nhs.fhirmesh.trino;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonProperty;
import io.trino.spi.connector.ColumnHandle;
import io.trino.spi.connector.ConnectorTableHandle;
import io.trino.spi.connector.SchemaTableName;
import io.trino.spi.predicate.TupleDomain;
import uk.nhs.fhirmesh.mapping.MappingSnapshot;
import uk.nhs.fhirmesh.search.FhirSearch;
import uk.nhs.fhirmesh.search.SearchTranslator.ElementCondition;

import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;

import static java.util.Objects.requireNonNull;

/**
 * A table scan as planned so far: the table's mapping as resolved once for the query (workers read the table
 * from it, never from their own mapping files), which domains to ask and which the session skips, the domains
 * whose patients decide exclusions, the constraint Trino offered (kept to detect
 * when a new offer changes nothing), the FHIR search it translated to, the row limit, the sort that makes
 * the limit a top-N, the elements to request, and whether the scan is count-only (Trino reads no column but
 * {@code domain} and each resource gives one row, so a domain's rows are its server's {@code _summary=count}).
 * {@link #toString()} is what EXPLAIN shows.
 */
public record FhirTableHandle(
        SchemaTableName tableName,
        MappingSnapshot mapping,
        List<String> domains,
        List<String> skippedDomains,
        List<String> patientDomains,
        TupleDomain<ColumnHandle> constraint,
        List<ElementCondition> elementConditions,
        FhirSearch search,
        OptionalLong limit,
        Optional<FhirSort> sort,
        Optional<List<String>> elements,
        boolean countOnly)
        implements ConnectorTableHandle
{
    @JsonCreator
    public FhirTableHandle(
            @JsonProperty("tableName") SchemaTableName tableName,
            @JsonProperty("mapping") MappingSnapshot mapping,
            @JsonProperty("domains") List<String> domains,
            @JsonProperty("skippedDomains") List<String> skippedDomains,
            @JsonProperty("patientDomains") List<String> patientDomains,
            @JsonProperty("constraint") TupleDomain<ColumnHandle> constraint,
            @JsonProperty("elementConditions") List<ElementCondition> elementConditions,
            @JsonProperty("search") FhirSearch search,
            @JsonProperty("limit") OptionalLong limit,
            @JsonProperty("sort") Optional<FhirSort> sort,
            @JsonProperty("elements") Optional<List<String>> elements,
            @JsonProperty("countOnly") boolean countOnly)
    {
        this.tableName = requireNonNull(tableName, "tableName");
        this.mapping = requireNonNull(mapping, "mapping");
        this.domains = List.copyOf(domains);
        this.skippedDomains = List.copyOf(skippedDomains);
        this.patientDomains = List.copyOf(patientDomains);
        this.constraint = requireNonNull(constraint, "constraint");
        this.elementConditions = List.copyOf(elementConditions);
        this.search = requireNonNull(search, "search");
        this.limit = requireNonNull(limit, "limit");
        this.sort = requireNonNull(sort, "sort");
        this.elements = requireNonNull(elements, "elements").map(List::copyOf);
        this.countOnly = countOnly;
    }

    /**
     * @param domains the table's domains the scan asks (the session's skipped ones left out)
     * @param skippedDomains the table's domains the session skips ({@code skip_domains}): no split reads them
     * @param patientDomains the catalog's domains serving a table with a Patient key, as the coordinator saw them
     */
    public static FhirTableHandle scanAll(SchemaTableName tableName, MappingSnapshot mapping, List<String> domains, List<String> skippedDomains, List<String> patientDomains, String resourceType)
    {
        return new FhirTableHandle(tableName, mapping, domains, skippedDomains, patientDomains, TupleDomain.all(), List.of(), FhirSearch.of(resourceType), OptionalLong.empty(), Optional.empty(), Optional.empty(), false);
    }

    /**
     * Trino offers filters over the scan's columns, so a count-only scan only meets {@code domain} filters, which
     * leave the search as it was; a search changed otherwise would need rows re-checked: no longer count-only.
     */
    public FhirTableHandle withFilter(List<String> domains, TupleDomain<ColumnHandle> constraint, List<ElementCondition> elementConditions, FhirSearch search)
    {
        return new FhirTableHandle(tableName, mapping, domains, skippedDomains, patientDomains, constraint, elementConditions, search, limit, sort, elements, countOnly && search.equals(this.search));
    }

    /** A limit makes a split's rows fewer than its server's count: no longer count-only. */
    public FhirTableHandle withLimit(long limit)
    {
        return new FhirTableHandle(tableName, mapping, domains, skippedDomains, patientDomains, constraint, elementConditions, search, OptionalLong.of(limit), sort, elements, false);
    }

    /** The first {@code count} rows in {@code sort}'s order: the search gains {@code _sort}. */
    public FhirTableHandle withTopN(FhirSort sort, long count)
    {
        return new FhirTableHandle(tableName, mapping, domains, skippedDomains, patientDomains, constraint, elementConditions, search.with("_sort", sort.parameter()), OptionalLong.of(count), Optional.of(sort), elements, false);
    }

    public FhirTableHandle withElements(List<String> elements)
    {
        return new FhirTableHandle(tableName, mapping, domains, skippedDomains, patientDomains, constraint, elementConditions, search, limit, sort, Optional.of(elements), countOnly);
    }

    /** See {@link FhirMetadata#applyProjection} for when a scan is count-only. */
    public FhirTableHandle withCountOnly(boolean countOnly)
    {
        return new FhirTableHandle(tableName, mapping, domains, skippedDomains, patientDomains, constraint, elementConditions, search, limit, sort, elements, countOnly);
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
                .append(" domains=").append(String.join(",", domains));
        if (!skippedDomains.isEmpty()) {
            text.append(" skipped=").append(String.join(",", skippedDomains));
        }
        text.append(" search=").append(searchWithElements());
        limit.ifPresent(value -> text.append(" limit=").append(value));
        if (countOnly) {
            text.append(" count-only");
        }
        text.append(" mapping=").append(mapping.shortHash());
        return text.toString();
    }
}
