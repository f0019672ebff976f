package uk.nhs.fhirmesh.client;

import com.fasterxml.jackson.databind.JsonNode;
import com.sun.net.httpserver.HttpExchange;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import uk.nhs.fhirmesh.search.FhirSearch;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.math.BigDecimal;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;
import java.util.zip.GZIPOutputStream;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static uk.nhs.fhirmesh.client.Bundles.condition;
import static uk.nhs.fhirmesh.client.Bundles.entry;
import static uk.nhs.fhirmesh.client.Bundles.operationOutcome;
import static uk.nhs.fhirmesh.client.Bundles.page;
import static uk.nhs.fhirmesh.client.Bundles.resource;
import static uk.nhs.fhirmesh.client.FhirRequestException.Kind.AUTH_CONFIGURATION;
import static uk.nhs.fhirmesh.client.FhirRequestException.Kind.HTTP_STATUS;
import static uk.nhs.fhirmesh.client.FhirRequestException.Kind.MALFORMED_RESPONSE;
import static uk.nhs.fhirmesh.client.FhirRequestException.Kind.OPERATION_OUTCOME;
import static uk.nhs.fhirmesh.client.FhirRequestException.Kind.PAGING;
import static uk.nhs.fhirmesh.client.FhirRequestException.Kind.TIMEOUT;
import static uk.nhs.fhirmesh.client.FhirRequestException.Kind.UNREACHABLE;
import static uk.nhs.fhirmesh.client.FhirTestServer.send;

/** The client against FHIR server stand-ins on loopback: paging, parsing, errors, retries, slots, auth. */
class TestFhirSearchClient
{
    private static final String NHS_NUMBER = "9434765919";
    private static final String TOKEN = "s3cr3t-t0ken-value";
    private static final FhirSearch CONDITIONS = FhirSearch.of("Condition")
            .with("code", "http://snomed.info/sct|44054006")
            .with("patient.identifier", "https://fhir.nhs.uk/Id/nhs-number|" + NHS_NUMBER);

    private final List<AutoCloseable> closeAfterTest = new ArrayList<>();

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

    private FhirSearchClient client()
    {
        return client(settings(3, Duration.ofSeconds(10), 4, Duration.ofSeconds(5)));
    }

    private FhirSearchClient client(HttpSettings settings)
    {
        FhirSearchClient client = new FhirSearchClient(settings);
        closeAfterTest.add(client);
        return client;
    }

    /** A client whose pages spill to {@code temporary} beyond {@code memoryLimit} bytes. */
    private FhirSearchClient spoolingClient(HttpSettings settings, int memoryLimit)
    {
        FhirSearchClient client = new FhirSearchClient(settings, FhirSearchClient.MAX_PAGES, new PageSpool(temporary, memoryLimit, settings.maxResponseBytes()));
        closeAfterTest.add(client);
        return client;
    }

    private static HttpSettings settings(int maxAttempts, Duration maxRetryTime, int maxConcurrent, Duration requestTimeout)
    {
        return new HttpSettings(Duration.ofSeconds(2), requestTimeout, maxAttempts, maxRetryTime, maxConcurrent, 64L << 20);
    }

    private static FhirEndpoint endpoint(FhirTestServer server)
    {
        return new FhirEndpoint("RX1", server.base(), null);
    }

    private static List<String> ids(ResourceStream stream)
    {
        List<String> ids = new ArrayList<>();
        try (stream) {
            while (stream.hasNext()) {
                ids.add(stream.next().path("id").asText());
            }
        }
        return ids;
    }

    /** Waits, for a bounded time, until the thread has started and blocks, as it does reading a stalled body. */
    private static void awaitBlocked(AtomicReference<Thread> thread)
            throws InterruptedException
    {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while ((thread.get() == null || thread.get().getState() == Thread.State.RUNNABLE) && System.nanoTime() < deadline) {
            Thread.sleep(5);
        }
    }

    /** Reads {@code stream} until it fails; the ids read before are added to {@code read}. */
    private static FhirRequestException failure(ResourceStream stream, List<String> read)
    {
        try (stream) {
            return assertThrows(FhirRequestException.class, () -> {
                while (stream.hasNext()) {
                    read.add(stream.next().path("id").asText());
                }
            });
        }
    }

    private static FhirRequestException failure(ResourceStream stream)
    {
        return failure(stream, new ArrayList<>());
    }

    private static void assertSafe(FhirRequestException e)
    {
        for (Throwable t = e; t != null; t = t.getCause()) {
            String text = String.valueOf(t.getMessage());
            assertFalse(text.contains(TOKEN), text);
            assertFalse(text.contains(NHS_NUMBER), text);
            assertFalse(text.contains("44054006"), text);
        }
    }

    @Test
    void followsNextLinksWithLinkBeforeOrAfterEntry()
            throws IOException
    {
        FhirTestServer server = server((exchange, number) -> {
            String base = FhirTestServer.base(exchange);
            switch (number) {
                case 1 -> send(exchange, 200, page(base + "?_getpages=abc&_getpagesoffset=2&_count=2", true, condition("c1"), condition("c2")));
                case 2 -> send(exchange, 200, page(base + "?_getpages=abc&_getpagesoffset=4&_count=2", false, condition("c3"), condition("c4")));
                default -> send(exchange, 200, page(null, false, condition("c5")));
            }
        });
        FhirSearchClient client = client();
        ResourceStream stream = client.search(endpoint(server), CONDITIONS, 2);

        assertEquals(List.of("c1", "c2", "c3", "c4", "c5"), ids(stream));
        assertEquals(5, stream.resourcesRead());
        assertEquals(3, stream.pagesRead());

        List<FhirTestServer.Request> requests = server.requests();
        assertEquals(3, requests.size());
        assertEquals("/fhir/rx1/Condition?" + CONDITIONS.queryString() + "&_count=2", requests.get(0).pathAndQuery());
        assertEquals("/fhir/rx1?_getpages=abc&_getpagesoffset=2&_count=2", requests.get(1).pathAndQuery());
        assertEquals("/fhir/rx1?_getpages=abc&_getpagesoffset=4&_count=2", requests.get(2).pathAndQuery());
        for (FhirTestServer.Request request : requests) {
            assertEquals("application/fhir+json", request.accept());
            assertTrue(request.userAgent().startsWith("fhir-mesh-trino/"), request.userAgent());
            assertNull(request.authorization());
        }
        assertEquals(3, client.metrics().requests());
        assertEquals(3, client.metrics().pages());
        assertEquals(5, client.metrics().resources());
        assertTrue(client.metrics().bytes() > 500, client.metrics().toString());
    }

    @Test
    void percentEncodesPipesOfNextLinks()
            throws IOException
    {
        FhirTestServer server = server((exchange, number) -> send(exchange, 200, number == 1
                ? page(FhirTestServer.base(exchange) + "/Condition?code=http://loinc.org|1234-5&_page=2", condition("c1"))
                : page(null, condition("c2"))));

        assertEquals(List.of("c1", "c2"), ids(client().search(endpoint(server), CONDITIONS, 1)));
        assertEquals("/fhir/rx1/Condition?code=http://loinc.org%7C1234-5&_page=2", server.requests().get(1).pathAndQuery());
    }

