package uk.nhs.fhirmesh.trino;

/**
 * The JMX view of one domain's request totals on this node ({@code uk.nhs.fhirmesh:type=DomainRequests,name=<catalog>.<domain>}):
 * numbers only, so that Trino's OpenMetrics endpoint ({@code openmetrics.jmx-object-names}) can export every attribute.
 * Latency buckets are cumulative: {@code LatencyLe250ms} counts the requests that took at most 0.25 s.
 */
public interface DomainRequestsMBean
{
    long getRequests();

    long getRetries();

    long getResponseBytes();

    long getFailuresHttp3xx();

    long getFailuresHttp4xx();

    long getFailuresHttp5xx();

    long getFailuresTimeout();

    long getFailuresConnection();

    long getFailuresBadResponse();

    long getFailuresCircuitOpen();

    long getLatencyCount();

    double getLatencySumSeconds();

    long getLatencyLe5ms();

    long getLatencyLe10ms();

    long getLatencyLe25ms();

    long getLatencyLe50ms();

    long getLatencyLe100ms();

    long getLatencyLe250ms();

    long getLatencyLe500ms();

    long getLatencyLe1000ms();

    long getLatencyLe2500ms();

    long getLatencyLe5000ms();

    long getLatencyLe10000ms();

    long getLatencyLe30000ms();

    long getLatencyLe60000ms();

    /** 0 closed, 1 open, 2 half open. */
    int getCircuitStateCode();

    /** Which connector instance of the catalog registered this MBean (text: Trino's /metrics exports numbers only). */
    String getCatalogInstance();
}
