package uk.nhs.fhirmesh.search;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * The longest search URL the connector sends (catalog property {@code fhir.search.max-url-length}). Servers
 * refuse longer ones: HAPI on Tomcat answers HTTP 400 once the request line and headers pass 8 kB.
 * <p>
 * The rule: a planned search whose URL would be longer loses its pushed parameters, the longest first, until
 * it fits. Every pushed parameter only narrows, and Trino re-checks every predicate, so the answer is the
 * same; only more is read. A search is never split into several (an IN list in chunks, say) whose results
 * are concatenated: a resource matching two chunks would be returned twice.
 * <p>
 * The fit is made when the filter is planned, so EXPLAIN shows the search that is sent. What is added
 * later has room kept for it: {@code _elements} (at most the table's widest), and the client's and
 * split manager's control parameters ({@link #CONTROL_PARAMETERS}).
 */
public record SearchUrlLimit(int maxLength)
{
    /**
     * Room for {@code _count}, {@code _summary=count} or {@code _sort=-_lastUpdated}, and two
     * {@code _lastUpdated} slice bounds with nanoseconds: about 130 characters, rounded up.
     */
    static final int CONTROL_PARAMETERS = 200;

    /**
     * @param baseUrlLength the longest base URL the search may be sent to
     * @param elementsLength the length of the longest {@code &_elements=...} a projection may add, 0 when none
     */
    public FhirSearch fit(FhirSearch search, int baseUrlLength, int elementsLength)
    {
        // base + "/" + resource type + "?" + query + elements + control parameters
        int budget = maxLength - baseUrlLength - search.resourceType().length() - 2 - elementsLength - CONTROL_PARAMETERS;
        List<FhirSearch.Parameter> kept = new ArrayList<>(search.parameters());
        while (!kept.isEmpty() && new FhirSearch(search.resourceType(), kept).queryString().length() > budget) {
            kept.remove(kept.stream().max(Comparator.comparingInt(SearchUrlLimit::encodedLength)).orElseThrow());
        }
        return kept.size() == search.parameters().size() ? search : new FhirSearch(search.resourceType(), kept);
    }

    private static int encodedLength(FhirSearch.Parameter parameter)
    {
        return FhirSearch.of("x").with(parameter.name(), parameter.value()).queryString().length();
    }
}
