package uk.nhs.fhirmesh.client;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.ToLongFunction;

/**
 * Running totals of one client, per domain ({@link DomainRequestMetrics}) and over all endpoints: requests, bytes and
 * retries are counted once, per domain, and summed here.
 */
public final class RequestMetrics
{
    private final ConcurrentMap<String, DomainRequestMetrics> domains = new ConcurrentHashMap<>();
    final AtomicLong pages = new AtomicLong();
    final AtomicLong resources = new AtomicLong();

    /** HTTP requests sent, retries included. */
    public long requests()
    {
        return sum(DomainRequestMetrics::requests);
    }

    /** Bundle pages read to their end. */
    public long pages()
    {
        return pages.get();
    }

    /** Resources returned from pages. */
    public long resources()
    {
        return resources.get();
    }

    /** Response body bytes read, error bodies included. */
    public long bytes()
    {
        return sum(DomainRequestMetrics::bytes);
    }

    /** Requests repeated after a retryable failure. */
    public long retries()
    {
        return sum(DomainRequestMetrics::retries);
    }

    /** The totals of {@code domain}'s endpoint; zero until it has had a request. */
    public DomainRequestMetrics domain(String domain)
    {
        return domains.computeIfAbsent(domain, _ -> new DomainRequestMetrics());
    }

    private long sum(ToLongFunction<DomainRequestMetrics> counter)
    {
        return domains.values().stream().mapToLong(counter).sum();
    }

    @Override
    public String toString()
    {
        return "requests=%d pages=%d resources=%d bytes=%d retries=%d".formatted(requests(), pages(), resources(), bytes(), retries());
    }
}
