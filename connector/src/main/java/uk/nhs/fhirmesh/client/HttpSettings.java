package uk.nhs.fhirmesh.client;

import java.time.Duration;

import static java.util.Objects.requireNonNull;

/**
 * @param requestTimeout limit for the response headers, for any single blocked read of a response body,
 * and for waiting for a free request slot (of the endpoint and overall, together)
 * @param maxAttempts total tries of one request when its failures are retryable (1 = no retries)
 * @param maxRetryTime time budget, from the first try, within which retries of one request may start
 * @param maxConcurrentRequestsPerEndpoint in-flight requests per endpoint, over all streams of one client
 * @param maxResponseBytes largest Bundle page accepted; a larger one fails rather than fill the spool's disk
 * @param circuitFailureThreshold consecutive failed requests after which an endpoint's circuit opens
 * @param circuitOpenDuration how long an open circuit fails requests at once before it lets one probe through
 * @param maxConcurrentRequests in-flight requests over all endpoints of one client (one catalog on one Trino node);
 * a request waits for a slot of its endpoint first, then for one of these, both within {@code requestTimeout}
 */
public record HttpSettings(Duration connectTimeout, Duration requestTimeout, int maxAttempts, Duration maxRetryTime, int maxConcurrentRequestsPerEndpoint, long maxResponseBytes,
        int circuitFailureThreshold, Duration circuitOpenDuration, int maxConcurrentRequests)
{
    public static final int DEFAULT_CIRCUIT_FAILURE_THRESHOLD = 5;
    public static final Duration DEFAULT_CIRCUIT_OPEN_DURATION = Duration.ofSeconds(30);
    public static final int DEFAULT_MAX_CONCURRENT_REQUESTS = 64;

    public HttpSettings
    {
        requireNonNull(connectTimeout, "connectTimeout");
        requireNonNull(requestTimeout, "requestTimeout");
        requireNonNull(maxRetryTime, "maxRetryTime");
        requireNonNull(circuitOpenDuration, "circuitOpenDuration");
        if (!connectTimeout.isPositive() || !requestTimeout.isPositive()) {
            throw new IllegalArgumentException("timeouts must be positive");
        }
        if (maxRetryTime.isNegative()) {
            throw new IllegalArgumentException("maxRetryTime must not be negative");
        }
        if (maxAttempts < 1 || maxConcurrentRequestsPerEndpoint < 1 || maxResponseBytes < 1) {
            throw new IllegalArgumentException("maxAttempts, maxConcurrentRequestsPerEndpoint and maxResponseBytes must be at least 1");
        }
        if (circuitFailureThreshold < 1 || !circuitOpenDuration.isPositive()) {
            throw new IllegalArgumentException("circuitFailureThreshold must be at least 1 and circuitOpenDuration positive");
        }
        if (maxConcurrentRequests < 1) {
            throw new IllegalArgumentException("maxConcurrentRequests must be at least 1");
        }
    }

    /** Settings with the default overall bound on requests in flight. */
    public HttpSettings(Duration connectTimeout, Duration requestTimeout, int maxAttempts, Duration maxRetryTime, int maxConcurrentRequestsPerEndpoint, long maxResponseBytes,
            int circuitFailureThreshold, Duration circuitOpenDuration)
    {
        this(connectTimeout, requestTimeout, maxAttempts, maxRetryTime, maxConcurrentRequestsPerEndpoint, maxResponseBytes, circuitFailureThreshold, circuitOpenDuration, DEFAULT_MAX_CONCURRENT_REQUESTS);
    }

    /** Settings with the default circuit breaker and overall bound. */
    public HttpSettings(Duration connectTimeout, Duration requestTimeout, int maxAttempts, Duration maxRetryTime, int maxConcurrentRequestsPerEndpoint, long maxResponseBytes)
    {
        this(connectTimeout, requestTimeout, maxAttempts, maxRetryTime, maxConcurrentRequestsPerEndpoint, maxResponseBytes, DEFAULT_CIRCUIT_FAILURE_THRESHOLD, DEFAULT_CIRCUIT_OPEN_DURATION);
    }
}
