package uk.nhs.fhirmesh.client;

import java.time.Duration;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Request slots per endpoint, and overall across the endpoints, shared by every stream of one client (one catalog on
 * one Trino node), so that many splits reading one server at once cannot flood it, nor many queries over many
 * endpoints flood this node's connections, threads and memory. A request takes its endpoint's slot first, then an
 * overall one: a request queued behind a busy endpoint holds no overall slot that requests to idle endpoints could use.
 * <p>
 * Fairness: both are fair semaphores, so requests are served first come, first served; a request waits only for those
 * that began waiting before it, so no query's request is starved by a later query's, however many streams that one
 * has. Slots go per request, not per query: a query waiting with more requests holds more of them (proportional, not
 * round robin).
 */
final class EndpointPermits
{
    /** No slot became free within the wait; the message says which bound. */
    static final class NoFreeSlotException
            extends Exception
    {
        NoFreeSlotException(String message)
        {
            super(message);
        }
    }

    private final int permitsPerEndpoint;
    private final int permitsOverall;
    private final Semaphore overall;
    private final ConcurrentMap<String, Semaphore> semaphores = new ConcurrentHashMap<>();

    EndpointPermits(int permitsPerEndpoint, int permitsOverall)
    {
        this.permitsPerEndpoint = permitsPerEndpoint;
        this.permitsOverall = permitsOverall;
        this.overall = new Semaphore(permitsOverall, true);
    }

    /** A slot of the endpoint and an overall one, both within {@code timeout} altogether. */
    Permit acquire(FhirEndpoint endpoint, Duration timeout)
            throws InterruptedException, NoFreeSlotException
    {
        long deadline = System.nanoTime() + timeout.toNanos();
        Semaphore semaphore = semaphores.computeIfAbsent(endpoint.domain() + " " + endpoint.baseUrl(), _ -> new Semaphore(permitsPerEndpoint, true));
        if (!semaphore.tryAcquire(timeout.toNanos(), TimeUnit.NANOSECONDS)) {
            throw new NoFreeSlotException("no request slot of %s became free within %s (at most %d concurrent requests per endpoint)"
                    .formatted(endpoint.baseUrl(), Texts.duration(timeout), permitsPerEndpoint));
        }
        boolean acquired = false;
        try {
            acquired = overall.tryAcquire(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
        }
        finally {
            if (!acquired) {
                semaphore.release();
            }
        }
        if (!acquired) {
            throw new NoFreeSlotException("no request slot for %s became free within %s (at most %d concurrent requests over all endpoints of the catalog on this Trino node, fhir.max-concurrent-requests)"
                    .formatted(endpoint.baseUrl(), Texts.duration(timeout), permitsOverall));
        }
        return new Permit(semaphore, overall);
    }

    /** One held slot of an endpoint and one overall; closing it more than once releases them once. */
    static final class Permit
            implements AutoCloseable
    {
        private final Semaphore endpoint;
        private final Semaphore overall;
        private final AtomicBoolean released = new AtomicBoolean();

        private Permit(Semaphore endpoint, Semaphore overall)
        {
            this.endpoint = endpoint;
            this.overall = overall;
        }

        @Override
        public void close()
        {
            if (released.compareAndSet(false, true)) {
                overall.release();
                endpoint.release();
            }
        }
    }
}
