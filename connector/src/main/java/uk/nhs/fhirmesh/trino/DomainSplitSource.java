package uk.nhs.fhirmesh.trino;

import io.airlift.slice.Slices;
import io.trino.spi.connector.ColumnHandle;
import io.trino.spi.connector.ConnectorSplit;
import io.trino.spi.connector.ConnectorSplitSource;
import io.trino.spi.connector.DynamicFilter;
import io.trino.spi.predicate.Domain;
import io.trino.spi.predicate.TupleDomain;
import uk.nhs.fhirmesh.mapping.TableMapping;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;

import static java.util.concurrent.TimeUnit.NANOSECONDS;

/**
 * The splits of a scan, planned domain by domain (until a batch is full) only when Trino asks for them. When a dynamic filter (a join or
 * {@code IN (subquery)} on the {@code domain} column) may still narrow the domains, it first waits for that filter,
 * at most {@code wait} from creation, so a domain the filter excludes is never asked anything, not even the count
 * that planning its splits costs. Past the wait it plans with whatever the filter holds by then: Trino applies the
 * filter to the rows anyway, so the answer is the same, only dearer.
 */
final class DomainSplitSource
        implements ConnectorSplitSource
{
    private static final ConnectorSplitBatch NOTHING_YET = new ConnectorSplitBatch(List.of(), false);

    private final List<String> domains;
    private final DynamicFilter dynamicFilter;
    private final long waitUntilNanos;
    private final Function<String, List<? extends ConnectorSplit>> planDomain;
    private Deque<String> remainingDomains;
    private final Deque<ConnectorSplit> planned = new ArrayDeque<>();

    /**
     * @param domains the domains the scan reads, in catalog order
     * @param planDomain the splits of one domain (may ask the domain's endpoint, e.g. how many resources match)
     */
    DomainSplitSource(List<String> domains, DynamicFilter dynamicFilter, Duration wait, Function<String, List<? extends ConnectorSplit>> planDomain)
    {
        this.domains = List.copyOf(domains);
        this.dynamicFilter = dynamicFilter;
        this.waitUntilNanos = System.nanoTime() + (coversDomainColumn(dynamicFilter) ? wait.toNanos() : 0);
        this.planDomain = planDomain;
    }

    @Override
    public synchronized CompletableFuture<ConnectorSplitBatch> getNextBatch(int maxSize)
    {
        if (remainingDomains == null) {
            long waitNanos = waitUntilNanos - System.nanoTime();
            if (waitNanos > 0 && dynamicFilter.isAwaitable()) {
                // Trino asks again when this completes: the filter arrived, or the wait is over.
                return dynamicFilter.isBlocked().thenApply(ignored -> NOTHING_YET).completeOnTimeout(NOTHING_YET, waitNanos, NANOSECONDS);
            }
            remainingDomains = new ArrayDeque<>(admitted(domains, dynamicFilter.getCurrentPredicate()));
        }
        try {
            while (planned.size() < maxSize && !remainingDomains.isEmpty()) {
                planned.addAll(planDomain.apply(remainingDomains.removeFirst()));
            }
        }
        catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
        List<ConnectorSplit> batch = new ArrayList<>();
        while (batch.size() < maxSize && !planned.isEmpty()) {
            batch.add(planned.removeFirst());
        }
        return CompletableFuture.completedFuture(new ConnectorSplitBatch(batch, isFinished()));
    }

    @Override
    public synchronized boolean isFinished()
    {
        return remainingDomains != null && remainingDomains.isEmpty() && planned.isEmpty();
    }

    @Override
    public void close() {}

    /** The domains a predicate on the {@code domain} column admits; all of them when it does not constrain that column. */
    static List<String> admitted(List<String> domains, TupleDomain<ColumnHandle> predicate)
    {
        if (predicate.isNone()) {
            return List.of();
        }
        Optional<Domain> domainColumn = predicate.getDomains().orElseThrow().entrySet().stream()
                .filter(entry -> isDomainColumn(entry.getKey()))
                .map(Map.Entry::getValue)
                .findFirst();
        return domainColumn
                .map(filter -> domains.stream().filter(code -> filter.includesNullableValue(Slices.utf8Slice(code))).toList())
                .orElse(domains);
    }

    private static boolean coversDomainColumn(DynamicFilter dynamicFilter)
    {
        return dynamicFilter.getColumnsCovered().stream().anyMatch(DomainSplitSource::isDomainColumn);
    }

    private static boolean isDomainColumn(ColumnHandle column)
    {
        return column instanceof FhirColumnHandle handle && handle.name().equals(TableMapping.DOMAIN_COLUMN);
    }
}
