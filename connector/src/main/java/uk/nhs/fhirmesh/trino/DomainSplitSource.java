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
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.function.Function;

import static java.util.concurrent.TimeUnit.NANOSECONDS;

/**
 * The splits of a scan, planned only when Trino asks for them, several domains at once. When a dynamic filter (a join or
 * {@code IN (subquery)} on the {@code domain} column) may still narrow the domains, it first waits for that filter,
 * at most {@code wait} from creation, so a domain the filter excludes is never asked anything, not even the count
 * that planning its splits costs. Past the wait it plans with whatever the filter holds by then: Trino applies the
 * filter to the rows anyway, so the answer is the same, only dearer.
 * <p>
 * Planning a domain asks its endpoint (a count, perhaps {@code _lastUpdated} bounds), so domains are planned on the
 * catalog's planning pool, at most {@code maxInFlight} of this source at a time: with many endpoints the round trips
 * overlap instead of adding up, and a source submitting its next domain only as one finishes lets concurrent queries'
 * domains take turns in the pool. Splits are handed out in domain order, a batch once it is full or every domain is
 * planned (as when domains were planned one by one), so batches do not depend on which endpoint answered first. The first domain that fails
 * fails the source with its error (which names the domain); the domains still being planned are cancelled. Trino's
 * threads never wait here: {@link #getNextBatch} returns a future that completes when its batch is.
 */
