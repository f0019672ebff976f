package uk.nhs.fhirmesh.trino;

import com.sun.net.httpserver.HttpHandler;
import com.sun.net.httpserver.HttpServer;
import io.airlift.slice.Slices;
import io.trino.spi.TrinoException;
import io.trino.spi.connector.ColumnHandle;
import io.trino.spi.connector.ConnectorSession;
import io.trino.spi.connector.ConnectorSplit;
import io.trino.spi.connector.ConnectorSplitSource;
import io.trino.spi.connector.ConnectorSplitSource.ConnectorSplitBatch;
import io.trino.spi.connector.Constraint;
import io.trino.spi.connector.DynamicFilter;
import io.trino.spi.connector.SchemaTableName;
import io.trino.spi.predicate.Domain;
import io.trino.spi.predicate.TupleDomain;
import io.trino.spi.session.PropertyMetadata;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import uk.nhs.fhirmesh.client.FhirSearchClient;
import uk.nhs.fhirmesh.client.HttpSettings;

import java.io.IOException;
import java.io.OutputStream;
import java.lang.reflect.Proxy;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.IntStream;

import static io.trino.spi.type.VarcharType.VARCHAR;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A dynamic filter on the {@code domain} column (Trino's, from {@code domain IN (SELECT domain FROM mesh.domains WHERE ...)}
 * or a join on domain) decides which endpoints split planning asks: the split source waits for it, bounded by
 * {@code fhir.dynamic-filtering.wait-timeout}. Domains are planned several at once on the catalog's bounded planning pool,
 * their splits handed out in catalog order. The domains share one loopback server that answers every count with one
 * resource (slowly, or failing, where a test says) and records each request's path.
 */
class TestDomainSplitSource
{
    private static final SchemaTableName CONDITION = new SchemaTableName(FhirCatalog.SCHEMA, "condition");
    private static final FhirColumnHandle DOMAIN = new FhirColumnHandle("domain", VARCHAR);
    private static final FhirColumnHandle CODE = new FhirColumnHandle("code", VARCHAR);

    @TempDir
    Path mappings;
    private HttpServer server;
    private final ExecutorService serverThreads = Executors.newVirtualThreadPerTaskExecutor();
    private final ConcurrentLinkedQueue<String> paths = new ConcurrentLinkedQueue<>();
    private FhirSearchClient client;
    private FhirCatalog catalog;
    private FhirSplitManager splitManager;

    private void start(String waitTimeout)
            throws IOException
    {
        start(Map.of("fhir.dynamic-filtering.wait-timeout", waitTimeout), List.of("RX1", "RTH", "RR8"), exchange -> {
            byte[] body = "{\"resourceType\":\"Bundle\",\"type\":\"searchset\",\"total\":1}".getBytes(UTF_8);
            exchange.getResponseHeaders().set("Content-Type", "application/fhir+json");
            exchange.sendResponseHeaders(200, body.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(body);
            }
        });
    }

    /** One loopback server for every domain ({@code /fhir/<domain>}), answering each request on its own thread. */
    private void start(Map<String, String> settings, List<String> domains, HttpHandler handler)
            throws IOException
    {
        Files.copy(Path.of("..", "sql-mappings", "condition.json"), mappings.resolve("condition.json"));
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.setExecutor(serverThreads);
        server.createContext("/", exchange -> {
            paths.add(exchange.getRequestURI().getRawPath());
            handler.handle(exchange);
        });
        server.start();
        String base = "http://127.0.0.1:" + server.getAddress().getPort() + "/fhir/";
        Map<String, String> properties = new HashMap<>(settings);
        properties.put("connector.name", "fhir");
        properties.put("fhir.domains", String.join(",", domains));
        properties.put("fhir.mappings.dir", mappings.toString());
        for (String domain : domains) {
            properties.put("fhir.domain." + domain + ".base-url", base + domain.toLowerCase(Locale.ROOT));
        }
        catalog = new FhirCatalog(FhirConfig.parse(properties), Optional.empty());
        // As many request slots as the test may want in flight: what bounds planning here is the planning pool.
        client = new FhirSearchClient(new HttpSettings(Duration.ofSeconds(5), Duration.ofSeconds(5), 1, Duration.ZERO, 4, 1L << 20, 1000, Duration.ofSeconds(30), 1024));
    }

    @AfterEach
    void stop()
    {
        if (splitManager != null) {
            splitManager.shutdown();
            splitManager = null;
        }
        if (client != null) {
            client.close();
            server.stop(0);
        }
    }