    @Test
    void replacesPageSizeOfTheSearch()
            throws IOException
    {
        FhirTestServer server = server((exchange, _) -> send(exchange, 200, page(null, condition("c1"))));
        ids(client().search(endpoint(server), FhirSearch.of("Condition").with("_count", "5").with("code", "x1y"), 100));

        assertEquals("/fhir/rx1/Condition?code=x1y&_count=100", server.requests().getFirst().pathAndQuery());
    }

    @Test
    void skipsIncludedAndOutcomeEntries()
            throws IOException
    {
        String body = Bundles.bundle(null, true, List.of(
                entry(condition("c1"), "match"),
                entry(resource("Patient", "p1"), "include"),
                entry(operationOutcome("just a warning"), "outcome"),
                "{\"resource\":" + condition("c2") + "}"));
        FhirTestServer server = server((exchange, _) -> send(exchange, 200, body));

        assertEquals(List.of("c1", "c2"), ids(client().search(endpoint(server), CONDITIONS, 10)));
    }

    @Test
    void refusesEntriesOfAnotherResourceType()
            throws IOException
    {
        FhirTestServer server = server((exchange, _) -> send(exchange, 200, page(null, condition("c1"), resource("Patient", "p1"))));
        List<String> read = new ArrayList<>();
        FhirRequestException e = failure(client().search(endpoint(server), CONDITIONS, 10), read);

        assertEquals(List.of("c1"), read);
        assertEquals(MALFORMED_RESPONSE, e.kind());
        assertEquals("FHIR domain RX1: Condition search failed: Bundle.entry[1] is a Patient, not a Condition", e.getMessage());
    }

    @Test
    void keepsDecimalsExact()
            throws IOException
    {
        String observation = "{\"resourceType\":\"Observation\",\"id\":\"o1\",\"valueQuantity\":{\"value\":516.93},"
                + "\"component\":[{\"valueQuantity\":{\"value\":0.10}},{\"valueQuantity\":{\"value\":12345678901234567890.123456789}}]}";
        FhirTestServer server = server((exchange, _) -> send(exchange, 200, page(null, observation)));
        try (ResourceStream stream = client().search(endpoint(server), FhirSearch.of("Observation"), 10)) {
            JsonNode resource = stream.next();

            assertEquals(new BigDecimal("516.93"), resource.at("/valueQuantity/value").decimalValue());
            assertEquals("0.10", resource.at("/component/0/valueQuantity/value").decimalValue().toPlainString());
            assertEquals("12345678901234567890.123456789", resource.at("/component/1/valueQuantity/value").decimalValue().toPlainString());
            assertEquals(observation, resource.toString());
        }
    }

    @Test
    void spoolsALargePageToAnUnlinkedFileAndFreesTheSlotOnceItHasArrived()
            throws Exception
    {
        int entries = 10_000;
        AtomicInteger bytesSent = new AtomicInteger();
        FhirTestServer server = server((exchange, number) -> {
            if (number > 1) {
                send(exchange, 200, page(null, condition("other")));
                return;
            }
            exchange.getResponseHeaders().set("Content-Type", "application/fhir+json");
            exchange.sendResponseHeaders(200, 0);
            try (OutputStream out = exchange.getResponseBody()) {
                // Written entry by entry, never as one string, like a server streaming a big page.
                write(out, bytesSent, "{\"resourceType\":\"Bundle\",\"type\":\"searchset\",\"total\":" + entries + ",\"entry\":[");
                for (int i = 0; i < entries; i++) {
                    write(out, bytesSent, (i == 0 ? "" : ",") + entry(condition("c" + i), "match"));
                }
                write(out, bytesSent, "]}");
            }
        });
        // One request slot, and a memory limit far below the page's ~2 MB, so the page goes to disk.
        FhirSearchClient client = spoolingClient(settings(1, Duration.ZERO, 1, Duration.ofMillis(500)), 64 * 1024);
        try (ResourceStream stream = client.search(endpoint(server), CONDITIONS, entries)) {
            assertEquals("c0", stream.next().path("id").asText());
            assertEquals(bytesSent.get(), client.metrics().bytes(), "the whole page has arrived before its first resource is handed out");
            try (Stream<Path> files = Files.list(temporary)) {
                assertEquals(List.of(), files.toList(), "the spool file is unlinked while it is read");
            }
            // The reader is mid-page, yet the endpoint's only slot is free for the next request.
            assertEquals(1, client.count(endpoint(server), CONDITIONS));
            long count = 1;
            while (stream.hasNext()) {
                assertEquals("c" + count, stream.next().path("id").asText());
                count++;
            }
            assertEquals(entries, count);
            assertEquals(1, stream.pagesRead());
        }
        assertTrue(bytesSent.get() > 1_000_000, "the page must be far larger than the memory limit: " + bytesSent.get());
    }

    private static byte[] gzip(byte[] bytes)
            throws IOException
    {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (GZIPOutputStream zip = new GZIPOutputStream(out)) {
            zip.write(bytes);
        }
        return out.toByteArray();
    }

    private static void sendEncoded(HttpExchange exchange, int status, String encoding, byte[] body)
            throws IOException
    {
        exchange.getResponseHeaders().set("Content-Type", "application/fhir+json");
        exchange.getResponseHeaders().set("Content-Encoding", encoding);
        exchange.sendResponseHeaders(status, body.length);
        exchange.getResponseBody().write(body);
    }

    @Test
    void asksForGzipAndReadsIt()
            throws IOException
    {
        List<String> ids = new ArrayList<>();
        List<String> resources = new ArrayList<>();
        for (int i = 0; i < 200; i++) {
            ids.add("c" + i);
            resources.add(condition("c" + i));
        }
        byte[] compressed = gzip(page(null, resources.toArray(String[]::new)).getBytes(UTF_8));
        AtomicReference<String> acceptEncoding = new AtomicReference<>();
        FhirTestServer server = server((exchange, _) -> {
            acceptEncoding.set(exchange.getRequestHeaders().getFirst("Accept-Encoding"));
            sendEncoded(exchange, 200, "gzip", compressed);
        });
        FhirSearchClient client = client();

        assertEquals(ids, ids(client.search(endpoint(server), CONDITIONS, 200)));
        assertEquals("gzip", acceptEncoding.get());
        assertEquals(compressed.length, client.metrics().bytes(), "bytes on the wire, compressed");
    }

