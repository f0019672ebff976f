package uk.nhs.fhirmesh.client;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import uk.nhs.fhirmesh.exclusion.PatientRegisterReader;
import uk.nhs.fhirmesh.search.FhirSearch;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static uk.nhs.fhirmesh.client.Bundles.condition;
import static uk.nhs.fhirmesh.client.Bundles.operationOutcome;
import static uk.nhs.fhirmesh.client.Bundles.page;
import static uk.nhs.fhirmesh.client.Bundles.resource;
import static uk.nhs.fhirmesh.client.DomainRequestMetrics.FailureKind.BAD_RESPONSE;
import static uk.nhs.fhirmesh.client.DomainRequestMetrics.FailureKind.CIRCUIT_OPEN;
import static uk.nhs.fhirmesh.client.DomainRequestMetrics.FailureKind.CONNECTION;
import static uk.nhs.fhirmesh.client.DomainRequestMetrics.FailureKind.HTTP_4XX;
import static uk.nhs.fhirmesh.client.DomainRequestMetrics.FailureKind.HTTP_5XX;
import static uk.nhs.fhirmesh.client.DomainRequestMetrics.FailureKind.TIMEOUT;
import static uk.nhs.fhirmesh.client.FhirTestServer.send;

/** The traceparent every request carries, and the per-domain totals kept of them. */
class TestRequestTracingAndMetrics
{
    private static final TraceContext TRACE = new TraceContext("4bf92f3577b34da6a3ce929d0e0e4736");

    private final List<AutoCloseable> closeAfterTest = new ArrayList<>();

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

    private FhirSearchClient client(int maxAttempts, int circuitThreshold)
    {
        FhirSearchClient client = new FhirSearchClient(new HttpSettings(Duration.ofSeconds(2), Duration.ofSeconds(10), maxAttempts, Duration.ofSeconds(5), 4, 64L << 20,
                circuitThreshold, Duration.ofMinutes(10)));
        closeAfterTest.add(client);
        return client;
    }

    @Test
    void everyRequestOfAQueryCarriesItsTraceWithAFreshSpan()
            throws IOException
    {
        // Page 1 fails once with 503 (retried), page 2 follows the next link, then a count.
        FhirTestServer server = server((exchange, number) -> {
            String base = FhirTestServer.base(exchange);
            switch (number) {
                case 1 -> send(exchange, 503, operationOutcome("busy"), Map.of("Retry-After", "0"));
                case 2 -> send(exchange, 200, page(base + "/Condition?_page=2", condition("c1")));
                case 3 -> send(exchange, 200, page(null, condition("c2")));
                default -> send(exchange, 200, "{\"resourceType\":\"Bundle\",\"type\":\"searchset\",\"total\":2}");
            }
        });
        FhirSearchClient client = client(3, 5);
        FhirEndpoint endpoint = new FhirEndpoint("RX1", server.base(), null);
        try (ResourceStream stream = client.search(endpoint, FhirSearch.of("Condition"), 1, TRACE)) {
            while (stream.hasNext()) {
                stream.next();
            }
        }
        assertEquals(2, client.count(endpoint, FhirSearch.of("Condition"), TRACE));

        List<FhirTestServer.Request> requests = server.requests();
        assertEquals(4, requests.size());
        Set<String> spans = new HashSet<>();
        for (FhirTestServer.Request request : requests) {
            assertTrue(request.traceparent().matches("00-" + TRACE.traceId() + "-[0-9a-f]{16}-01"), request.traceparent());
            spans.add(request.traceparent().substring(36, 52));
            assertTrue(request.userAgent().startsWith("fhir-mesh-trino/"), request.userAgent());
        }
        assertEquals(4, spans.size(), "a span of its own for every request, the retry included");
    }

    @Test
    void thePatientRegisterReadsInTheTraceOfTheQueryThatAskedForThem()
            throws IOException
    {
        FhirTestServer server = server((exchange, _) -> send(exchange, 200, exchange.getRequestURI().getPath().endsWith("/Patient")
                ? page(null, resource("Patient", "p1"))
                : page(null)));
        FhirSearchClient client = client(1, 5);
        PatientRegisterReader reader = new PatientRegisterReader((domain, search, trace) -> client.search(new FhirEndpoint(domain, server.base(), null), search, 10, trace),
                "https://example/opt-out-policy", Clock.systemUTC());
        reader.read(List.of("RX1"), TRACE);
        assertEquals(2, server.requests().size());
        for (FhirTestServer.Request request : server.requests()) {
            assertTrue(request.traceparent().startsWith("00-" + TRACE.traceId() + "-"), request.traceparent());
        }
    }