    /** A dynamic filter as Trino hands it over: blocked until the build side is read, then narrowed to {@code complete}. */
    private static final class TestingDynamicFilter
            implements DynamicFilter
    {
        private final Set<ColumnHandle> covered;
        private final CompletableFuture<TupleDomain<ColumnHandle>> collected = new CompletableFuture<>();

        TestingDynamicFilter(ColumnHandle covered)
        {
            this.covered = Set.of(covered);
        }

        void complete(TupleDomain<ColumnHandle> predicate)
        {
            collected.complete(predicate);
        }

        @Override
        public Set<ColumnHandle> getColumnsCovered()
        {
            return covered;
        }

        @Override
        public CompletableFuture<?> isBlocked()
        {
            return collected;
        }

        @Override
        public boolean isComplete()
        {
            return collected.isDone();
        }

        @Override
        public boolean isAwaitable()
        {
            return !collected.isDone();
        }

        @Override
        public TupleDomain<ColumnHandle> getCurrentPredicate()
        {
            return collected.getNow(TupleDomain.all());
        }
    }

    private static TupleDomain<ColumnHandle> domainIn(String... codes)
    {
        return TupleDomain.withColumnDomains(Map.of(DOMAIN, Domain.multipleValues(VARCHAR, List.of(codes).stream().map(Slices::utf8Slice).toList())));
    }

    private ConnectorSplitSource splitSource(DynamicFilter dynamicFilter)
    {
        ConnectorSession session = defaultSession(catalog.config());
        FhirTableHandle handle = (FhirTableHandle) new FhirMetadata(catalog).getTableHandle(session, CONDITION, Optional.empty(), Optional.empty());
        if (splitManager == null) {
            splitManager = new FhirSplitManager(catalog, client);
        }
        return splitManager.getSplits(null, session, handle, dynamicFilter, Constraint.alwaysTrue());
    }

    /** Every session property at its default. */
    private static ConnectorSession defaultSession(FhirConfig config)
    {
        Map<String, Object> defaults = new HashMap<>();
        for (PropertyMetadata<?> property : FhirSessionProperties.properties(config)) {
            defaults.put(property.getName(), property.getDefaultValue());
        }
        return (ConnectorSession) Proxy.newProxyInstance(TestDomainSplitSource.class.getClassLoader(), new Class<?>[] {ConnectorSession.class},
                (proxy, method, args) -> {
                    if (method.getName().equals("getProperty") && defaults.containsKey((String) args[0])) {
                        return defaults.get((String) args[0]);
                    }
                    if (method.getName().equals("getQueryId")) {
                        return Sessions.QUERY_ID;
                    }
                    if (method.getName().equals("getTraceToken")) {
                        return Optional.empty();
                    }
                    throw new UnsupportedOperationException(method.getName() + (args == null ? "" : " " + List.of(args)));
                });
    }

    /** The domains of every split, asking until the source says there are no more. */
    private static List<String> drain(ConnectorSplitSource source)
            throws Exception
    {
        List<String> domains = new ArrayList<>();
        while (!source.isFinished()) {
            ConnectorSplitBatch batch = source.getNextBatch(1000).get(10, TimeUnit.SECONDS);
            for (ConnectorSplit split : batch.getSplits()) {
                domains.add(((FhirSplit) split).domain());
            }
            if (batch.isNoMoreSplits()) {
                break;
            }
        }
        return domains;
    }

    @Test
    void waitsForTheFilterAndNeverAsksTheDomainsItExcludes()
            throws Exception
    {
        start("10s");
        TestingDynamicFilter filter = new TestingDynamicFilter(DOMAIN);
        try (ConnectorSplitSource source = splitSource(filter)) {
            CompletableFuture<ConnectorSplitBatch> first = source.getNextBatch(1000);
            Thread.sleep(200);
            assertFalse(first.isDone(), "the first batch waits for the filter");
            assertEquals(List.of(), List.copyOf(paths), "nothing is asked before the filter is known");

            filter.complete(domainIn("RTH", "XYZ"));
            assertEquals(List.of(), first.get(5, TimeUnit.SECONDS).getSplits());
            assertEquals(List.of("RTH"), drain(source));
        }
        assertEquals(List.of("/fhir/rth/Condition"), List.copyOf(paths), "the count of split planning goes to the admitted domain only");
    }