    @Test
    void refusesBadEncodingsWithoutRetrying()
            throws IOException
    {
        byte[] plain = page(null, condition("c1")).getBytes(UTF_8);
        byte[] corrupt = gzip(plain);
        corrupt[corrupt.length / 2] ^= 0x5a;
        corrupt[corrupt.length / 2 + 1] ^= 0x5a;
        Map<String, byte[]> bodies = Map.of("gzip", corrupt, "br", plain);
        for (Map.Entry<String, byte[]> body : bodies.entrySet()) {
            FhirTestServer server = server((exchange, _) -> sendEncoded(exchange, 200, body.getKey(), body.getValue()));
            FhirSearchClient client = client();
            FhirRequestException e = failure(client.search(endpoint(server), CONDITIONS, 10));
            assertEquals(MALFORMED_RESPONSE, e.kind(), e.getMessage());
            assertTrue(e.getMessage().contains(body.getKey().equals("br") ? "Content-Encoding other than the gzip or identity asked for" : "gzip-encoded page cannot be decoded"), e.getMessage());
            assertEquals(1, client.metrics().requests());
        }
    }

    @Test
    void capsWhatACompressedPageExpandsTo()
            throws IOException
    {
        // 4 MB of spaces is valid JSON whitespace and compresses to a few kB: a small page on the wire.
        byte[] bomb = gzip(("{\"resourceType\":\"Bundle\",\"type\":\"searchset\"" + " ".repeat(4 << 20) + "}").getBytes(UTF_8));
        FhirTestServer server = server((exchange, _) -> sendEncoded(exchange, 200, "gzip", bomb));
        HttpSettings settings = new HttpSettings(Duration.ofSeconds(2), Duration.ofSeconds(5), 3, Duration.ofSeconds(5), 4, 1L << 20);
        FhirSearchClient client = client(settings);
        FhirRequestException e = failure(client.search(endpoint(server), CONDITIONS, 10));

        assertTrue(bomb.length < 64 * 1024, "compressed: " + bomb.length);
        assertEquals(MALFORMED_RESPONSE, e.kind());
        assertEquals("FHIR domain RX1: Condition search failed: the page is larger than 1MB (fhir.http.max-response-size); lower fhir.page-size or raise the limit", e.getMessage());
    }

    @Test
    void decodesACompressedOperationOutcome()
            throws IOException
    {
        byte[] outcome = gzip(operationOutcome("Unknown search parameter").getBytes(UTF_8));
        FhirTestServer server = server((exchange, _) -> sendEncoded(exchange, 400, "gzip", outcome));
        FhirRequestException e = failure(client().search(endpoint(server), CONDITIONS, 10));
        assertEquals(HTTP_STATUS, e.kind());
        assertTrue(e.getMessage().contains("HTTP 400 Bad Request: ") && e.getMessage().contains("Unknown search parameter"), e.getMessage());
    }

    @Test
    void refusesAPageLargerThanTheLimit()
            throws IOException
    {
        String body = page(null, condition("c1"), condition("c2"), condition("c3"));
        FhirTestServer server = server((exchange, number) -> send(exchange, 200, number % 2 == 1 ? body : page(null, condition("small"))));
        HttpSettings small = new HttpSettings(Duration.ofSeconds(2), Duration.ofSeconds(5), 3, Duration.ofSeconds(5), 1, body.length() - 1);
        for (int memoryLimit : new int[] {64, 1 << 20}) {
            FhirSearchClient client = spoolingClient(small, memoryLimit);
            List<String> read = new ArrayList<>();
            FhirRequestException e = failure(client.search(endpoint(server), CONDITIONS, 10), read);
            assertEquals(List.of(), read);
            assertEquals(MALFORMED_RESPONSE, e.kind());
            assertEquals("FHIR domain RX1: Condition search failed: the page is larger than " + (body.length() - 1) + "B (fhir.http.max-response-size); "
                    + "lower fhir.page-size or raise the limit", e.getMessage());
            assertEquals(1, client.metrics().requests(), "a page too large is not retried");
            // The slot was freed: the next search gets one at once.
            assertEquals(1, client.count(endpoint(server), CONDITIONS));
        }
    }

    @Test
    void reportsASpoolThatCannotBeWritten()
            throws IOException
    {
        Path missing = temporary.resolve("no-such-directory");
        FhirTestServer server = server((exchange, _) -> send(exchange, 200, page(null, condition("c1"), condition("c2"))));
        HttpSettings settings = settings(3, Duration.ofSeconds(5), 1, Duration.ofSeconds(5));
        FhirSearchClient client = new FhirSearchClient(settings, FhirSearchClient.MAX_PAGES, new PageSpool(missing, 64, settings.maxResponseBytes()));
        closeAfterTest.add(client);
        FhirRequestException e = failure(client.search(endpoint(server), CONDITIONS, 10));

        assertEquals(FhirRequestException.Kind.SPOOL, e.kind());
        assertTrue(e.getMessage().startsWith("FHIR domain RX1: Condition search failed: cannot spool the page to " + missing + ": "), e.getMessage());
        assertTrue(e.getMessage().endsWith("(the JVM's java.io.tmpdir)"), e.getMessage());
        assertEquals(1, client.metrics().requests(), "a local disk problem is not the server's: not retried");
        assertSafe(e);
    }

    private static void write(OutputStream out, AtomicInteger bytesSent, String text)
            throws IOException
    {
        byte[] bytes = text.getBytes(UTF_8);
        out.write(bytes);
        bytesSent.addAndGet(bytes.length);
    }

    @Test
    void refusesNextLinksLeavingTheEndpoint()
            throws IOException
    {
        AtomicReference<String> next = new AtomicReference<>();
        FhirTestServer server = server((exchange, _) -> send(exchange, 200, page(next.get(), condition("c1"))));
        FhirSearchClient client = client();
        String origin = server.origin();
        String port = origin.substring(origin.lastIndexOf(':') + 1);
        Map<String, String> links = Map.of(
                "http://attacker.example/fhir/rx1?_getpages=" + NHS_NUMBER, "points to http://attacker.example:80",
                "http://localhost:" + port + "/fhir/rx1?_getpages=x", "points to http://localhost:" + port,
                "https://127.0.0.1:" + port + "/fhir/rx1?_getpages=x", "points to https://127.0.0.1:" + port,
                "http://127.0.0.1:1/fhir/rx1?_getpages=x", "points to http://127.0.0.1:1,",
                origin + "/fhir/rx2?_getpages=x", "leaves the endpoint's base path /fhir/rx1",
                origin + "/fhir/rx1x?_getpages=x", "leaves the endpoint's base path /fhir/rx1",
                origin + "/fhir/rx1/../rx2?_getpages=x", "leaves the endpoint's base path /fhir/rx1",
                "/fhir/rx1?_getpages=x", "is not an absolute http(s) URL",
                "http://user:pw@127.0.0.1:" + port + "/fhir/rx1?_getpages=x", "carries user credentials");
        links.forEach((link, complaint) -> {
            next.set(link);
            List<String> read = new ArrayList<>();
            FhirRequestException e = failure(client.search(endpoint(server), CONDITIONS, 10), read);

            assertEquals(List.of("c1"), read, link);
            assertEquals(PAGING, e.kind(), link);
            assertTrue(e.getMessage().startsWith("FHIR domain RX1: Condition search failed: the next link "), e.getMessage());
            assertTrue(e.getMessage().contains(complaint), e.getMessage());
            assertFalse(e.getMessage().contains("_getpages"), e.getMessage());
            assertSafe(e);
        });
        assertTrue(server.requests().stream().allMatch(request -> request.pathAndQuery().startsWith("/fhir/rx1/Condition?")), server.requests().toString());
    }

