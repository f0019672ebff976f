package uk.nhs.fhirmesh.trino;

import com.sun.net.httpserver.HttpServer;
import io.airlift.slice.Slices;
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
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;

import static io.trino.spi.type.VarcharType.VARCHAR;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A dynamic filter on the {@code domain} column (Trino's, from {@code domain IN (SELECT domain FROM mesh.domains WHERE ...)}
 * or a join on domain) decides which endpoints split planning asks: the split source waits for it, bounded by
 * {@code fhir.dynamic-filtering.wait-timeout}. Three domains share one loopback server that answers every count with one
 * resource and records each request's path.
 */
class TestDomainSplitSource
{
    private static final SchemaTableName CONDITION = new SchemaTableName(FhirCatalog.SCHEMA, "condition");
    private static final FhirColumnHandle DOMAIN = new FhirColumnHandle("domain", VARCHAR);
    private static final FhirColumnHandle CODE = new FhirColumnHandle("code", VARCHAR);

    @TempDir
    Path mappings;
    private HttpServer server;
    private final ConcurrentLinkedQueue<String> paths = new ConcurrentLinkedQueue<>();
    private FhirSearchClient client;
    private FhirCatalog catalog;

    private void start(String waitTimeout)
            throws IOException
    {
        Files.copy(Path.of("..", "sql-mappings", "condition.json"), mappings.resolve("condition.json"));
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/", exchange -> {
            paths.add(exchange.getRequestURI().getRawPath());
            byte[] body = "{\"resourceType\":\"Bundle\",\"type\":\"searchset\",\"total\":1}".getBytes(UTF_8);
            exchange.getResponseHeaders().set("Content-Type", "application/fhir+json");
            exchange.sendResponseHeaders(200, body.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(body);
            }
        });
        server.start();
        String base = "http://127.0.0.1:" + server.getAddress().getPort() + "/fhir/";
        Map<String, String> properties = new HashMap<>(Map.of(
                "connector.name", "fhir",
                "fhir.domains", "RX1,RTH,RR8",
                "fhir.domain.RX1.base-url", base + "rx1",
                "fhir.domain.RTH.base-url", base + "rth",
                "fhir.domain.RR8.base-url", base + "rr8",
                "fhir.mappings.dir", mappings.toString()));
        properties.put("fhir.dynamic-filtering.wait-timeout", waitTimeout);
        catalog = new FhirCatalog(FhirConfig.parse(properties), Optional.empty());
        client = new FhirSearchClient(new HttpSettings(Duration.ofSeconds(5), Duration.ofSeconds(5), 1, Duration.ZERO, 4, 1L << 20));
    }

    @AfterEach
    void stop()
    {
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
        return new FhirSplitManager(catalog, client).getSplits(null, session, handle, dynamicFilter, Constraint.alwaysTrue());
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
        assertEquals(List.of("/fhir/rx1/Condition", "/fhir/rth/Condition", "/fhir/rr8/Condition"), List.copyOf(paths));
    }

    @Test
    void aFilterCompleteBeforePlanningPrunesWithoutWaiting()
            throws Exception
    {
        start("10s");
        TestingDynamicFilter filter = new TestingDynamicFilter(DOMAIN);
        filter.complete(domainIn("RX1", "RR8"));
        try (ConnectorSplitSource source = splitSource(filter)) {
            CompletableFuture<ConnectorSplitBatch> first = source.getNextBatch(1000);
            assertTrue(first.isDone());
            assertEquals(List.of("RX1", "RR8"), first.get().getSplits().stream().map(split -> ((FhirSplit) split).domain()).toList());
            assertTrue(first.get().isNoMoreSplits());
        }
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
        try (ConnectorSplitSource source = splitSource(new TestingDynamicFilter(CODE))) {
            CompletableFuture<ConnectorSplitBatch> first = source.getNextBatch(1000);
            assertTrue(first.isDone(), "a filter that cannot drop a domain is no reason to wait");
            assertEquals(3, first.get().getSplits().size());
        }
        stop();
        paths.clear();
        Files.delete(mappings.resolve("condition.json"));

        start("0s");
        try (ConnectorSplitSource source = splitSource(new TestingDynamicFilter(DOMAIN))) {
            CompletableFuture<ConnectorSplitBatch> first = source.getNextBatch(1000);
            assertTrue(first.isDone(), "fhir.dynamic-filtering.wait-timeout=0s never waits");
            assertEquals(3, first.get().getSplits().size());
        }
    }

    @Test
    void theEmptyFilterOfAScanWithoutJoinReadsEveryDomainAtOnce()
            throws Exception
    {
        start("10s");
        try (ConnectorSplitSource source = splitSource(DynamicFilter.EMPTY)) {
            CompletableFuture<ConnectorSplitBatch> first = source.getNextBatch(1000);
            assertTrue(first.isDone());
            assertEquals(List.of("RX1", "RTH", "RR8"), first.get().getSplits().stream().map(split -> ((FhirSplit) split).domain()).toList());
        }
    }
}
