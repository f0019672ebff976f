package uk.nhs.fhirmesh.trino;

import io.trino.spi.connector.ConnectorSession;
import io.trino.spi.connector.ConnectorSplitManager;
import io.trino.spi.connector.ConnectorSplitSource;
import io.trino.spi.connector.ConnectorTableHandle;
import io.trino.spi.connector.ConnectorTransactionHandle;
import io.trino.spi.connector.Constraint;
import io.trino.spi.connector.DynamicFilter;
import uk.nhs.fhirmesh.client.FhirEndpoint;
import uk.nhs.fhirmesh.client.FhirRequestException;
import uk.nhs.fhirmesh.client.FhirSearchClient;
import uk.nhs.fhirmesh.client.TraceContext;
import uk.nhs.fhirmesh.search.FhirSearch;
import uk.nhs.fhirmesh.search.SearchValues;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * One split per domain the table reads from (its mapping's {@code domains}, else all of the catalog's),
 * and for a domain whose search matches many resources, several splits over disjoint {@code _lastUpdated}
 * ranges ({@code lt b1}, {@code ge b1&lt b2}, ..., {@code ge bn}): the open first and last ranges make
 * sure no resource falls outside every split, so Trino can read one endpoint with several drivers, or
 * workers, at once.
 */
final class FhirSplitManager
        implements ConnectorSplitManager
{
    private final FhirCatalog catalog;
    private final FhirSearchClient client;
    /**
     * Where domains are planned, shared by the catalog's queries on this node: fhir.split.planning-concurrency threads
     * (each waits for one endpoint's answers), ended when idle, so an idle catalog holds none.
     */
    private final ThreadPoolExecutor planner;

    FhirSplitManager(FhirCatalog catalog, FhirSearchClient client)
    {
        this.catalog = catalog;
        this.client = client;
        int threads = catalog.config().splitPlanningConcurrency();
        this.planner = new ThreadPoolExecutor(threads, threads, 30, TimeUnit.SECONDS, new LinkedBlockingQueue<>(),
                Thread.ofPlatform().daemon().name("fhir-split-planning-", 0).factory());
        planner.allowCoreThreadTimeOut(true);
    }

    /** Cancels the planning under way; the catalog is being dropped. */
    void shutdown()
    {
        planner.shutdownNow();
    }

    @Override
    public ConnectorSplitSource getSplits(ConnectorTransactionHandle transaction, ConnectorSession session, ConnectorTableHandle table, DynamicFilter dynamicFilter, Constraint constraint)
    {
        FhirTableHandle handle = (FhirTableHandle) table;
        TraceContext trace = TraceContext.of(session.getTraceToken(), session.getQueryId());
        // The domains of the mapping version the query resolved (a publish since does not change this scan),
        // less those the session skips (skip_domains: read as if they had no rows).
        List<String> allowed = catalog.domains(handle.tableName(), catalog.mapping(handle));
        List<String> domains = handle.domains().stream()
                .filter(domain -> allowed.contains(domain) && !handle.skippedDomains().contains(domain))
                .toList();
        // Lazy: a dynamic filter on the domain column (e.g. IN (SELECT domain FROM mesh.domains WHERE ...)) can
        // still drop domains before any of them is asked.
        return new DomainSplitSource(domains, dynamicFilter, catalog.config().dynamicFilteringWaitTimeout(), planner, catalog.config().splitPlanningConcurrency(), domain -> {
            try {
                return domainSplits(handle, domain, trace);
            }
            catch (FhirRequestException e) {
                throw FhirErrors.toTrino(e);
            }
        });
    }

    private List<FhirSplit> domainSplits(FhirTableHandle handle, String domain, TraceContext trace)
    {
        FhirSearch search = handle.searchWithElements();
        if (handle.sort().isPresent() && !client.appliesSort(catalog.endpoint(domain), handle.search(), handle.sort().get().parameter(), trace)) {
            // The server ignores the sort, so its first rows are not the first in order: read them all.
            return List.of(new FhirSplit(domain, search.without("_sort"), OptionalLong.empty()));
        }
        if (handle.limit().isPresent()) {
            // A LIMIT reads the first page or two; slicing would only add requests.
            return List.of(new FhirSplit(domain, search, handle.limit()));
        }
        FhirEndpoint endpoint = catalog.endpoint(domain);
        long matches = client.count(endpoint, handle.search(), trace);
        if (matches == 0) {
            return List.of();
        }
        if (handle.countOnly()) {
            // Trino needs only how many rows (one per resource): this count is the domain's whole answer.
            return List.of(new FhirSplit(domain, search, OptionalLong.empty(), OptionalLong.of(matches)));
        }
        long slices = Math.min(catalog.config().maxSplitsPerDomain(), (matches + catalog.config().resourcesPerSplit() - 1) / catalog.config().resourcesPerSplit());
        if (slices <= 1) {
            return List.of(new FhirSplit(domain, search, handle.limit()));
        }
        Optional<Instant> first = client.lastUpdatedBound(endpoint, handle.search(), false, trace);
        Optional<Instant> last = client.lastUpdatedBound(endpoint, handle.search(), true, trace);
        // Bounds outside FHIR's years (0001..9999) have no FHIR spelling: such a server is read in one split.
        if (first.isEmpty() || last.isEmpty() || !last.get().isAfter(first.get())
                || SearchValues.instant(first.get()).isEmpty() || SearchValues.instant(last.get()).isEmpty()) {
            return List.of(new FhirSplit(domain, search, handle.limit()));
        }
        List<FhirSplit> splits = new ArrayList<>();
        long from = first.get().toEpochMilli();
        long span = last.get().toEpochMilli() - from;
        Instant previous = null;
        for (long i = 1; i <= slices; i++) {
            Instant boundary = i == slices ? null : Instant.ofEpochMilli(from + span * i / slices);
            // Every slice bound lies between the lowest and highest _lastUpdated of the search's own
            // matches, so it replaces a pushed-down last_updated bound in its direction without widening.
            FhirSearch slice = search;
            if (previous != null) {
                slice = slice.withoutBound("_lastUpdated", false).with("_lastUpdated", "ge" + SearchValues.instant(previous).orElseThrow());
            }
            if (boundary != null) {
                slice = slice.withoutBound("_lastUpdated", true).with("_lastUpdated", "lt" + SearchValues.instant(boundary).orElseThrow());
            }
            splits.add(new FhirSplit(domain, slice, handle.limit()));
            previous = boundary;
        }
        return splits;
    }
}