    @Test
    void detectsPagingLoops()
            throws IOException
    {
        FhirTestServer server = server((exchange, number) ->
                send(exchange, 200, page(FhirTestServer.base(exchange) + "?_getpages=abc&page=2", condition("c" + number))));
        List<String> read = new ArrayList<>();
        FhirRequestException e = failure(client().search(endpoint(server), CONDITIONS, 10), read);

        assertEquals(List.of("c1", "c2"), read);
        assertEquals(PAGING, e.kind());
        assertEquals("FHIR domain RX1: Condition search failed on page 2: the next link repeats an earlier page after 2 pages (paging loop)", e.getMessage());
    }

    @Test
    void capsThePageCount()
            throws IOException
    {
        FhirTestServer server = server((exchange, number) ->
                send(exchange, 200, page(FhirTestServer.base(exchange) + "?_getpages=abc&page=" + (number + 1), condition("c" + number))));
        HttpSettings settings = settings(1, Duration.ZERO, 1, Duration.ofSeconds(5));
        FhirSearchClient client = new FhirSearchClient(settings, 3, new PageSpool(temporary, 1 << 20, settings.maxResponseBytes()));
        closeAfterTest.add(client);
        List<String> read = new ArrayList<>();
        FhirRequestException e = failure(client.search(endpoint(server), CONDITIONS, 1), read);

        assertEquals(List.of("c1", "c2", "c3"), read);
        assertEquals(PAGING, e.kind());
        assertTrue(e.getMessage().contains("more than 3 pages"), e.getMessage());
    }

    @Test
    void reportsErrorStatusWithOperationOutcomeButNoTokenOrQueryValue()
            throws IOException
    {
        FhirTestServer server = server((exchange, _) -> send(exchange, 500,
                operationOutcome("Search failed for https://fhir.nhs.uk/Id/nhs-number|" + NHS_NUMBER + " with " + TOKEN)));
        FhirEndpoint endpoint = new FhirEndpoint("RX1", server.base(), tokenFile(TOKEN));
        FhirSearchClient client = client();
        FhirRequestException e = failure(client.search(endpoint, CONDITIONS, 10));

        assertEquals(HTTP_STATUS, e.kind());
        assertEquals(OptionalInt.of(500), e.httpStatus());
        assertEquals("RX1", e.domain());
        assertEquals("Condition", e.resourceType());
        assertEquals("FHIR domain RX1: Condition search failed: HTTP 500 Internal Server Error: Search failed for … with …", e.getMessage());
        assertSafe(e);
        assertEquals(1, client.metrics().requests());
        assertEquals("Bearer " + TOKEN, server.requests().getFirst().authorization());
    }

    @Test
    void truncatesLongDiagnostics()
            throws IOException
    {
        FhirTestServer server = server((exchange, _) -> send(exchange, 400, operationOutcome("x".repeat(5000))));
        FhirRequestException e = failure(client().search(endpoint(server), CONDITIONS, 10));

        assertEquals("FHIR domain RX1: Condition search failed: HTTP 400 Bad Request: " + "x".repeat(300) + "…", e.getMessage());
    }

    @Test
    void reportsErrorStatusWithoutOperationOutcome()
            throws IOException
    {
        FhirTestServer server = server((exchange, _) -> {
            exchange.getResponseHeaders().set("Content-Type", "text/html");
            byte[] html = ("<html>proxy error for " + NHS_NUMBER + "</html>").getBytes(UTF_8);
            exchange.sendResponseHeaders(404, html.length);
            exchange.getResponseBody().write(html);
        });
        FhirRequestException e = failure(client().search(endpoint(server), CONDITIONS, 10));

        assertEquals("FHIR domain RX1: Condition search failed: HTTP 404 Not Found", e.getMessage());
        assertEquals(OptionalInt.of(404), e.httpStatus());
    }

    @Test
    void hintsAtCredentialsOnUnauthorized()
            throws IOException
    {
        FhirTestServer server = server((exchange, _) -> send(exchange, 401, operationOutcome("Invalid token " + TOKEN)));
        Path file = temporary.resolve("rx1.token");
        Files.writeString(file, TOKEN + "\n");
        FhirRequestException e = failure(client().search(new FhirEndpoint("RX1", server.base(), BearerToken.fromFile(file, Optional.of(temporary))), CONDITIONS, 10));

        assertEquals(HTTP_STATUS, e.kind());
        assertEquals("FHIR domain RX1: Condition search failed: HTTP 401 Unauthorized: Invalid token … "
                + "(check the credentials configured for this endpoint: bearer token from file " + file + ")", e.getMessage());
        assertSafe(e);
    }

    @Test
    void readsTheTokenOnEveryRequestAndNeverShowsIt()
            throws IOException
    {
        FhirTestServer server = server((exchange, _) -> send(exchange, 200, page(null, condition("c1"))));
        Path file = temporary.resolve("rx1.token");
        Files.writeString(file, "first-token");
        FhirEndpoint endpoint = new FhirEndpoint("RX1", server.base(), BearerToken.fromFile(file, Optional.of(temporary)));
        FhirSearchClient client = client();
        ids(client.search(endpoint, CONDITIONS, 10));
        Files.writeString(file, "rotated-token\n");
        ids(client.search(endpoint, CONDITIONS, 10));

        assertEquals(List.of("Bearer first-token", "Bearer rotated-token"), server.requests().stream().map(FhirTestServer.Request::authorization).toList());
        assertEquals("FhirEndpoint[domain=RX1, baseUrl=%s, auth=bearer token from file %s]".formatted(server.base(), file), endpoint.toString());
    }

    @Test
    void reportsMissingTokenSourcesByName()
            throws IOException
    {
        FhirTestServer server = server((exchange, _) -> send(exchange, 200, page(null, condition("c1"))));
        String variable = "FHIR_MESH_TOKEN_TEST_UNSET_" + System.nanoTime();
        FhirRequestException e = failure(client().search(new FhirEndpoint("RX1", server.base(), BearerToken.fromEnvironment(variable)), CONDITIONS, 10));

        assertEquals(AUTH_CONFIGURATION, e.kind());
        assertEquals("FHIR domain RX1: Condition search failed: bearer token environment variable " + variable + " is not set", e.getMessage());

        Path missing = temporary.resolve("missing.token");
        e = failure(client().search(new FhirEndpoint("RX1", server.base(), BearerToken.fromFile(missing, Optional.of(temporary))), CONDITIONS, 10));
        assertEquals(AUTH_CONFIGURATION, e.kind());
        assertTrue(e.getMessage().contains("bearer token file " + missing + " cannot be read"), e.getMessage());
        assertEquals(List.of(), server.requests());
    }

