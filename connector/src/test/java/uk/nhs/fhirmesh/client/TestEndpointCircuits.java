package uk.nhs.fhirmesh.client;

import org.junit.jupiter.api.Test;
import uk.nhs.fhirmesh.search.FhirSearch;

import java.net.URI;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalInt;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static uk.nhs.fhirmesh.client.CircuitState.State.CLOSED;
import static uk.nhs.fhirmesh.client.CircuitState.State.HALF_OPEN;
import static uk.nhs.fhirmesh.client.CircuitState.State.OPEN;
import static uk.nhs.fhirmesh.client.FhirRequestException.Kind.HTTP_STATUS;
import static uk.nhs.fhirmesh.client.FhirRequestException.Kind.MALFORMED_RESPONSE;
import static uk.nhs.fhirmesh.client.FhirRequestException.Kind.OPERATION_OUTCOME;
import static uk.nhs.fhirmesh.client.FhirRequestException.Kind.TIMEOUT;
import static uk.nhs.fhirmesh.client.FhirRequestException.Kind.UNREACHABLE;

/** The circuit breaker's state machine, on a clock the test moves: no request is sent here. */
class TestEndpointCircuits
{
    private static final Instant START = Instant.parse("2025-03-01T10:00:00.123Z");
    private static final RequestScope SCOPE = RequestScope.of(new FhirEndpoint("RX1", URI.create("http://127.0.0.1:1/fhir/rx1"), null),
            FhirSearch.of("Condition").with("patient.identifier", "https://fhir.nhs.uk/Id/nhs-number|9434765919"), "search", TraceContext.random());
    private static final FhirRequestException REFUSED = SCOPE.exception(Failure.of(UNREACHABLE, "cannot connect to http://127.0.0.1:1/fhir/rx1: connection refused"));

