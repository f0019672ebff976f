package uk.nhs.fhirmesh.client;

import java.time.Instant;
import java.util.Locale;

/**
 * What the circuit breaker of one endpoint knows, at one moment, for operators ({@code <catalog>.mesh.circuits}).
 *
 * @param openedAt when the circuit last opened, or {@code null} while it is closed
 * @param lastFailure the message of the last failure that counted against the endpoint, or {@code null} if none has
 * @param requests requests let through to the endpoint (each with all its retries); fast failures are not requests
 * @param failures requests that failed in a way that counts against the endpoint
 */
public record CircuitState(String domain, State state, long consecutiveFailures, Instant openedAt, String lastFailure, long requests, long failures)
{
    public enum State
    {
        /** Requests go through. */
        CLOSED,
        /** Requests fail at once, without a connection attempt, until the open duration has passed. */
        OPEN,
        /** The open duration has passed: the next request is let through as the one probe; others fail at once while it runs. */
        HALF_OPEN;

        /** {@code closed}, {@code open}, {@code half_open}: as shown in SQL. */
        public String label()
        {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    static CircuitState unused(String domain)
    {
        return new CircuitState(domain, State.CLOSED, 0, null, null, 0, 0);
    }
}