    @Test
    void countsEveryRequestOfADomainWithItsFailuresBytesAndLatency()
            throws IOException
    {
        List<Integer> bodyBytes = new ArrayList<>();
        FhirTestServer server = server((exchange, number) -> {
            String body = switch (number) {
                case 1 -> operationOutcome("busy");
                case 2 -> page(null, condition("c1"));
                case 3 -> operationOutcome("no such parameter");
                default -> "{\"resourceType\":\"Bundle\",\"type\":\"searchset\",\"entry\":[";
            };
            synchronized (bodyBytes) {
                bodyBytes.add(body.getBytes(UTF_8).length);
            }
            send(exchange, number == 1 ? 503 : number == 3 ? 400 : 200, body, number == 1 ? Map.of("Retry-After", "0") : Map.of());
        });
        FhirSearchClient client = client(3, 5);
        FhirEndpoint rx1 = new FhirEndpoint("RX1", server.base(), null);
        try (ResourceStream stream = client.search(rx1, FhirSearch.of("Condition"), 10, TRACE)) {
            while (stream.hasNext()) {
                stream.next();
            }
        }
        assertThrows(FhirRequestException.class, () -> client.count(rx1, FhirSearch.of("Condition"), TRACE));
        assertThrows(FhirRequestException.class, () -> client.count(rx1, FhirSearch.of("Condition"), TRACE));

        DomainRequestMetrics metrics = client.metrics().domain("RX1");
        assertEquals(server.requests().size(), metrics.requests());
        assertEquals(4, metrics.requests());
        assertEquals(1, metrics.retries());
        assertEquals(1, metrics.failures(HTTP_5XX));
        assertEquals(1, metrics.failures(HTTP_4XX));
        assertEquals(1, metrics.failures(BAD_RESPONSE), "a truncated Bundle");
        assertEquals(0, metrics.failures(TIMEOUT) + metrics.failures(CONNECTION) + metrics.failures(CIRCUIT_OPEN));
        assertEquals(bodyBytes.stream().mapToLong(Integer::longValue).sum(), metrics.bytes());
        assertEquals(4, metrics.latencyCount());
        assertEquals(4, metrics.latencyAtMost(DomainRequestMetrics.LATENCY_BOUNDS_SECONDS.length - 1), "none took a minute");
        assertTrue(metrics.latencySumSeconds() > 0 && metrics.latencySumSeconds() < 10, Double.toString(metrics.latencySumSeconds()));
        assertEquals(0, client.metrics().domain("RTH").requests(), "totals are per domain");
    }

    @Test
    void countsConnectionFailuresAndRequestsTheOpenCircuitRefused()
            throws IOException
    {
        int closedPort;
        try (ServerSocket socket = new ServerSocket(0)) {
            closedPort = socket.getLocalPort();
        }
        FhirSearchClient client = client(1, 1);
        FhirEndpoint down = new FhirEndpoint("RTH", URI.create("http://127.0.0.1:" + closedPort + "/fhir/rth"), null);
        assertThrows(FhirRequestException.class, () -> client.count(down, FhirSearch.of("Condition"), TRACE));
        assertThrows(FhirRequestException.class, () -> client.count(down, FhirSearch.of("Condition"), TRACE));

        DomainRequestMetrics metrics = client.metrics().domain("RTH");
        assertEquals(1, metrics.requests(), "the second was never sent");
        assertEquals(1, metrics.failures(CONNECTION));
        assertEquals(1, metrics.failures(CIRCUIT_OPEN));
        assertEquals(1, metrics.latencyCount());
        assertEquals(CircuitState.State.OPEN, client.circuit("RTH").state());
    }

    @Test
    void bucketsLatenciesByTheirUpperBounds()
    {
        DomainRequestMetrics metrics = new DomainRequestMetrics();
        metrics.completed(5_000_000);
        metrics.completed(5_000_001);
        metrics.completed(Duration.ofSeconds(61).toNanos());
        assertEquals(1, metrics.latencyAtMost(0), "at most 5 ms, the bound included");
        assertEquals(2, metrics.latencyAtMost(1));
        assertEquals(2, metrics.latencyAtMost(12));
        assertEquals(3, metrics.latencyCount(), "the minute-long one is only in the count");
        assertEquals(61.010000001, metrics.latencySumSeconds(), 1e-9);
    }
}