    @Test
    void pastTheWaitEveryDomainIsReadSoTheAnswerIsUnchanged()
            throws Exception
    {
        start("300ms");
        TestingDynamicFilter never = new TestingDynamicFilter(DOMAIN);
        long started = System.nanoTime();
        try (ConnectorSplitSource source = splitSource(never)) {
            assertEquals(List.of("RX1", "RTH", "RR8"), drain(source));
        }
        long waitedMillis = (System.nanoTime() - started) / 1_000_000;
        assertTrue(waitedMillis >= 290 && waitedMillis < 5_000, "waited " + waitedMillis + " ms");
        assertEquals(Set.of("/fhir/rx1/Condition", "/fhir/rth/Condition", "/fhir/rr8/Condition"), Set.copyOf(paths));
        assertEquals(3, paths.size());
    }

    @Test
    void aFilterCompleteBeforePlanningPrunesWithoutWaiting()
            throws Exception
    {
        start("10s");
        TestingDynamicFilter filter = new TestingDynamicFilter(DOMAIN);
        filter.complete(domainIn("RX1", "RR8"));
        long started = System.nanoTime();
        try (ConnectorSplitSource source = splitSource(filter)) {
            assertEquals(List.of("RX1", "RR8"), drain(source));
            assertTrue(source.isFinished());
        }
        assertNotWaited(started);
    }

    @Test
    void aFilterAdmittingNoDomainAsksNone()
            throws Exception
    {
        start("10s");
        TestingDynamicFilter filter = new TestingDynamicFilter(DOMAIN);
        filter.complete(TupleDomain.none());
        try (ConnectorSplitSource source = splitSource(filter)) {
            assertEquals(List.of(), drain(source));
            assertTrue(source.isFinished());
        }
        assertEquals(List.of(), List.copyOf(paths));
    }

    @Test
    void aFilterOnAnotherColumnOrAZeroWaitIsNotWaitedFor()
            throws Exception
    {
        start("10s");
        long started = System.nanoTime();
        try (ConnectorSplitSource source = splitSource(new TestingDynamicFilter(CODE))) {
            // A filter that cannot drop a domain is no reason to wait.
            assertEquals(List.of("RX1", "RTH", "RR8"), drain(source));
        }
        assertNotWaited(started);
        stop();
        paths.clear();
        Files.delete(mappings.resolve("condition.json"));
        started = System.nanoTime();

        start("0s");
        try (ConnectorSplitSource source = splitSource(new TestingDynamicFilter(DOMAIN))) {
            // fhir.dynamic-filtering.wait-timeout=0s never waits.
            assertEquals(List.of("RX1", "RTH", "RR8"), drain(source));
        }
        assertNotWaited(started);
    }

    @Test
    void theEmptyFilterOfAScanWithoutJoinReadsEveryDomainAtOnce()
            throws Exception
    {
        start("10s");
        long started = System.nanoTime();
        try (ConnectorSplitSource source = splitSource(DynamicFilter.EMPTY)) {
            assertEquals(List.of("RX1", "RTH", "RR8"), drain(source));
        }
        assertNotWaited(started);
    }

    /** Well under the 10 s the tests' filters could be waited for. */
    private static void assertNotWaited(long startedNanos)
    {
        long millis = (System.nanoTime() - startedNanos) / 1_000_000;
        assertTrue(millis < 3_000, "planned in " + millis + " ms, as if the dynamic filter had been waited for");
    }

    /** D01, D02, ...: as many domains as a test wants. */
    private static List<String> domains(int count)
    {
        return IntStream.rangeClosed(1, count).mapToObj(i -> "D%02d".formatted(i)).toList();
    }

    @Test
    void domainsArePlannedConcurrentlyButNeverMoreThanThePlanningConcurrencyAtOnce()
            throws Exception
    {
        int domains = 24;
        int concurrency = 4;
        long delayMillis = 150;
        AtomicInteger inFlight = new AtomicInteger();
        AtomicInteger mostInFlight = new AtomicInteger();
        start(Map.of("fhir.split.planning-concurrency", String.valueOf(concurrency)), domains(domains), exchange -> {
            mostInFlight.accumulateAndGet(inFlight.incrementAndGet(), Math::max);
            try {
                Thread.sleep(delayMillis);
            }
            catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            inFlight.decrementAndGet();
            byte[] body = "{\"resourceType\":\"Bundle\",\"type\":\"searchset\",\"total\":1}".getBytes(UTF_8);
            exchange.getResponseHeaders().set("Content-Type", "application/fhir+json");
            exchange.sendResponseHeaders(200, body.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(body);
            }
        });
        long started = System.nanoTime();
        try (ConnectorSplitSource source = splitSource(DynamicFilter.EMPTY)) {
            CompletableFuture<ConnectorSplitBatch> first = source.getNextBatch(1000);
            long returnedMillis = (System.nanoTime() - started) / 1_000_000;
            assertTrue(returnedMillis < delayMillis, "getNextBatch returned after " + returnedMillis + " ms: Trino's thread waited for an endpoint");
            List<String> planned = new ArrayList<>(first.get(10, TimeUnit.SECONDS).getSplits().stream().map(split -> ((FhirSplit) split).domain()).toList());
            planned.addAll(drain(source));
            assertEquals(domains(domains), planned, "splits come in catalog order whichever domain answered first");
        }
        long millis = (System.nanoTime() - started) / 1_000_000;
        // ceil(24 / 4) * 150 ms = 900 ms when concurrent; 3600 ms one domain after another.
        assertTrue(millis < domains * delayMillis / 2, "planned " + domains + " domains in " + millis + " ms");
        assertEquals(concurrency, mostInFlight.get(), "counts in flight at once, as the server saw them");
        assertEquals(domains, paths.size());
    }

