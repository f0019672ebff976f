package uk.nhs.fhirmesh.client;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.OptionalInt;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.atomic.AtomicBoolean;

import static uk.nhs.fhirmesh.client.FhirRequestException.Kind.UNREACHABLE;

/**
 * A circuit breaker per endpoint, shared by every stream of one client: after {@code failureThreshold}
 * consecutive failed requests the endpoint's requests fail at once, without a connection attempt, for
 * {@code openDuration}; then one probe request is let through, whose success closes the circuit and whose
 * failure opens it again. A request is one Bundle page with all its retries. The lock of a circuit is held
 * only to read or change its counters, never during I/O.
 */
final class EndpointCircuits
{
    private final int failureThreshold;
    private final Duration openDuration;
    private final Clock clock;
    private final ConcurrentMap<String, Circuit> circuits = new ConcurrentHashMap<>();

    EndpointCircuits(int failureThreshold, Duration openDuration, Clock clock)
    {
        if (failureThreshold < 1 || !openDuration.isPositive()) {
            throw new IllegalArgumentException("failureThreshold must be at least 1 and openDuration positive");
        }
        this.failureThreshold = failureThreshold;
        this.openDuration = openDuration;
        this.clock = clock;
    }

    /**
     * Lets a request of {@code scope} through; its outcome must be reported to the returned admission.
     *
     * @throws FhirRequestException of kind {@code UNREACHABLE} while the endpoint's circuit is open, or half-open with a probe running
     */
    Admission admit(RequestScope scope)
    {
        return circuit(scope.endpoint().domain()).admit(scope);
    }

    CircuitState state(String domain)
    {
        Circuit circuit = circuits.get(domain);
        return circuit == null ? CircuitState.unused(domain) : circuit.state();
    }

    /**
     * Whether a failed request says the endpoint is unwell: unreachable, too slow, overloaded (5xx, 429 after
     * the retries) or answering with something that is not a FHIR Bundle. A 4xx is the query's own problem,
     * and token, spool and paging failures are local or per-search.
     */
    static boolean countsAgainstEndpoint(FhirRequestException failure)
    {
        return switch (failure.kind()) {
            case UNREACHABLE, TIMEOUT, MALFORMED_RESPONSE -> true;
            case HTTP_STATUS -> failure.httpStatus().orElse(0) >= 500 || failure.httpStatus().orElse(0) == 429;
            case OPERATION_OUTCOME, PAGING, AUTH_CONFIGURATION, SPOOL -> false;
        };
    }

    private Circuit circuit(String domain)
    {
        return circuits.computeIfAbsent(domain, Circuit::new);
    }

    /** One admitted request; the first outcome reported counts, later ones are ignored. */
    static final class Admission
    {
        private final Circuit circuit;
        private final boolean probe;
        private final AtomicBoolean decided = new AtomicBoolean();

        private Admission(Circuit circuit, boolean probe)
        {
            this.circuit = circuit;
            this.probe = probe;
        }

        boolean probe()
        {
            return probe;
        }

        void succeeded()
        {
            if (decided.compareAndSet(false, true)) {
                circuit.succeeded(probe);
            }
        }

        /** The request failed; whether that counts against the endpoint is {@link #countsAgainstEndpoint}'s call. */
        void failed(FhirRequestException failure)
        {
            if (decided.compareAndSet(false, true)) {
                if (countsAgainstEndpoint(failure)) {
                    circuit.failed(probe, failure.getMessage());
                }
                else {
                    circuit.abandoned(probe);
                }
            }
        }

        /** The request ended without telling anything about the endpoint: cancelled, interrupted, or never sent. */
        void abandoned()
        {
            if (decided.compareAndSet(false, true)) {
                circuit.abandoned(probe);
            }
        }
    }

    private final class Circuit
    {
        private final String domain;
        private long consecutiveFailures;
        /** Non-null while the circuit is open (or half-open: open past {@link #probeAfter}). */
        private Instant openedAt;
        private Instant probeAfter;
        private boolean probing;
        private String lastFailure;
        private long requests;
        private long failures;

        private Circuit(String domain)
        {
            this.domain = domain;
        }

        Admission admit(RequestScope scope)
        {
            FhirRequestException refusal;
            synchronized (this) {
                if (openedAt == null) {
                    requests++;
                    return new Admission(this, false);
                }
                if (!probing && !clock.instant().isBefore(probeAfter)) {
                    probing = true;
                    requests++;
                    return new Admission(this, true);
                }
                String message = "FHIR domain %s: circuit open since %s after %d consecutive failures (last: %s); next probe after %s"
                        .formatted(domain, openedAt, consecutiveFailures, cause(lastFailure), probeAfter);
                refusal = new FhirRequestException(UNREACHABLE, domain, scope.resourceType(), OptionalInt.empty(), message, null);
            }
            throw refusal;
        }

        synchronized void succeeded(boolean probe)
        {
            if (probe) {
                probing = false;
                openedAt = null;
                probeAfter = null;
                consecutiveFailures = 0;
            }
            else if (openedAt == null) {
                consecutiveFailures = 0;
            }
            // A success of a request let through before the circuit opened does not close it: only the probe decides.
        }

        synchronized void failed(boolean probe, String message)
        {
            failures++;
            consecutiveFailures++;
            lastFailure = message;
            if (probe) {
                probing = false;
                open();
            }
            else if (openedAt == null && consecutiveFailures >= failureThreshold) {
                open();
            }
        }

        synchronized void abandoned(boolean probe)
        {
            if (probe) {
                // Nothing learnt: the next request probes instead.
                probing = false;
            }
        }

        synchronized CircuitState state()
        {
            CircuitState.State state = openedAt == null
                    ? CircuitState.State.CLOSED
                    : probing || !clock.instant().isBefore(probeAfter) ? CircuitState.State.HALF_OPEN : CircuitState.State.OPEN;
            return new CircuitState(domain, state, consecutiveFailures, openedAt, lastFailure, requests, failures);
        }

        private void open()
        {
            // Milliseconds, as the system table's timestamp(3) shows it, so that message and table agree.
            openedAt = clock.instant().truncatedTo(ChronoUnit.MILLIS);
            probeAfter = openedAt.plus(openDuration);
        }

        /** The failure without its {@code FHIR domain <CODE>: } prefix, which the refusal already carries. */
        private String cause(String message)
        {
            String prefix = "FHIR domain " + domain + ": ";
            return message.startsWith(prefix) ? message.substring(prefix.length()) : message;
        }
    }
}
