package uk.nhs.fhirmesh.client;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.atomic.AtomicLong;

/** Running totals of one client, over all endpoints, and per domain ({@link DomainRequestMetrics}). */
public final class RequestMetrics
{
    private final ConcurrentMap<String, DomainRequestMetrics> domains = new ConcurrentHashMap<>();
    final AtomicLong requests = new AtomicLong();
    final AtomicLong pages = new AtomicLong();
    final AtomicLong resources = new AtomicLong();
    final AtomicLong bytes = new AtomicLong();
    final AtomicLong retries = new AtomicLong();

    /** HTTP requests sent, retries included. */
    public long requests()
    {
        return requests.get();
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
        return bytes.get();
    }

    /** Requests repeated after a retryable failure. */
    public long retries()
    {
        return retries.get();
    }

    /** The totals of {@code domain}'s endpoint; zero until it has had a request. */
    public DomainRequestMetrics domain(String domain)
    {
        return domains.computeIfAbsent(domain, _ -> new DomainRequestMetrics());
    }

    @Override
    public String toString()
    {
        return "requests=%d pages=%d resources=%d bytes=%d retries=%d".formatted(requests(), pages(), resources(), bytes(), retries());
    }
}
