package uk.nhs.fhirmesh.client;

import java.time.Duration;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Request slots per endpoint, shared by every stream of one client, so that many splits reading one
 * server at once cannot flood it. Fair, so that a waiting stream is not starved by faster ones.
 */
final class EndpointPermits
{
    private final int permitsPerEndpoint;
    private final ConcurrentMap<String, Semaphore> semaphores = new ConcurrentHashMap<>();

    EndpointPermits(int permitsPerEndpoint)
    {
        this.permitsPerEndpoint = permitsPerEndpoint;
    }

    int permitsPerEndpoint()
    {
        return permitsPerEndpoint;
    }

    /** A slot of the endpoint, or {@code null} when none became free within {@code timeout}. */
    Permit acquire(FhirEndpoint endpoint, Duration timeout)
            throws InterruptedException
    {
        Semaphore semaphore = semaphores.computeIfAbsent(endpoint.domain() + " " + endpoint.baseUrl(), _ -> new Semaphore(permitsPerEndpoint, true));
        return semaphore.tryAcquire(timeout.toNanos(), TimeUnit.NANOSECONDS) ? new Permit(semaphore) : null;
    }

    /** One held slot; closing it more than once releases it once. */
    static final class Permit
            implements AutoCloseable
    {
        private final Semaphore semaphore;
        private final AtomicBoolean released = new AtomicBoolean();

        private Permit(Semaphore semaphore)
        {
            this.semaphore = semaphore;
        }

        @Override
        public void close()
        {
            if (released.compareAndSet(false, true)) {
                semaphore.release();
            }
        }
    }
}