    @Test
    void refusesTokensThatCannotBeAHeader()
            throws IOException
    {
        FhirTestServer server = server((exchange, _) -> send(exchange, 200, page(null, condition("c1"))));
        FhirRequestException e = failure(client().search(new FhirEndpoint("RX1", server.base(), tokenFile("two words")), CONDITIONS, 10));

        assertEquals(AUTH_CONFIGURATION, e.kind());
        assertTrue(e.getMessage().endsWith("contains characters that cannot be sent in an HTTP header"), e.getMessage());
        assertFalse(e.getMessage().contains("two words"), e.getMessage());
    }

    private BearerToken tokenFile(String token)
            throws IOException
    {
        Path file = Files.createTempFile(temporary, "token", "");
        Files.writeString(file, token);
        return BearerToken.fromFile(file, Optional.of(temporary));
    }

    @Test
    void reportsAnOperationOutcomeInsteadOfABundle()
            throws IOException
    {
        FhirTestServer server = server((exchange, _) -> send(exchange, 200, operationOutcome("HAPI-0304: Cannot combine the _summary and _elements parameters")));
        FhirRequestException e = failure(client().search(endpoint(server), CONDITIONS, 10));

        assertEquals(OPERATION_OUTCOME, e.kind());
        assertEquals("FHIR domain RX1: Condition search failed: the server answered with an OperationOutcome instead of a Bundle: "
                + "HAPI-0304: Cannot combine the _summary and _elements parameters", e.getMessage());
    }

    @Test
    void refusesResponsesThatAreNotBundles()
            throws IOException
    {
        AtomicReference<String> body = new AtomicReference<>();
        AtomicReference<String> contentType = new AtomicReference<>("application/fhir+json");
        FhirTestServer server = server((exchange, _) -> send(exchange, 200, body.get(), Map.of("Content-Type", contentType.get())));
        // Six malformed pages in a row would open the endpoint's circuit (TestCircuitBreaker); this test is about the messages.
        FhirSearchClient client = client(new HttpSettings(Duration.ofSeconds(2), Duration.ofSeconds(5), 3, Duration.ofSeconds(10), 4, 64L << 20, 1000, Duration.ofSeconds(30)));
        Map<String, String> cases = Map.of(
                resource("Patient", "p1"), "the response is a Patient, not a Bundle",
                "[1, 2]", "response body is not a JSON object",
                "{\"resourceType\":\"Bundle\",\"type\":\"searchset\",\"entry\":[{\"resource\":{\"resourceType\":\"Condition\",\"id\":\"c1\",\"note\":" + NHS_NUMBER + "x}}]}",
                "malformed JSON at line 1, column 121",
                "{\"resourceType\":\"Bundle\",\"entry\":[{\"resource\":{\"resourceType\":\"Condition\",\"id\":\"" + NHS_NUMBER,
                "truncated JSON, unexpected end of input at line 1, column 91",
                page(null, condition("c1")) + "{}", "unexpected content after the Bundle",
                "{\"type\":\"searchset\"}", "the response has no resourceType");
        cases.forEach((text, complaint) -> {
            body.set(text);
            FhirRequestException e = failure(client.search(endpoint(server), CONDITIONS, 10));

            assertEquals(MALFORMED_RESPONSE, e.kind(), text);
            assertEquals("FHIR domain RX1: Condition search failed: " + complaint, e.getMessage());
            assertSafe(e);
        });

        body.set("<html><body>Please log in</body></html>");
        contentType.set("text/html; charset=utf-8");
        FhirRequestException e = failure(client.search(endpoint(server), CONDITIONS, 10));
        assertEquals("FHIR domain RX1: Condition search failed: the response is text/html, not FHIR JSON", e.getMessage());
    }

    @Test
    void retriesAfterTheDelayTheServerAsks()
            throws IOException
    {
        FhirTestServer server = server((exchange, number) -> {
            if (number == 1) {
                send(exchange, 429, operationOutcome("slow down"), Map.of("Retry-After", "1"));
            }
            else {
                send(exchange, 200, page(null, condition("c1")));
            }
        });
        FhirSearchClient client = client();
        long start = System.nanoTime();

        assertEquals(List.of("c1"), ids(client.search(endpoint(server), CONDITIONS, 10)));
        assertTrue(Duration.ofNanos(System.nanoTime() - start).toMillis() >= 950);
        assertEquals(1, client.metrics().retries());
        assertEquals(2, client.metrics().requests());
    }

    @Test
    void failsAtOnceWhenRetryAfterExceedsTheBudget()
            throws IOException
    {
        FhirTestServer server = server((exchange, _) -> send(exchange, 503, operationOutcome("maintenance"), Map.of("Retry-After", "120")));
        FhirSearchClient client = client(settings(5, Duration.ofSeconds(5), 4, Duration.ofSeconds(5)));
        long start = System.nanoTime();
        FhirRequestException e = failure(client.search(endpoint(server), CONDITIONS, 10));

        assertTrue(Duration.ofNanos(System.nanoTime() - start).toSeconds() < 3);
        assertEquals(HTTP_STATUS, e.kind());
        assertTrue(e.getMessage().startsWith("FHIR domain RX1: Condition search failed: HTTP 503 Service Unavailable: maintenance "
                + "(not retried: the server asked to retry after 120s, beyond the remaining retry budget of "), e.getMessage());
        assertEquals(1, client.metrics().requests());
        assertEquals(0, client.metrics().retries());
    }

    @Test
    void givesUpAfterMaxAttempts()
            throws IOException
    {
        FhirTestServer server = server((exchange, _) -> send(exchange, 503, ""));
        FhirSearchClient client = client(settings(3, Duration.ofSeconds(10), 4, Duration.ofSeconds(5)));
        FhirRequestException e = failure(client.search(endpoint(server), CONDITIONS, 10));

        assertEquals("FHIR domain RX1: Condition search failed: HTTP 503 Service Unavailable (gave up after 3 attempts)", e.getMessage());
        assertEquals(3, client.metrics().requests());
        assertEquals(2, client.metrics().retries());
    }

    @Test
    void retriesLaterPagesToo()
            throws IOException
    {
        FhirTestServer server = server((exchange, number) -> {
            switch (number) {
                case 1 -> send(exchange, 200, page(FhirTestServer.base(exchange) + "?_getpages=abc", condition("c1")));
                case 2 -> send(exchange, 502, "");
                default -> send(exchange, 200, page(null, condition("c2")));
            }
        });
        FhirSearchClient client = client();

        assertEquals(List.of("c1", "c2"), ids(client.search(endpoint(server), CONDITIONS, 10)));
        assertEquals(1, client.metrics().retries());
        assertEquals("/fhir/rx1?_getpages=abc", server.requests().get(2).pathAndQuery());
    }

    @Test
    void reportsARefusedConnectionQuickly()
            throws IOException
    {
        int closedPort;
        try (ServerSocket socket = new ServerSocket(0)) {
            closedPort = socket.getLocalPort();
        }
        FhirSearchClient client = client(settings(2, Duration.ofSeconds(10), 4, Duration.ofSeconds(5)));
        FhirEndpoint endpoint = new FhirEndpoint("RX1", URI.create("http://127.0.0.1:" + closedPort + "/fhir/rx1"), null);
        long start = System.nanoTime();
        FhirRequestException e = failure(client.search(endpoint, CONDITIONS, 10));

        assertTrue(Duration.ofNanos(System.nanoTime() - start).toSeconds() < 3);
        assertEquals(UNREACHABLE, e.kind());
        assertEquals("FHIR domain RX1: Condition search failed: cannot connect to http://127.0.0.1:" + closedPort + "/fhir/rx1: connection refused (gave up after 2 attempts)", e.getMessage());
        assertEquals(1, client.metrics().retries());
        assertSafe(e);
    }

