package uk.nhs.fhirmesh.trino;

import uk.nhs.fhirmesh.client.CircuitState;
import uk.nhs.fhirmesh.client.DomainRequestMetrics;
import uk.nhs.fhirmesh.client.DomainRequestMetrics.FailureKind;
import uk.nhs.fhirmesh.client.FhirSearchClient;

import java.util.List;

/** One domain's request totals and circuit state, read live from the catalog's client at every call. */
final class DomainRequests
        implements DomainRequestsMBean
{
    /** Attribute names of the latency buckets, in the order of {@link DomainRequestMetrics#LATENCY_BOUNDS_SECONDS}. */
    static final List<String> LATENCY_BUCKET_ATTRIBUTES = List.of("LatencyLe5ms", "LatencyLe10ms", "LatencyLe25ms", "LatencyLe50ms", "LatencyLe100ms",
            "LatencyLe250ms", "LatencyLe500ms", "LatencyLe1000ms", "LatencyLe2500ms", "LatencyLe5000ms", "LatencyLe10000ms", "LatencyLe30000ms", "LatencyLe60000ms");

    private final FhirSearchClient client;
    private final String domain;
    private final String catalogInstance;

    DomainRequests(FhirSearchClient client, String domain, String catalogInstance)
    {
        this.client = client;
        this.domain = domain;
        this.catalogInstance = catalogInstance;
    }

    private DomainRequestMetrics metrics()
    {
        return client.metrics().domain(domain);
    }

    @Override
    public long getRequests()
    {
        return metrics().requests();
    }

    @Override
    public long getRetries()
    {
        return metrics().retries();
    }

    @Override
    public long getResponseBytes()
    {
        return metrics().bytes();
    }

    @Override
    public long getFailuresHttp3xx()
    {
        return metrics().failures(FailureKind.HTTP_3XX);
    }

    @Override
    public long getFailuresHttp4xx()
    {
        return metrics().failures(FailureKind.HTTP_4XX);
    }

    @Override
    public long getFailuresHttp5xx()
    {
        return metrics().failures(FailureKind.HTTP_5XX);
    }

    @Override
    public long getFailuresTimeout()
    {
        return metrics().failures(FailureKind.TIMEOUT);
    }

    @Override
    public long getFailuresConnection()
    {
        return metrics().failures(FailureKind.CONNECTION);
    }

    @Override
    public long getFailuresBadResponse()
    {
        return metrics().failures(FailureKind.BAD_RESPONSE);
    }

    @Override
    public long getFailuresCircuitOpen()
    {
        return metrics().failures(FailureKind.CIRCUIT_OPEN);
    }

    @Override
    public long getLatencyCount()
    {
        return metrics().latencyCount();
    }

    @Override
    public double getLatencySumSeconds()
    {
        return metrics().latencySumSeconds();
    }

    @Override
    public long getLatencyLe5ms()
    {
        return metrics().latencyAtMost(0);
    }

    @Override
    public long getLatencyLe10ms()
    {
        return metrics().latencyAtMost(1);
    }

    @Override
    public long getLatencyLe25ms()
    {
        return metrics().latencyAtMost(2);
    }

    @Override
    public long getLatencyLe50ms()
    {
        return metrics().latencyAtMost(3);
    }

    @Override
    public long getLatencyLe100ms()
    {
        return metrics().latencyAtMost(4);
    }

    @Override
    public long getLatencyLe250ms()
    {
        return metrics().latencyAtMost(5);
    }

    @Override
    public long getLatencyLe500ms()
    {
        return metrics().latencyAtMost(6);
    }

    @Override
    public long getLatencyLe1000ms()
    {
        return metrics().latencyAtMost(7);
    }

    @Override
    public long getLatencyLe2500ms()
    {
        return metrics().latencyAtMost(8);
    }

    @Override
    public long getLatencyLe5000ms()
    {
        return metrics().latencyAtMost(9);
    }

    @Override
    public long getLatencyLe10000ms()
    {
        return metrics().latencyAtMost(10);
    }

    @Override
    public long getLatencyLe30000ms()
    {
        return metrics().latencyAtMost(11);
    }

    @Override
    public long getLatencyLe60000ms()
    {
        return metrics().latencyAtMost(12);
    }

    @Override
    public int getCircuitStateCode()
    {
        return switch (client.circuit(domain).state()) {
            case CLOSED -> 0;
            case OPEN -> 1;
            case HALF_OPEN -> 2;
        };
    }

    @Override
    public String getCatalogInstance()
    {
        return catalogInstance;
    }

    /** {@code closed}, {@code open} or {@code half_open}, for a code {@link #getCircuitStateCode()} gives. */
    static String circuitLabel(int code)
    {
        return CircuitState.State.values()[code].label();
    }
}
