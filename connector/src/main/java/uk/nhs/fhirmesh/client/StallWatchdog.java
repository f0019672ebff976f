package uk.nhs.fhirmesh.client;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Aborts response bodies whose reads stay blocked longer than the request timeout. The JDK client's
 * timeout ends once the headers arrive, so a server stalling mid-body would otherwise hang a query.
 * Only time spent blocked in {@code read} counts: a slow consumer of a page is not a stalled server.
 */
final class StallWatchdog
        implements AutoCloseable
{
    private static final long NOT_READING = Long.MIN_VALUE;

    private final long limitNanos;
    private final Set<WatchedBody> bodies = ConcurrentHashMap.newKeySet();
    private final ScheduledExecutorService sweeper = Executors.newSingleThreadScheduledExecutor(
            Thread.ofPlatform().daemon().name("fhir-mesh-stall-watchdog").factory());

    StallWatchdog(Duration limit)
    {
        this.limitNanos = limit.toNanos();
        long period = Math.clamp(limit.toMillis() / 4, 10, 1000);
        sweeper.scheduleWithFixedDelay(this::sweep, period, period, TimeUnit.MILLISECONDS);
    }

    /** {@code body} watched for stalls, its bytes added to {@code bytesRead}. */
    InputStream watch(InputStream body, AtomicLong bytesRead)
    {
        WatchedBody watched = new WatchedBody(body, bytesRead);
        bodies.add(watched);
        return watched;
    }

    private void sweep()
    {
        long now = System.nanoTime();
        for (WatchedBody body : bodies) {
            long since = body.blockedSince;
            if (since != NOT_READING && now - since > limitNanos) {
                body.abort();
            }
        }
    }

    @Override
    public void close()
    {
        sweeper.shutdownNow();
    }

    /** Thrown by a read that the watchdog aborted. */
    static final class StalledException
            extends IOException
    {
        StalledException()
        {
            super("no response data within the request timeout");
        }
    }

    private final class WatchedBody
            extends FilterInputStream
    {
        private final AtomicLong bytesRead;
        private volatile long blockedSince = NOT_READING;
        private volatile boolean stalled;

        private WatchedBody(InputStream body, AtomicLong bytesRead)
        {
            super(body);
            this.bytesRead = bytesRead;
        }

        @Override
        public int read()
                throws IOException
        {
            byte[] one = new byte[1];
            return read(one, 0, 1) == -1 ? -1 : one[0] & 0xff;
        }

        @Override
        public int read(byte[] buffer, int offset, int length)
                throws IOException
        {
            blockedSince = System.nanoTime();
            try {
                int read = super.read(buffer, offset, length);
                if (read > 0) {
                    bytesRead.addAndGet(read);
                }
                return read;
            }
            catch (IOException e) {
                throw stalled ? new StalledException() : e;
            }
            finally {
                blockedSince = NOT_READING;
            }
        }

        private void abort()
        {
            stalled = true;
            try {
                in.close();
            }
            catch (IOException ignored) {
                // The blocked reader sees the failure.
            }
        }

        @Override
        public void close()
                throws IOException
        {
            bodies.remove(this);
            super.close();
        }
    }
}