    @Test
    void timesOutWaitingForTheResponse()
            throws IOException
    {
        FhirTestServer server = server((exchange, _) -> {
            Thread.sleep(3000);
            send(exchange, 200, page(null, condition("c1")));
        });
        FhirSearchClient client = client(settings(3, Duration.ofSeconds(10), 4, Duration.ofMillis(300)));
        long start = System.nanoTime();
        FhirRequestException e = failure(client.search(endpoint(server), CONDITIONS, 10));

        assertTrue(Duration.ofNanos(System.nanoTime() - start).toMillis() < 2500);
        assertEquals(TIMEOUT, e.kind());
        assertEquals("FHIR domain RX1: Condition search failed: no response from " + server.base() + " within 300ms", e.getMessage());
        assertEquals(1, client.metrics().requests());
    }

    @Test
    void timesOutWhenTheBodyStalls()
            throws IOException
    {
        FhirTestServer server = server((exchange, _) -> {
            exchange.sendResponseHeaders(200, 0);
            exchange.getResponseBody().write("{\"resourceType\":\"Bundle\",\"entry\":[".getBytes(UTF_8));
            exchange.getResponseBody().flush();
            Thread.sleep(5000);
        });
        FhirSearchClient client = client(settings(3, Duration.ofSeconds(10), 4, Duration.ofMillis(300)));
        long start = System.nanoTime();
        FhirRequestException e = failure(client.search(endpoint(server), CONDITIONS, 10));

        assertTrue(Duration.ofNanos(System.nanoTime() - start).toMillis() < 2500);
        assertEquals(TIMEOUT, e.kind());
        assertEquals("FHIR domain RX1: Condition search failed: the server sent no data for longer than the request timeout while sending the page", e.getMessage());
    }

    @Test
    void refetchesAPageCutOffBeforeAnyOfItsResources()
            throws IOException
    {
        String body = page(null, condition("c1"), condition("c2"));
        FhirTestServer server = server((exchange, number) -> {
            if (number == 1) {
                exchange.sendResponseHeaders(200, body.length());
                exchange.getResponseBody().write(body.substring(0, 40).getBytes(UTF_8));
                exchange.getResponseBody().flush();
                throw new IOException("connection dropped on purpose");
            }
            send(exchange, 200, body);
        });
        FhirSearchClient client = client();

        assertEquals(List.of("c1", "c2"), ids(client.search(endpoint(server), CONDITIONS, 10)));
        assertEquals(1, client.metrics().retries());
    }

    @Test
    void neverHandsOutPartOfAPageThatWasCutOff()
            throws IOException
    {
        String body = page(null, condition("c1"), condition("c2"), condition("c3"));
        String cut = body.substring(0, body.indexOf("\"c3\""));
        FhirTestServer flaky = server((exchange, number) -> {
            if (number > 1) {
                send(exchange, 200, body);
                return;
            }
            exchange.sendResponseHeaders(200, body.length());
            exchange.getResponseBody().write(cut.getBytes(UTF_8));
            exchange.getResponseBody().flush();
            throw new IOException("connection dropped on purpose");
        });
        FhirSearchClient client = client();
        // Two resources had arrived before the cut, but none was handed out, so the page is fetched again.
        assertEquals(List.of("c1", "c2", "c3"), ids(client.search(endpoint(flaky), CONDITIONS, 10)));
        assertEquals(1, client.metrics().retries());

        FhirTestServer broken = server((exchange, _) -> {
            exchange.sendResponseHeaders(200, body.length());
            exchange.getResponseBody().write(cut.getBytes(UTF_8));
            exchange.getResponseBody().flush();
            throw new IOException("connection dropped on purpose");
        });
        FhirSearchClient giveUp = client(settings(2, Duration.ofSeconds(5), 4, Duration.ofSeconds(5)));
        List<String> read = new ArrayList<>();
        FhirRequestException e = failure(giveUp.search(endpoint(broken), CONDITIONS, 10), read);

        assertEquals(List.of(), read);
        assertEquals(UNREACHABLE, e.kind());
        assertTrue(e.getMessage().startsWith("FHIR domain RX1: Condition search failed: connection lost while reading the response: "), e.getMessage());
        assertTrue(e.getMessage().endsWith("(gave up after 2 attempts)"), e.getMessage());
        assertEquals(2, giveUp.metrics().requests());
    }

    @Test
    void limitsConcurrentRequestsPerEndpoint()
            throws Exception
    {
        AtomicInteger inFlight = new AtomicInteger();
        AtomicInteger maxInFlight = new AtomicInteger();
        FhirTestServer server = server((exchange, _) -> {
            // Counted while the handler works, which lies within the time the client holds the slot.
            maxInFlight.accumulateAndGet(inFlight.incrementAndGet(), Math::max);
            Thread.sleep(50);
            inFlight.decrementAndGet();
            String query = exchange.getRequestURI().getRawQuery();
            int pageNumber = query.startsWith("_getpages") ? Integer.parseInt(query.substring(query.lastIndexOf('=') + 1)) : 1;
            String next = pageNumber < 3 ? FhirTestServer.base(exchange) + "?_getpages=" + (pageNumber + 1) : null;
            send(exchange, 200, page(next, condition("a" + pageNumber), condition("b" + pageNumber)));
        });
        FhirSearchClient client = client(settings(1, Duration.ZERO, 2, Duration.ofSeconds(20)));
        List<Future<List<String>>> streams = new ArrayList<>();
        try (ExecutorService threads = Executors.newFixedThreadPool(6)) {
            for (int i = 0; i < 6; i++) {
                streams.add(threads.submit(() -> ids(client.search(endpoint(server), CONDITIONS, 2))));
            }
            for (Future<List<String>> stream : streams) {
                assertEquals(List.of("a1", "b1", "a2", "b2", "a3", "b3"), stream.get(60, TimeUnit.SECONDS));
            }
        }
        assertEquals(2, maxInFlight.get());
        assertEquals(18, client.metrics().requests());
    }

