package uk.nhs.fhirmesh.client;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import uk.nhs.fhirmesh.search.FhirSearch;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static uk.nhs.fhirmesh.client.Bundles.condition;
import static uk.nhs.fhirmesh.client.Bundles.operationOutcome;
import static uk.nhs.fhirmesh.client.Bundles.page;
import static uk.nhs.fhirmesh.client.CircuitState.State.CLOSED;
import static uk.nhs.fhirmesh.client.CircuitState.State.HALF_OPEN;
import static uk.nhs.fhirmesh.client.CircuitState.State.OPEN;
import static uk.nhs.fhirmesh.client.FhirRequestException.Kind.HTTP_STATUS;
import static uk.nhs.fhirmesh.client.FhirRequestException.Kind.UNREACHABLE;
import static uk.nhs.fhirmesh.client.FhirTestServer.send;

/** The circuit breaker in the client against a FHIR server stand-in on loopback: what reaches the server and what not. */
class TestCircuitBreaker
{
    private static final Instant START = Instant.parse("2025-03-01T10:00:00Z");
    private static final FhirSearch CONDITIONS = FhirSearch.of("Condition").with("code", "http://snomed.info/sct|44054006");

    private final List<AutoCloseable> closeAfterTest = new ArrayList<>();
    private final TestEndpointCircuits.ManualClock clock = new TestEndpointCircuits.ManualClock(START);

    @TempDir
    Path temporary;

    @AfterEach
    void closeAll()
            throws Exception
    {
        for (AutoCloseable closeable : closeAfterTest.reversed()) {
            closeable.close();
        }
    }

    private FhirTestServer server(FhirTestServer.Handler handler)
            throws IOException
    {
        FhirTestServer server = new FhirTestServer(handler);
        closeAfterTest.add(server);
        return server;
    }

    /** Two attempts per request, opening after three failed requests for 30 seconds of the test's clock. */
    private FhirSearchClient client()
    {
        HttpSettings settings = new HttpSettings(Duration.ofSeconds(2), Duration.ofSeconds(5), 2, Duration.ofSeconds(5), 4, 1L << 20, 3, Duration.ofSeconds(30));
        FhirSearchClient client = new FhirSearchClient(settings, FhirSearchClient.MAX_PAGES, new PageSpool(temporary, 1 << 20, settings.maxResponseBytes()), clock);
        closeAfterTest.add(client);
        return client;
    }

    private static FhirEndpoint endpoint(FhirTestServer server)
    {
        return new FhirEndpoint("RX1", server.base(), null);
    }

    @Test
    void anOpenCircuitSendsNothingUntilTheOpenDurationHasPassed()
            throws IOException
    {
        AtomicBoolean healthy = new AtomicBoolean();
        FhirTestServer server = server((exchange, _) -> {
            if (healthy.get()) {
                send(exchange, 200, "{\"resourceType\":\"Bundle\",\"type\":\"searchset\",\"total\":42}");
            }
            else {
                send(exchange, 503, operationOutcome("maintenance"), Map.of("Retry-After", "0"));
            }
        });
        FhirSearchClient client = client();
        for (int i = 0; i < 3; i++) {
            FhirRequestException e = assertThrows(FhirRequestException.class, () -> client.count(endpoint(server), CONDITIONS));
            assertEquals(HTTP_STATUS, e.kind());
        }
        // Three requests of two attempts each reached the server.
        assertEquals(6, server.requests().size());
        assertEquals(OPEN, client.circuit("RX1").state());

        healthy.set(true);
        for (int i = 0; i < 5; i++) {
            FhirRequestException e = assertThrows(FhirRequestException.class, () -> client.count(endpoint(server), CONDITIONS));
            assertEquals(UNREACHABLE, e.kind());
            assertEquals("FHIR domain RX1: circuit open since 2025-03-01T10:00:00Z after 3 consecutive failures (last: Condition count failed: "
                    + "HTTP 503 Service Unavailable: maintenance (gave up after 2 attempts)); next probe after 2025-03-01T10:00:30Z", e.getMessage());
            clock.advance(Duration.ofSeconds(5));
        }
        assertEquals(6, server.requests().size());
        assertEquals(6, client.metrics().requests());

        clock.advance(Duration.ofSeconds(5));
        assertEquals(HALF_OPEN, client.circuit("RX1").state());
        assertEquals(42, client.count(endpoint(server), CONDITIONS));
        assertEquals(7, server.requests().size());
        CircuitState closed = client.circuit("RX1");
        assertEquals(CLOSED, closed.state());
        assertEquals(0, closed.consecutiveFailures());
        assertEquals(4, closed.requests());
        assertEquals(3, closed.failures());
        assertEquals(42, client.count(endpoint(server), CONDITIONS));
    }

    @Test
    void badQueriesDoNotOpenTheCircuit()
            throws IOException
    {
        FhirTestServer server = server((exchange, _) -> send(exchange, 400, operationOutcome("Unknown search parameter")));
        FhirSearchClient client = client();
        for (int i = 0; i < 10; i++) {
            assertEquals(HTTP_STATUS, assertThrows(FhirRequestException.class, () -> client.count(endpoint(server), CONDITIONS)).kind());
        }
        assertEquals(10, server.requests().size());
        assertEquals(new CircuitState("RX1", CLOSED, 0, null, null, 10, 0), client.circuit("RX1"));
    }

    @Test
    void aProbeSearchClosedEarlyLeavesTheNextRequestToProbe()
            throws IOException
    {
        AtomicBoolean healthy = new AtomicBoolean();
        FhirTestServer server = server((exchange, _) -> {
            if (healthy.get()) {
                send(exchange, 200, page(FhirTestServer.base(exchange) + "?_getpages=p2", condition("c1"), condition("c2")));
            }
            else {
                exchange.close();
            }
        });
        FhirSearchClient client = client();
        for (int i = 0; i < 3; i++) {
            assertEquals(UNREACHABLE, assertThrows(FhirRequestException.class, () -> client.count(endpoint(server), CONDITIONS)).kind());
        }
        assertEquals(OPEN, client.circuit("RX1").state());
        healthy.set(true);
        clock.advance(Duration.ofSeconds(30));

        // The probe's page arrives, the reader takes one resource and stops (a LIMIT, a cancelled query).
        try (ResourceStream stream = client.search(endpoint(server), CONDITIONS, 10)) {
            assertTrue(stream.hasNext());
            assertEquals("c1", stream.next().path("id").asText());
            assertThrows(FhirRequestException.class, () -> client.count(endpoint(server), CONDITIONS), "a second probe while the first runs");
        }
        assertEquals(HALF_OPEN, client.circuit("RX1").state());
        int sent = server.requests().size();
        // Any result will do; what matters is that the request was let through.
        client.count(endpoint(server), CONDITIONS);
        assertEquals(sent + 1, server.requests().size());
        assertEquals(CLOSED, client.circuit("RX1").state());
        assertFalse(client.circuit("RX1").lastFailure().contains("44054006"));
    }
}