final class DomainSplitSource
        implements ConnectorSplitSource
{
    private static final ConnectorSplitBatch NOTHING_YET = new ConnectorSplitBatch(List.of(), false);

    /** One domain being planned, or planned: its splits once known. */
    private static final class DomainPlan
    {
        private final String domain;
        private final CompletableFuture<List<? extends ConnectorSplit>> splits = new CompletableFuture<>();
        private Future<?> task;

        private DomainPlan(String domain)
        {
            this.domain = domain;
        }
    }

    private final List<String> domains;
    private final DynamicFilter dynamicFilter;
    private final long waitUntilNanos;
    private final Function<String, List<? extends ConnectorSplit>> planDomain;
    private final ExecutorService planner;
    private final int maxInFlight;
    /** The domains to plan, in catalog order; null while the dynamic filter is awaited. */
    private List<String> admitted;
    /** The domains submitted so far, in catalog order. */
    private final List<DomainPlan> plans = new ArrayList<>();
    private int inFlight;
    /** The first domain (in {@link #plans}) whose splits have not been handed to {@link #ready} yet. */
    private int nextToEmit;
    private final Deque<ConnectorSplit> ready = new ArrayDeque<>();
    private RuntimeException failure;
    private boolean closed;

    /**
     * @param domains the domains the scan reads, in catalog order
     * @param planner where domains are planned (the catalog's pool, bounded and shared by its queries)
     * @param maxInFlight the most domains of this source submitted to {@code planner} at once
     * @param planDomain the splits of one domain (may ask the domain's endpoint, e.g. how many resources match)
     */
    DomainSplitSource(List<String> domains, DynamicFilter dynamicFilter, Duration wait, ExecutorService planner, int maxInFlight,
            Function<String, List<? extends ConnectorSplit>> planDomain)
    {
        this.domains = List.copyOf(domains);
        this.dynamicFilter = dynamicFilter;
        this.waitUntilNanos = System.nanoTime() + (coversDomainColumn(dynamicFilter) ? wait.toNanos() : 0);
        this.planner = planner;
        this.maxInFlight = maxInFlight;
        this.planDomain = planDomain;
    }

    @Override
    public CompletableFuture<ConnectorSplitBatch> getNextBatch(int maxSize)
    {
        CompletableFuture<?> head;
        synchronized (this) {
            if (closed) {
                return CompletableFuture.failedFuture(new IllegalStateException("the split source is closed"));
            }
            if (admitted == null) {
                long waitNanos = waitUntilNanos - System.nanoTime();
                if (waitNanos > 0 && dynamicFilter.isAwaitable()) {
                    // Trino asks again when this completes: the filter arrived, or the wait is over.
                    return dynamicFilter.isBlocked().thenApply(ignored -> NOTHING_YET).completeOnTimeout(NOTHING_YET, waitNanos, NANOSECONDS);
                }
                admitted = admitted(domains, dynamicFilter.getCurrentPredicate());
                submitMore();
            }
            if (failure != null) {
                return CompletableFuture.failedFuture(failure);
            }
            while (nextToEmit < plans.size() && plans.get(nextToEmit).splits.isDone() && !plans.get(nextToEmit).splits.isCompletedExceptionally()) {
                ready.addAll(plans.get(nextToEmit).splits.join());
                nextToEmit++;
            }
            // As when domains were planned one by one: a batch is full, or holds the last splits.
            if (ready.size() >= maxSize || allPlanned()) {
                List<ConnectorSplit> batch = new ArrayList<>();
                while (batch.size() < maxSize && !ready.isEmpty()) {
                    batch.add(ready.removeFirst());
                }
                return CompletableFuture.completedFuture(new ConnectorSplitBatch(batch, isFinished()));
            }
            head = plans.get(nextToEmit).splits;
        }
        // Looked at again once the next domain in order is planned (or failed, or was cancelled): never under this lock.
        // Completed by hand rather than with thenCompose, which would hand Trino the domain's error wrapped in a CompletionException.
        CompletableFuture<ConnectorSplitBatch> batch = new CompletableFuture<>();
        head.whenComplete((splits, headError) -> getNextBatch(maxSize).whenComplete((next, error) -> {
            if (error != null) {
                batch.completeExceptionally(error instanceof CompletionException && error.getCause() != null ? error.getCause() : error);
            }
            else {
                batch.complete(next);
            }
        }));
        return batch;
    }

    @Override
    public synchronized boolean isFinished()
    {
        return allPlanned() && ready.isEmpty();
    }

    @Override
    public void close()
    {
        List<DomainPlan> unfinished;
        synchronized (this) {
            closed = true;
            unfinished = unfinished();
        }
        cancel(unfinished, "the split source was closed");
    }

    private boolean allPlanned()
    {
        return admitted != null && failure == null && nextToEmit == admitted.size();
    }

    /** Submits the next domains, up to {@link #maxInFlight} of this source planning at once. */
    private void submitMore()
    {
        while (!closed && failure == null && inFlight < maxInFlight && plans.size() < admitted.size()) {
            DomainPlan plan = new DomainPlan(admitted.get(plans.size()));
            plans.add(plan);
            inFlight++;
            try {
                plan.task = planner.submit(() -> plan(plan));
            }
            catch (RejectedExecutionException e) {
                // The catalog is shutting down.
                failure = new IllegalStateException("split planning of FHIR domain " + plan.domain + " could not start: the catalog is shutting down", e);
                plan.splits.completeExceptionally(failure);
            }
        }
    }

    private void plan(DomainPlan plan)
    {
        List<? extends ConnectorSplit> splits = null;
        RuntimeException error = null;
        try {
            splits = planDomain.apply(plan.domain);
        }
        catch (RuntimeException e) {
            error = e;
        }
        List<DomainPlan> cancelled = List.of();
        synchronized (this) {
            inFlight--;
            if (error != null && failure == null && !closed) {
                // The first failure is the source's; the others being planned would only be wasted requests.
                failure = error;
                cancelled = unfinished().stream().filter(other -> other != plan).toList();
            }
            submitMore();
        }
        cancel(cancelled, "FHIR domain " + plan.domain + " failed");
        if (error != null) {
            plan.splits.completeExceptionally(error);
        }
        else {
            plan.splits.complete(splits);
        }
    }

    private List<DomainPlan> unfinished()
    {
        return plans.stream().filter(plan -> !plan.splits.isDone()).toList();
    }

    private static void cancel(List<DomainPlan> plans, String reason)
    {
        for (DomainPlan plan : plans) {
            if (plan.task != null) {
                plan.task.cancel(true);
            }
            plan.splits.completeExceptionally(new CancellationException("split planning of FHIR domain " + plan.domain + " cancelled: " + reason));
        }
    }

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