    @Test
    void limitsConcurrentRequestsOverAllEndpointsFairlyAcrossStreams()
            throws Exception
    {
        AtomicInteger inFlight = new AtomicInteger();
        AtomicInteger maxInFlight = new AtomicInteger();
        FhirTestServer server = server((exchange, _) -> {
            maxInFlight.accumulateAndGet(inFlight.incrementAndGet(), Math::max);
            Thread.sleep(20);
            inFlight.decrementAndGet();
            String query = exchange.getRequestURI().getRawQuery();
            int pageNumber = query.startsWith("_getpages") ? Integer.parseInt(query.substring(query.lastIndexOf('=') + 1)) : 1;
            String next = pageNumber < 3 ? FhirTestServer.base(exchange) + "?_getpages=" + (pageNumber + 1) : null;
            send(exchange, 200, page(next, condition("a" + pageNumber), condition("b" + pageNumber)));
        });
        // 8 endpoints with 4 slots each would allow 32 requests at once; the overall bound allows 3.
        FhirSearchClient client = client(new HttpSettings(Duration.ofSeconds(2), Duration.ofSeconds(30), 1, Duration.ZERO, 4, 64L << 20, 1000, Duration.ofSeconds(30), 3));
        List<Future<List<String>>> streams = new ArrayList<>();
        try (ExecutorService threads = Executors.newVirtualThreadPerTaskExecutor()) {
            for (int i = 0; i < 32; i++) {
                FhirEndpoint endpoint = new FhirEndpoint("E" + i % 8, server.base(), null);
                streams.add(threads.submit(() -> ids(client.search(endpoint, CONDITIONS, 2))));
            }
            for (Future<List<String>> stream : streams) {
                assertEquals(List.of("a1", "b1", "a2", "b2", "a3", "b3"), stream.get(60, TimeUnit.SECONDS));
            }
        }
        assertEquals(3, maxInFlight.get(), "requests in flight at once over all endpoints, as the server saw them");
        assertEquals(96, client.metrics().requests());
    }

    @Test
    void waitingForAnOverallSlotCountsAgainstTheRequestTimeoutAndSaysWhichBound()
            throws Exception
    {
        CountDownLatch firstPageStarted = new CountDownLatch(1);
        CountDownLatch finishFirstPage = new CountDownLatch(1);
        String body = page(null, condition("c1"), condition("c2"));
        int split = body.indexOf("\"entry\":[") + "\"entry\":[".length();
        FhirTestServer server = server((exchange, number) -> {
            if (number == 1) {
                exchange.sendResponseHeaders(200, 0);
                OutputStream out = exchange.getResponseBody();
                out.write(body.substring(0, split).getBytes(UTF_8));
                out.flush();
                firstPageStarted.countDown();
                // Kept arriving (whitespace), so its request holds the only overall slot until released.
                while (!finishFirstPage.await(100, TimeUnit.MILLISECONDS)) {
                    out.write(' ');
                    out.flush();
                }
                out.write(body.substring(split).getBytes(UTF_8));
                out.close();
                return;
            }
            send(exchange, 200, body);
        });
        FhirSearchClient client = client(new HttpSettings(Duration.ofSeconds(2), Duration.ofSeconds(1), 1, Duration.ZERO, 4, 64L << 20, 1000, Duration.ofSeconds(30), 1));
        try (ExecutorService reader = Executors.newSingleThreadExecutor(); AutoCloseable _ = finishFirstPage::countDown) {
            ResourceStream arriving = client.search(new FhirEndpoint("RX1", server.base(), null), CONDITIONS, 10);
            Future<Boolean> first = reader.submit(arriving::hasNext);
            assertTrue(firstPageStarted.await(10, TimeUnit.SECONDS));
            // Another endpoint, whose own slots are all free: the overall bound is what it waits for.
            long started = System.nanoTime();
            FhirRequestException e = failure(client.search(new FhirEndpoint("RTH", server.base(), null), CONDITIONS, 10));
            long waitedMillis = (System.nanoTime() - started) / 1_000_000;
            assertEquals(TIMEOUT, e.kind());
            assertEquals("FHIR domain RTH: Condition search failed: no request slot for " + server.base() + " became free within 1s (at most 1 concurrent "
                    + "requests over all endpoints of the catalog on this Trino node, fhir.max-concurrent-requests)", e.getMessage());
            assertTrue(waitedMillis >= 900 && waitedMillis < 5_000, "waited " + waitedMillis + " ms");

            finishFirstPage.countDown();
            assertTrue(first.get(10, TimeUnit.SECONDS));
            assertEquals(List.of("c1", "c2"), ids(client.search(new FhirEndpoint("RTH", server.base(), null), CONDITIONS, 10)));
            assertEquals(List.of("c1", "c2"), ids(arriving));
        }
    }

    @Test
    void holdsASlotWhileAPageArrivesAndFreesItOnceItHas()
            throws Exception
    {
        CountDownLatch firstPageStarted = new CountDownLatch(1);
        CountDownLatch finishFirstPage = new CountDownLatch(1);
        String body = page(null, condition("c1"), condition("c2"));
        int split = body.indexOf("\"entry\":[") + "\"entry\":[".length();
        FhirTestServer server = server((exchange, number) -> {
            if (number == 1) {
                exchange.sendResponseHeaders(200, 0);
                OutputStream out = exchange.getResponseBody();
                out.write(body.substring(0, split).getBytes(UTF_8));
                out.flush();
                firstPageStarted.countDown();
                // Whitespace between JSON tokens keeps the page arriving, so the stall watchdog
                // (whose limit equals the slot wait) cannot end it and free the slot early.
                while (!finishFirstPage.await(100, TimeUnit.MILLISECONDS)) {
                    out.write(' ');
                    out.flush();
                }
                out.write(body.substring(split).getBytes(UTF_8));
                out.close();
                return;
            }
            send(exchange, 200, body);
        });
        FhirSearchClient client = client(settings(1, Duration.ZERO, 1, Duration.ofSeconds(2)));
        FhirEndpoint endpoint = endpoint(server);

        // The server is released before the executor's close() waits for the reader, so a failed assertion fails, not hangs.
        try (ExecutorService reader = Executors.newSingleThreadExecutor(); AutoCloseable _ = finishFirstPage::countDown) {
            ResourceStream arriving = client.search(endpoint, CONDITIONS, 10);
            Future<Boolean> first = reader.submit(arriving::hasNext);
            assertTrue(firstPageStarted.await(10, TimeUnit.SECONDS));
            // The first page is still arriving: its request holds the endpoint's only slot.
            FhirRequestException e = failure(client.search(endpoint, CONDITIONS, 10));
            assertEquals(TIMEOUT, e.kind());
            assertEquals("FHIR domain RX1: Condition search failed: no request slot of " + server.base() + " became free within 2s "
                    + "(at most 1 concurrent requests per endpoint)", e.getMessage());

            finishFirstPage.countDown();
            assertTrue(first.get(10, TimeUnit.SECONDS));
            assertEquals("c1", arriving.next().path("id").asText());
            // Arrived, though not yet read to its end, and so no longer holding the slot.
            assertEquals(List.of("c1", "c2"), ids(client.search(endpoint, CONDITIONS, 10)));
            assertEquals(List.of("c2"), ids(arriving));
        }
    }