    /** A clock that moves only when told. */
    static final class ManualClock
            extends Clock
    {
        private volatile Instant now;

        ManualClock(Instant now)
        {
            this.now = now;
        }

        void advance(Duration duration)
        {
            now = now.plus(duration);
        }

        @Override
        public Instant instant()
        {
            return now;
        }

        @Override
        public ZoneId getZone()
        {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(ZoneId zone)
        {
            throw new UnsupportedOperationException();
        }
    }

    private final ManualClock clock = new ManualClock(START);
    private final EndpointCircuits circuits = new EndpointCircuits(3, Duration.ofSeconds(30), clock);

    private void fail(FhirRequestException failure)
    {
        circuits.admit(SCOPE).failed(failure);
    }

    private static FhirRequestException status(int status)
    {
        return SCOPE.exception(new Failure(HTTP_STATUS, OptionalInt.of(status), "HTTP " + status, null));
    }

    @Test
    void opensAfterTheThresholdOfConsecutiveFailuresAndThenFailsFast()
    {
        fail(REFUSED);
        fail(SCOPE.exception(Failure.of(TIMEOUT, "no response within 60s")));
        assertEquals(CLOSED, circuits.state("RX1").state());
        assertEquals(2, circuits.state("RX1").consecutiveFailures());
        clock.advance(Duration.ofSeconds(1));
        fail(REFUSED);

        CircuitState open = circuits.state("RX1");
        assertEquals(new CircuitState("RX1", OPEN, 3, Instant.parse("2025-03-01T10:00:01.123Z"), REFUSED.getMessage(), 3, 3), open);
        FhirRequestException refusal = assertThrows(FhirRequestException.class, () -> circuits.admit(SCOPE));
        assertEquals("FHIR domain RX1: circuit open since 2025-03-01T10:00:01.123Z after 3 consecutive failures "
                + "(last: Condition search failed: cannot connect to http://127.0.0.1:1/fhir/rx1: connection refused); next probe after 2025-03-01T10:00:31.123Z", refusal.getMessage());
        assertEquals(UNREACHABLE, refusal.kind());
        assertEquals("RX1", refusal.domain());
        assertFalse(refusal.getMessage().contains("9434765919"));
        // A refused request is no request: the counters stay.
        assertEquals(3, circuits.state("RX1").requests());
        assertEquals(CircuitState.unused("RTH"), circuits.state("RTH"));
    }

    @Test
    void aSuccessResetsTheConsecutiveFailures()
    {
        fail(REFUSED);
        fail(REFUSED);
        circuits.admit(SCOPE).succeeded();
        fail(REFUSED);
        fail(REFUSED);
        CircuitState state = circuits.state("RX1");
        assertEquals(CLOSED, state.state());
        assertEquals(2, state.consecutiveFailures());
        assertEquals(5, state.requests());
        assertEquals(4, state.failures());
        fail(REFUSED);
        assertEquals(OPEN, circuits.state("RX1").state());
    }

    @Test
    void failuresCausedByTheQueryDoNotCount()
    {
        for (int i = 0; i < 10; i++) {
            fail(status(400));
            fail(status(404));
            fail(status(301));
            fail(SCOPE.exception(Failure.of(OPERATION_OUTCOME, "the server answered with an OperationOutcome: unknown search parameter")));
            circuits.admit(SCOPE).abandoned();
        }
        CircuitState state = circuits.state("RX1");
        assertEquals(CLOSED, state.state());
        assertEquals(0, state.consecutiveFailures());
        assertNull(state.lastFailure());
        assertEquals(0, state.failures());
        assertEquals(50, state.requests());
    }

    @Test
    void overloadAndBrokenResponsesCount()
    {
        fail(status(429));
        fail(status(503));
        fail(SCOPE.exception(Failure.of(MALFORMED_RESPONSE, "the response is text/html, not FHIR JSON")));
        assertEquals(OPEN, circuits.state("RX1").state());
        assertTrue(circuits.state("RX1").lastFailure().endsWith("the response is text/html, not FHIR JSON"));
    }

    @Test
    void letsOneProbeThroughAfterTheOpenDurationAndItsSuccessCloses()
    {
        fail(REFUSED);
        fail(REFUSED);
        fail(REFUSED);
        clock.advance(Duration.ofSeconds(29).plusMillis(999));
        assertThrows(FhirRequestException.class, () -> circuits.admit(SCOPE));
        assertEquals(OPEN, circuits.state("RX1").state());
        clock.advance(Duration.ofMillis(1));
        assertEquals(HALF_OPEN, circuits.state("RX1").state());

        EndpointCircuits.Admission probe = circuits.admit(SCOPE);
        assertTrue(probe.probe());
        // While the probe runs every other request fails at once.
        FhirRequestException refusal = assertThrows(FhirRequestException.class, () -> circuits.admit(SCOPE));
        assertTrue(refusal.getMessage().startsWith("FHIR domain RX1: circuit open since 2025-03-01T10:00:00.123Z after 3 consecutive failures"), refusal.getMessage());
        assertEquals(HALF_OPEN, circuits.state("RX1").state());

        probe.succeeded();
        CircuitState closed = circuits.state("RX1");
        assertEquals(new CircuitState("RX1", CLOSED, 0, null, REFUSED.getMessage(), 4, 3), closed);
        assertFalse(circuits.admit(SCOPE).probe());
        assertFalse(circuits.admit(SCOPE).probe());
    }

    @Test
    void aFailedProbeOpensTheCircuitAgainFromNow()
    {
        fail(REFUSED);
        fail(REFUSED);
        fail(REFUSED);
        clock.advance(Duration.ofSeconds(45));
        circuits.admit(SCOPE).failed(status(502));

        CircuitState reopened = circuits.state("RX1");
        assertEquals(OPEN, reopened.state());
        assertEquals(Instant.parse("2025-03-01T10:00:45.123Z"), reopened.openedAt());
        assertEquals(4, reopened.consecutiveFailures());
        FhirRequestException refusal = assertThrows(FhirRequestException.class, () -> circuits.admit(SCOPE));
        assertEquals("FHIR domain RX1: circuit open since 2025-03-01T10:00:45.123Z after 4 consecutive failures (last: Condition search failed: HTTP 502); "
                + "next probe after 2025-03-01T10:01:15.123Z", refusal.getMessage());
        clock.advance(Duration.ofSeconds(30));
        assertTrue(circuits.admit(SCOPE).probe());
    }

    @Test
    void aProbeEndedWithoutAVerdictLetsTheNextRequestProbe()
    {
        fail(REFUSED);
        fail(REFUSED);
        fail(REFUSED);
        clock.advance(Duration.ofSeconds(30));
        circuits.admit(SCOPE).abandoned();
        EndpointCircuits.Admission second = circuits.admit(SCOPE);
        assertTrue(second.probe());
        // A 4xx tells nothing about the endpoint's health either; later verdicts of a decided admission are ignored.
        second.failed(status(400));
        second.failed(REFUSED);
        assertEquals(HALF_OPEN, circuits.state("RX1").state());
        assertEquals(3, circuits.state("RX1").failures());
        assertTrue(circuits.admit(SCOPE).probe());
    }

    @Test
    void aSuccessOfARequestStartedBeforeTheCircuitOpenedDoesNotCloseIt()
    {
        EndpointCircuits.Admission slow = circuits.admit(SCOPE);
        fail(REFUSED);
        fail(REFUSED);
        fail(REFUSED);
        slow.succeeded();
        assertEquals(OPEN, circuits.state("RX1").state());
        assertEquals(3, circuits.state("RX1").consecutiveFailures());
    }

    @Test
    void racingRequestsGetExactlyOneProbe()
            throws Exception
    {
        fail(REFUSED);
        fail(REFUSED);
        fail(REFUSED);
        clock.advance(Duration.ofSeconds(30));
        int threads = 32;
        CountDownLatch start = new CountDownLatch(1);
        List<Callable<Boolean>> tasks = new ArrayList<>();
        for (int i = 0; i < threads; i++) {
            tasks.add(() -> {
                start.await();
                try {
                    return circuits.admit(SCOPE).probe();
                }
                catch (FhirRequestException e) {
                    return false;
                }
            });
        }
        try (ExecutorService executor = Executors.newFixedThreadPool(threads)) {
            List<Future<Boolean>> admitted = new ArrayList<>();
            for (Callable<Boolean> task : tasks) {
                admitted.add(executor.submit(task));
            }
            start.countDown();
            int probes = 0;
            for (Future<Boolean> future : admitted) {
                probes += future.get() ? 1 : 0;
            }
            assertEquals(1, probes);
        }
        assertEquals(4, circuits.state("RX1").requests());
    }
}
