package uk.nhs.fhirmesh.client;

import java.util.EnumMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * Running totals of the HTTP requests one client sent to one domain's endpoint, for operators (exported as JMX
 * MBeans by the connector). A request is one HTTP exchange: each retry is another one, as in the server's access log.
 */
public final class DomainRequestMetrics
{
    /** Upper bounds (seconds) of the latency histogram's buckets; a last, unbounded bucket holds the rest. */
    public static final double[] LATENCY_BOUNDS_SECONDS = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60};

    /** Why a request failed, as operators count them. */
    public enum FailureKind
    {
        HTTP_3XX,
        HTTP_4XX,
        HTTP_5XX,
        TIMEOUT,
        /** Refused, reset or lost connection. */
        CONNECTION,
        /** A 2xx answer that is not a readable FHIR Bundle (wrong media type, malformed or truncated JSON, too large). */
        BAD_RESPONSE,
        /** Not sent at all: the endpoint's circuit was open. */
        CIRCUIT_OPEN;

        /** {@code http_4xx}, {@code circuit_open}, ...: as the control plane's metrics label them. */
        public String label()
        {
            return name().toLowerCase(Locale.ROOT);
        }

        static FailureKind ofStatus(int status)
        {
            return status >= 500 ? HTTP_5XX : status >= 400 ? HTTP_4XX : HTTP_3XX;
        }
    }

    private final AtomicLong requests = new AtomicLong();
    private final AtomicLong retries = new AtomicLong();
    private final AtomicLong bytes = new AtomicLong();
    private final Map<FailureKind, AtomicLong> failures = new EnumMap<>(FailureKind.class);
    /** Requests per bucket (not cumulative), the last one past every bound. */
    private final AtomicLongArray latencyBuckets = new AtomicLongArray(LATENCY_BOUNDS_SECONDS.length + 1);
    private final AtomicLong latencyNanos = new AtomicLong();

    DomainRequestMetrics()
    {
        for (FailureKind kind : FailureKind.values()) {
            failures.put(kind, new AtomicLong());
        }
    }

    void requestSent()
    {
        requests.incrementAndGet();
    }

    void retried()
    {
        retries.incrementAndGet();
    }

    void failed(FailureKind kind)
    {
        failures.get(kind).incrementAndGet();
    }

    /** Response body bytes as they are read; error bodies included. */
    AtomicLong bytesCounter()
    {
        return bytes;
    }

    /** How long one request took, from sending it until its response was read to its end or abandoned. */
    void completed(long nanos)
    {
        double seconds = nanos / 1e9;
        int bucket = 0;
        while (bucket < LATENCY_BOUNDS_SECONDS.length && seconds > LATENCY_BOUNDS_SECONDS[bucket]) {
            bucket++;
        }
        latencyBuckets.incrementAndGet(bucket);
        latencyNanos.addAndGet(nanos);
    }

    /** HTTP requests sent, retries included. */
    public long requests()
    {
        return requests.get();
    }

    /** Requests sent again after a retryable failure (each also counted in {@link #requests()}). */
    public long retries()
    {
        return retries.get();
    }

    /** Response body bytes read, error bodies included. */
    public long bytes()
    {
        return bytes.get();
    }

    public long failures(FailureKind kind)
    {
        return failures.get(kind).get();
    }

    /**
     * Requests that took at most {@code LATENCY_BOUNDS_SECONDS[bound]} seconds (cumulative, as Prometheus counts them);
     * {@code bound == LATENCY_BOUNDS_SECONDS.length} counts them all.
     */
    public long latencyAtMost(int bound)
    {
        long count = 0;
        for (int i = 0; i <= bound; i++) {
            count += latencyBuckets.get(i);
        }
        return count;
    }

    /** Requests whose latency was recorded (sent, then answered, failed or abandoned): the buckets' sum, so it never disagrees with them. */
    public long latencyCount()
    {
        return latencyAtMost(LATENCY_BOUNDS_SECONDS.length);
    }

    public double latencySumSeconds()
    {
        return latencyNanos.get() / 1e9;
    }
}