    @Test
    void closingFromAnotherThreadAbortsTheReadAndFreesTheSlot()
            throws Exception
    {
        CountDownLatch reading = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        FhirTestServer server = server((exchange, number) -> {
            if (number == 1) {
                exchange.sendResponseHeaders(200, 0);
                exchange.getResponseBody().write("{\"resourceType\":\"Bundle\",\"entry\":[".getBytes(UTF_8));
                exchange.getResponseBody().flush();
                reading.countDown();
                release.await(20, TimeUnit.SECONDS);
                return;
            }
            send(exchange, 200, page(null, condition("c1")));
        });
        FhirSearchClient client = client(settings(3, Duration.ofSeconds(10), 1, Duration.ofSeconds(10)));
        ResourceStream stalled = client.search(endpoint(server), CONDITIONS, 10);
        // Resources close in reverse order: the server is released before close() waits for the reader.
        try (ExecutorService reader = Executors.newSingleThreadExecutor(); AutoCloseable _ = release::countDown) {
            AtomicReference<Thread> readingThread = new AtomicReference<>();
            Future<?> read = reader.submit(() -> {
                readingThread.set(Thread.currentThread());
                return stalled.hasNext();
            });
            assertTrue(reading.await(10, TimeUnit.SECONDS));
            awaitBlocked(readingThread);
            stalled.close();
            Exception e = assertThrows(Exception.class, () -> read.get(5, TimeUnit.SECONDS));
            FhirRequestException failure = assertInstanceOf(FhirRequestException.class, e.getCause());
            // Usually the close aborts a read blocked mid-body; on a slow machine it may come while the
            // client still waits for the headers. Either way the reader fails and the slot is freed.
            assertTrue(failure.getMessage().startsWith("FHIR domain RX1: Condition search failed: "), failure.getMessage());
            assertTrue(failure.getMessage().contains("the stream was closed"), failure.getMessage());
        }
        assertEquals(List.of("c1"), ids(client.search(endpoint(server), CONDITIONS, 10)));
        assertEquals(0, client.metrics().retries());
    }

    @Test
    void trustsASortOnlyWhenTheSelfLinkShowsItWasApplied()
            throws IOException
    {
        AtomicReference<String> selfQuery = new AtomicReference<>();
        FhirTestServer server = server((exchange, _) -> send(exchange, 200,
                "{\"resourceType\":\"Bundle\",\"type\":\"searchset\",\"link\":[{\"relation\":\"self\",\"url\":\"" + FhirTestServer.base(exchange) + "/Condition?" + selfQuery.get() + "\"}],\"entry\":[]}"));
        FhirSearchClient client = client();
        FhirEndpoint endpoint = endpoint(server);

        selfQuery.set("code=x&_sort=%2D_lastUpdated&_count=1");
        assertTrue(client.appliesSort(endpoint, CONDITIONS, "-_lastUpdated"));
        selfQuery.set("code=x&_sort=_lastUpdated&_count=1");
        assertFalse(client.appliesSort(endpoint, CONDITIONS, "-_lastUpdated"), "the other direction");
        selfQuery.set("code=x&_count=1");
        assertFalse(client.appliesSort(endpoint, CONDITIONS, "-_lastUpdated"), "ignored");
        selfQuery.set("code=x&_sort=-_lastUpdated&_sort=_id");
        assertFalse(client.appliesSort(endpoint, CONDITIONS, "-_lastUpdated"), "sorted by something else too");
        assertTrue(server.requests().stream().allMatch(request -> request.pathAndQuery().contains("_sort=-_lastUpdated&_count=1&_elements=id")), server.requests().toString());
    }

    @Test
    void countsWithSummaryCount()
            throws IOException
    {
        FhirTestServer server = server((exchange, _) -> send(exchange, 200, "{\"resourceType\":\"Bundle\",\"type\":\"searchset\",\"total\":638}"));
        FhirSearchClient client = client();

        assertEquals(638, client.count(endpoint(server), CONDITIONS.with("_elements", "id,code").with("_count", "10")));
        assertEquals("/fhir/rx1/Condition?" + CONDITIONS.queryString() + "&_summary=count", server.requests().getFirst().pathAndQuery());
    }

    @Test
    void refusesACountWithoutTotal()
            throws IOException
    {
        FhirTestServer server = server((exchange, _) -> send(exchange, 200, "{\"resourceType\":\"Bundle\",\"type\":\"searchset\"}"));
        FhirRequestException e = assertThrows(FhirRequestException.class, () -> client().count(endpoint(server), CONDITIONS));

        assertEquals(MALFORMED_RESPONSE, e.kind());
        assertEquals("FHIR domain RX1: Condition count failed: the Bundle has no total", e.getMessage());
    }

    @Test
    void findsLastUpdatedBounds()
            throws IOException
    {
        FhirTestServer server = server((exchange, _) -> {
            String query = exchange.getRequestURI().getRawQuery();
            if (query.contains("code=none")) {
                send(exchange, 200, "{\"resourceType\":\"Bundle\",\"type\":\"searchset\",\"total\":0}");
                return;
            }
            String lastUpdated = query.contains("_sort=-_lastUpdated") ? "2024-06-02T11:30:00.5+01:00" : "2024-05-01T10:00:00.000+00:00";
            String resource = "{\"resourceType\":\"Condition\",\"id\":\"c1\",\"meta\":{\"lastUpdated\":\"" + lastUpdated + "\"}}";
            send(exchange, 200, page(FhirTestServer.base(exchange) + "?_getpages=abc", resource));
        });
        FhirSearchClient client = client();
        FhirEndpoint endpoint = endpoint(server);

        assertEquals(Optional.of(Instant.parse("2024-05-01T10:00:00Z")), client.lastUpdatedBound(endpoint, CONDITIONS, false));
        assertEquals(Optional.of(Instant.parse("2024-06-02T10:30:00.5Z")), client.lastUpdatedBound(endpoint, CONDITIONS.with("_sort", "code"), true));
        assertEquals(Optional.empty(), client.lastUpdatedBound(endpoint, FhirSearch.of("Condition").with("code", "none"), true));
        List<FhirTestServer.Request> requests = server.requests();
        assertEquals("/fhir/rx1/Condition?" + CONDITIONS.queryString() + "&_sort=_lastUpdated&_count=1&_elements=id", requests.get(0).pathAndQuery());
        assertEquals("/fhir/rx1/Condition?" + CONDITIONS.queryString() + "&_sort=-_lastUpdated&_count=1&_elements=id", requests.get(1).pathAndQuery());
        assertEquals(3, requests.size());
    }

    @Test
    void reportsLookupsByTheirOperation()
            throws IOException
    {
        FhirTestServer server = server((exchange, _) -> send(exchange, 500, ""));
        FhirSearchClient client = client(settings(1, Duration.ZERO, 1, Duration.ofSeconds(5)));

        FhirRequestException e = assertThrows(FhirRequestException.class, () -> client.lastUpdatedBound(endpoint(server), CONDITIONS, true));
        assertEquals("FHIR domain RX1: Condition highest _lastUpdated lookup failed: HTTP 500 Internal Server Error", e.getMessage());
        e = assertThrows(FhirRequestException.class, () -> client.count(endpoint(server), CONDITIONS));
        assertEquals("FHIR domain RX1: Condition count failed: HTTP 500 Internal Server Error", e.getMessage());
    }
}