    @Test
    void theFirstDomainThatFailsFailsTheSourceNamingItAndTheOthersAreCancelled()
            throws Exception
    {
        start(Map.of("fhir.split.planning-concurrency", "4"), domains(24), exchange -> {
            if (exchange.getRequestURI().getRawPath().startsWith("/fhir/d03/")) {
                exchange.sendResponseHeaders(500, -1);
                exchange.close();
                return;
            }
            try {
                Thread.sleep(2_000);
            }
            catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            byte[] body = "{\"resourceType\":\"Bundle\",\"type\":\"searchset\",\"total\":1}".getBytes(UTF_8);
            exchange.getResponseHeaders().set("Content-Type", "application/fhir+json");
            exchange.sendResponseHeaders(200, body.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(body);
            }
        });
        long started = System.nanoTime();
        try (ConnectorSplitSource source = splitSource(DynamicFilter.EMPTY)) {
            // As Trino sees it (whenComplete, no unwrapping): the domain's own error, naming it.
            Throwable failure = source.getNextBatch(1000).handle((batch, error) -> error).get(10, TimeUnit.SECONDS);
            assertTrue(failure instanceof TrinoException, String.valueOf(failure));
            assertTrue(failure.getMessage().startsWith("FHIR domain D03: "), failure.getMessage());
        }
        long millis = (System.nanoTime() - started) / 1_000_000;
        assertTrue(millis < 1_500, "failed after " + millis + " ms: the source waited for the slow domains");
        // D01..D04 were under way when D03 failed; no further domain was asked.
        assertEquals(Set.of("/fhir/d01/Condition", "/fhir/d02/Condition", "/fhir/d03/Condition", "/fhir/d04/Condition"), Set.copyOf(paths));
    }

    @Test
    void aQueryStartedWhileAnotherPlansManyDomainsTakesTurnsInThePoolInsteadOfWaitingBehindIt()
            throws Exception
    {
        long delayMillis = 100;
        start(Map.of("fhir.split.planning-concurrency", "2"), domains(12), exchange -> {
            try {
                Thread.sleep(delayMillis);
            }
            catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            byte[] body = "{\"resourceType\":\"Bundle\",\"type\":\"searchset\",\"total\":1}".getBytes(UTF_8);
            exchange.getResponseHeaders().set("Content-Type", "application/fhir+json");
            exchange.sendResponseHeaders(200, body.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(body);
            }
        });
        TestingDynamicFilter twoDomains = new TestingDynamicFilter(DOMAIN);
        twoDomains.complete(domainIn("D11", "D12"));
        long started = System.nanoTime();
        try (ConnectorSplitSource large = splitSource(DynamicFilter.EMPTY); ConnectorSplitSource small = splitSource(twoDomains)) {
            CompletableFuture<ConnectorSplitBatch> largeBatch = large.getNextBatch(1000);
            CompletableFuture<ConnectorSplitBatch> smallBatch = small.getNextBatch(1000);
            assertEquals(List.of("D11", "D12"), smallBatch.get(10, TimeUnit.SECONDS).getSplits().stream().map(split -> ((FhirSplit) split).domain()).toList());
            long smallMillis = (System.nanoTime() - started) / 1_000_000;
            assertEquals(12, largeBatch.get(10, TimeUnit.SECONDS).getSplits().size());
            long largeMillis = (System.nanoTime() - started) / 1_000_000;
            // Queued behind all of the large query's domains the small one would finish last (~700 ms); taking turns, after ~3 rounds.
            assertTrue(smallMillis < largeMillis / 2, "the small query planned in " + smallMillis + " ms, the large one in " + largeMillis + " ms");
        }
    }
}
