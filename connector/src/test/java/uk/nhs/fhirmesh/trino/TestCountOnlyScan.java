package uk.nhs.fhirmesh.trino;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpServer;
import io.airlift.slice.Slices;
import io.trino.spi.connector.ColumnHandle;
import io.trino.spi.connector.ConnectorMetadata;
import io.trino.spi.connector.ConnectorSession;
import io.trino.spi.connector.ConnectorSplit;
import io.trino.spi.connector.ConnectorSplitSource;
import io.trino.spi.connector.Constraint;
import io.trino.spi.connector.ConstraintApplicationResult;
import io.trino.spi.connector.DynamicFilter;
import io.trino.spi.connector.ProjectionApplicationResult;
import io.trino.spi.connector.RecordCursor;
import io.trino.spi.connector.SchemaTableName;
import io.trino.spi.connector.ConnectorTableHandle;
import io.trino.spi.expression.ConnectorExpression;
import io.trino.spi.expression.Variable;
import io.trino.spi.predicate.Domain;
import io.trino.spi.predicate.TupleDomain;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static io.trino.spi.type.VarcharType.VARCHAR;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A scan Trino reads no column of (but perhaps {@code domain}) over a view with one row per resource is count-only: each
 * domain costs one {@code _summary=count} request, whose total becomes that many rows. Queries run here as Trino
 * plans them (filter on {@code domain}, then the pruned projection, splits, cursors) against a loopback server with
 * three domains of different sizes that pages in threes; each answer is compared with pushdown off, which reads
 * every page.
 */
class TestCountOnlyScan
{
    private static final Path SHIPPED = Path.of("..", "sql-mappings");
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Pattern OFFSET = Pattern.compile("(?:^|&)_offset=(\\d+)");
    private static final Pattern COUNT = Pattern.compile("(?:^|&)_count=(\\d+)");
    /** Resources per domain: RTH has none; Observation i has no component when i is a multiple of 3, else two (forEach rows). */
    private static final Map<String, Integer> SIZES = Map.of("rx1", 7, "rth", 0, "rr8", 4);
    private static final Map<String, Object> AS_STORED = Map.of(FhirSessionProperties.APPLY_OPT_OUTS, false,
            FhirSessionProperties.EXCLUDED_PATIENT_LABELS, "", FhirSessionProperties.EXCLUDE_PATIENTS_WITHOUT_NHS_NUMBER, false);

    @TempDir
    Path mappings;
    private HttpServer server;
    private String base;
    private final ConcurrentLinkedQueue<String> requests = new ConcurrentLinkedQueue<>();
    private final Map<FhirConnector, FhirConfig> connectors = new LinkedHashMap<>();

    @BeforeEach
    void start()
            throws IOException
    {
        for (String table : List.of("condition", "observation_component")) {
            Files.copy(SHIPPED.resolve(table + ".json"), mappings.resolve(table + ".json"));
        }
        // A view with a where clause: only conditions with a clinical status give a row.
        ObjectNode active = (ObjectNode) JSON.readTree(SHIPPED.resolve("condition.json").toFile());
        active.put("table", "active_condition");
        ((ObjectNode) active.path("view")).put("name", "active_condition");
        ((ObjectNode) active.path("view")).putArray("where").addObject().put("path", "clinicalStatus.exists()");
        JSON.writeValue(mappings.resolve("active_condition.json").toFile(), active);

        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/", exchange -> {
            String[] path = exchange.getRequestURI().getRawPath().split("/");
            String domain = path[2];
            String type = path[3];
            String query = exchange.getRequestURI().getRawQuery() == null ? "" : exchange.getRequestURI().getRawQuery();
            requests.add(domain + " " + type + "?" + query);
            List<String> resources = resources(domain, type);
            if (query.contains("_sort=-_lastUpdated")) {
                resources = resources.reversed();
            }
            String body;
            if (query.contains("_summary=count")) {
                body = "{\"resourceType\":\"Bundle\",\"type\":\"searchset\",\"total\":" + resources.size() + "}";
            }
            else {
                int offset = number(OFFSET, query, 0);
                int count = number(COUNT, query, 500);
                List<String> entries = new ArrayList<>();
                for (String resource : resources.subList(Math.min(offset, resources.size()), Math.min(offset + count, resources.size()))) {
                    entries.add("{\"resource\":" + resource + ",\"search\":{\"mode\":\"match\"}}");
                }
                String next = offset + count < resources.size()
                        ? ",\"link\":[{\"relation\":\"next\",\"url\":\"" + base + domain + "/" + type + "?_count=" + count + "&_offset=" + (offset + count) + "\"}]" : "";
                body = "{\"resourceType\":\"Bundle\",\"type\":\"searchset\"" + next + ",\"entry\":[" + String.join(",", entries) + "]}";
            }
            byte[] bytes = body.getBytes(UTF_8);
            exchange.getResponseHeaders().set("Content-Type", "application/fhir+json");
            exchange.sendResponseHeaders(200, bytes.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(bytes);
            }
        });
        server.start();
        base = "http://127.0.0.1:" + server.getAddress().getPort() + "/fhir/";
    }

    @AfterEach
    void stop()
    {
        connectors.keySet().forEach(FhirConnector::shutdown);
        server.stop(0);
    }

    private static int number(Pattern pattern, String query, int otherwise)
    {
        Matcher matcher = pattern.matcher(query);
        return matcher.find() ? Integer.parseInt(matcher.group(1)) : otherwise;
    }

    private static List<String> resources(String domain, String type)
    {
        List<String> resources = new ArrayList<>();
        for (int i = 1; i <= SIZES.get(domain); i++) {
            String meta = "\"meta\":{\"lastUpdated\":\"2024-01-0%dT00:00:00Z\"},\"subject\":{\"reference\":\"Patient/p%d\"}".formatted(i, i);
            if (type.equals("Condition")) {
                String status = i % 2 == 0 ? ",\"clinicalStatus\":{\"coding\":[{\"code\":\"active\"}]}" : "";
                resources.add("{\"resourceType\":\"Condition\",\"id\":\"c-%s-%d\",%s%s}".formatted(domain, i, meta, status));
            }
            else {
                List<String> components = new ArrayList<>();
                for (int c = 0; c < (i % 3 == 0 ? 0 : 2); c++) {
                    components.add("{\"code\":{\"coding\":[{\"system\":\"http://loinc.org\",\"code\":\"8480-%d\"}]},\"valueQuantity\":{\"value\":%d,\"code\":\"mm[Hg]\"}}".formatted(c, 100 + c));
                }
                resources.add("{\"resourceType\":\"Observation\",\"id\":\"o-%s-%d\",%s,\"component\":[%s]}".formatted(domain, i, meta, String.join(",", components)));
            }
        }
        return resources;
    }

    private FhirConnector connector(Map<String, String> extra)
    {
        Map<String, String> config = new HashMap<>(Map.of(
                "connector.name", "fhir",
                "fhir.domains", "RX1,RTH,RR8",
                "fhir.domain.RX1.base-url", base + "rx1",
                "fhir.domain.RTH.base-url", base + "rth",
                "fhir.domain.RR8.base-url", base + "rr8",
                "fhir.mappings.dir", mappings.toString(),
                "fhir.page-size", "3",
                "fhir.retry.max-attempts", "1"));
        config.putAll(extra);
        FhirConnector connector = (FhirConnector) new FhirConnectorFactory().create("fhir", config, null);
        connectors.put(connector, FhirConfig.parse(config));
        return connector;
    }

    private ConnectorSession session(FhirConnector connector, Map<String, Object> overrides)
    {
        return Sessions.session(connectors.get(connector), overrides);
    }

    /**
     * One count query. {@code domainIn}: {@code WHERE domain IN (...)}; {@code byDomain}: {@code GROUP BY domain}
     * (the scan then reads the domain column), else one total under "*".
     */
    private record CountQuery(String table, Optional<Set<String>> domainIn, boolean byDomain, Map<String, Object> session)
    {
        static CountQuery total(String table)
        {
            return new CountQuery(table, Optional.empty(), false, Map.of());
        }

        CountQuery in(String... domains)
        {
            return new CountQuery(table, Optional.of(Set.of(domains)), byDomain, session);
        }

        CountQuery grouped()
        {
            return new CountQuery(table, domainIn, true, session);
        }

        CountQuery skipping(String domains)
        {
            return new CountQuery(table, domainIn, byDomain, Map.of(FhirSessionProperties.SKIP_DOMAINS, domains));
        }
    }

    /** What a run of a query gave and cost. */
    private record Run(Map<String, Long> counts, FhirTableHandle handle, int splits, List<String> requests) {}

    private Run run(FhirConnector connector, CountQuery query, boolean pushdown)
            throws Exception
    {
        Map<String, Object> overrides = new HashMap<>(AS_STORED);
        overrides.putAll(query.session());
        overrides.put(FhirSessionProperties.PUSHDOWN_ENABLED, pushdown);
        return run(connector, query, session(connector, overrides));
    }

    /** As Trino 476 plans it: the domain filter offered first, then the scan's columns pruned to what is left. */
    private Run run(FhirConnector connector, CountQuery query, ConnectorSession session)
            throws Exception
    {
        requests.clear();
        ConnectorMetadata metadata = connector.getMetadata(session, FhirTransactionHandle.INSTANCE);
        FhirTableHandle handle = (FhirTableHandle) metadata.getTableHandle(session, new SchemaTableName(FhirCatalog.SCHEMA, query.table()), Optional.empty(), Optional.empty());
        ColumnHandle domainColumn = metadata.getColumnHandles(session, handle).get("domain");
        boolean recheck = false;
        if (query.domainIn().isPresent()) {
            TupleDomain<ColumnHandle> filter = TupleDomain.withColumnDomains(Map.of(domainColumn,
                    Domain.multipleValues(VARCHAR, query.domainIn().get().stream().map(Slices::utf8Slice).toList())));
            Optional<ConstraintApplicationResult<ConnectorTableHandle>> pushed = metadata.applyFilter(session, handle, new Constraint(filter));
            recheck = pushed.isEmpty() || !pushed.get().getRemainingFilter().isAll();
            if (pushed.isPresent()) {
                handle = (FhirTableHandle) pushed.get().getHandle();
            }
        }
        List<ColumnHandle> columns = query.byDomain() || recheck ? List.of(domainColumn) : List.of();
        Map<String, ColumnHandle> assignments = new LinkedHashMap<>();
        List<ConnectorExpression> projections = new ArrayList<>();
        for (ColumnHandle column : columns) {
            assignments.put("domain", column);
            projections.add(new Variable("domain", VARCHAR));
        }
        Optional<ProjectionApplicationResult<ConnectorTableHandle>> projected = metadata.applyProjection(session, handle, projections, assignments);
        if (projected.isPresent()) {
            handle = (FhirTableHandle) projected.get().getHandle();
        }
        List<ConnectorSplit> splits = new ArrayList<>();
        try (ConnectorSplitSource source = connector.getSplitManager().getSplits(FhirTransactionHandle.INSTANCE, session, handle, DynamicFilter.EMPTY, Constraint.alwaysTrue())) {
            while (!source.isFinished()) {
                splits.addAll(source.getNextBatch(100).get().getSplits());
            }
        }
        Map<String, Long> counts = new TreeMap<>();
        for (ConnectorSplit split : splits) {
            RecordCursor cursor = connector.getRecordSetProvider().getRecordSet(FhirTransactionHandle.INSTANCE, session, split, handle, columns).cursor();
            while (cursor.advanceNextPosition()) {
                String domain = columns.isEmpty() ? ((FhirSplit) split).domain() : cursor.getSlice(0).toStringUtf8();
                if (recheck && !query.domainIn().get().contains(domain)) {
                    continue;
                }
                counts.merge(query.byDomain() ? domain : "*", 1L, Long::sum);
            }
            cursor.close();
        }
        return new Run(counts, handle, splits.size(), List.copyOf(requests));
    }

    private static long countRequests(Run run)
    {
        return run.requests().stream().filter(request -> request.contains("_summary=count")).count();
    }

    @Test
    void aCountOnlyScanAsksEachDomainOneCountAndEmitsItsTotal()
            throws Exception
    {
        FhirConnector connector = connector(Map.of());
        Run run = run(connector, CountQuery.total("condition"), true);
        assertTrue(run.handle().countOnly());
        assertTrue(run.handle().toString().contains(" count-only mapping="), run.handle().toString());
        assertEquals(Map.of("*", 11L), run.counts());
        // Domains are planned concurrently, so the requests arrive in any order.
        assertEquals(List.of("rr8 Condition?_summary=count", "rth Condition?_summary=count", "rx1 Condition?_summary=count"), run.requests().stream().sorted().toList(),
                "one request per domain, and no page read");
        assertEquals(2, run.splits(), "a domain counting no resource has no split");

        Run grouped = run(connector, CountQuery.total("condition").grouped().in("RX1", "RTH"), true);
        assertTrue(grouped.handle().countOnly(), "the domain column is the split's own: still count-only");
        assertEquals(Map.of("RX1", 7L), grouped.counts());
        assertEquals(List.of("rth Condition?_summary=count", "rx1 Condition?_summary=count"), grouped.requests().stream().sorted().toList());
    }

    @Test
    void aCountOnlyScanIsNotSlicedHoweverManyResourcesMatch()
            throws Exception
    {
        FhirConnector connector = connector(Map.of("fhir.split.resources-per-split", "2", "fhir.split.max-per-domain", "4"));
        Run run = run(connector, CountQuery.total("condition"), true);
        assertEquals(Map.of("*", 11L), run.counts());
        assertEquals(2, run.splits());
        assertEquals(3, run.requests().size(), run.requests().toString());
        // The same scan reading a column is sliced by _lastUpdated, which costs two bound lookups per domain besides the count.
        ConnectorSession session = session(connector, AS_STORED);
        FhirTableHandle reading = (FhirTableHandle) connector.getMetadata(session, FhirTransactionHandle.INSTANCE)
                .getTableHandle(session, new SchemaTableName(FhirCatalog.SCHEMA, "condition"), Optional.empty(), Optional.empty());
        requests.clear();
        try (ConnectorSplitSource source = connector.getSplitManager().getSplits(FhirTransactionHandle.INSTANCE, session, reading, DynamicFilter.EMPTY, Constraint.alwaysTrue())) {
            assertEquals(6, source.getNextBatch(100).get().getSplits().size(), "RX1 in 4 slices, RR8 in 2");
        }
        assertEquals(7, requests.size(), requests.toString());
    }

    @Test
    void viewsWithoutOneRowPerResourceAreNotCountOnly()
            throws Exception
    {
        FhirConnector connector = connector(Map.of());
        for (String table : List.of("observation_component", "active_condition")) {
            Run run = run(connector, CountQuery.total(table), true);
            assertFalse(run.handle().countOnly(), table);
            assertFalse(run.handle().toString().contains("count-only"), run.handle().toString());
            assertTrue(run.requests().size() > 3, table + " reads its pages: " + run.requests());
        }
        // forEach component: the server counts 7 + 4 observations, which give 10 + 6 rows.
        assertEquals(Map.of("*", 16L), run(connector, CountQuery.total("observation_component"), true).counts());
        // where clinicalStatus.exists(): the even-numbered conditions only.
        assertEquals(Map.of("*", 5L), run(connector, CountQuery.total("active_condition"), true).counts());
    }

    @Test
    void aScanWithAColumnOrALimitOrPatientExclusionIsNotCountOnly()
            throws Exception
    {
        FhirConnector connector = connector(Map.of());
        ConnectorSession session = session(connector, AS_STORED);
        ConnectorMetadata metadata = connector.getMetadata(session, FhirTransactionHandle.INSTANCE);
        FhirTableHandle handle = (FhirTableHandle) metadata.getTableHandle(session, new SchemaTableName(FhirCatalog.SCHEMA, "condition"), Optional.empty(), Optional.empty());
        ColumnHandle code = metadata.getColumnHandles(session, handle).get("code");
        FhirTableHandle withCode = (FhirTableHandle) metadata.applyProjection(session, handle, List.of(new Variable("code", VARCHAR)), Map.of("code", code)).orElseThrow().getHandle();
        assertFalse(withCode.countOnly());

        FhirTableHandle countOnly = (FhirTableHandle) metadata.applyProjection(session, handle, List.of(), Map.of()).orElseThrow().getHandle();
        assertTrue(countOnly.countOnly());
        // SELECT count(*) FROM (SELECT * FROM condition LIMIT 5): the limit, in either order, cuts the rows below the count.
        FhirTableHandle limited = (FhirTableHandle) metadata.applyLimit(session, countOnly, 5).orElseThrow().getHandle();
        assertFalse(limited.countOnly());
        FhirTableHandle limitedFirst = (FhirTableHandle) metadata.applyLimit(session, handle, 5).orElseThrow().getHandle();
        assertFalse(((FhirTableHandle) metadata.applyProjection(session, limitedFirst, List.of(), Map.of()).orElseThrow().getHandle()).countOnly());

        // The connector's defaults exclude opted-out and restricted patients: their rows are dropped per patient, which a count cannot know.
        ConnectorSession excluding = session(connector, Map.of());
        FhirTableHandle excluded = (FhirTableHandle) metadata.getTableHandle(excluding, new SchemaTableName(FhirCatalog.SCHEMA, "condition"), Optional.empty(), Optional.empty());
        Optional<ProjectionApplicationResult<ConnectorTableHandle>> projected = metadata.applyProjection(excluding, excluded, List.of(), Map.of());
        assertFalse(projected.map(result -> ((FhirTableHandle) result.getHandle()).countOnly()).orElse(excluded.countOnly()));
        // Pushdown off: nothing is pushed, the pages are read.
        ConnectorSession off = session(connector, Map.of(FhirSessionProperties.PUSHDOWN_ENABLED, false));
        assertEquals(Optional.empty(), metadata.applyProjection(off, handle, List.of(), Map.of()));
    }

    @Test
    void aCountedSplitIsReadWhenTheScanAsksForMoreThanTheDomain()
            throws Exception
    {
        FhirConnector connector = connector(Map.of());
        ConnectorSession session = session(connector, AS_STORED);
        Run run = run(connector, CountQuery.total("condition"), true);
        ConnectorSplit split = new FhirSplit("RR8", run.handle().searchWithElements(), OptionalLong.empty(), OptionalLong.of(1000));
        ColumnHandle id = connector.getMetadata(session, FhirTransactionHandle.INSTANCE).getColumnHandles(session, run.handle()).get("id");
        RecordCursor cursor = connector.getRecordSetProvider().getRecordSet(FhirTransactionHandle.INSTANCE, session, split, run.handle(), List.of(id)).cursor();
        List<String> ids = new ArrayList<>();
        while (cursor.advanceNextPosition()) {
            ids.add(cursor.getSlice(0).toStringUtf8());
        }
        assertEquals(List.of("c-rr8-1", "c-rr8-2", "c-rr8-3", "c-rr8-4"), ids, "the server's rows, not the split's count");
    }

    @Test
    void countOnlyAnswersEqualPushdownOff()
            throws Exception
    {
        FhirConnector connector = connector(Map.of());
        List<CountQuery> battery = List.of(
                CountQuery.total("condition"),
                CountQuery.total("condition").in("RX1"),
                CountQuery.total("condition").in("RX1", "RR8"),
                CountQuery.total("condition").in("RTH"),
                CountQuery.total("condition").grouped(),
                CountQuery.total("condition").grouped().in("RR8", "RTH"),
                CountQuery.total("condition").skipping("RR8"),
                CountQuery.total("condition").grouped().skipping("RX1"),
                CountQuery.total("observation_component"),
                CountQuery.total("observation_component").grouped().in("RX1"),
                CountQuery.total("active_condition").grouped());
        int countOnly = 0;
        for (CountQuery query : battery) {
            Run on = run(connector, query, true);
            Run off = run(connector, query, false);
            assertFalse(off.handle().countOnly(), query.toString());
            assertEquals(off.counts(), on.counts(), query.toString());
            if (on.handle().countOnly()) {
                countOnly++;
                // Exactly the asked domains, one count each; pushdown off pays a count and every page per domain.
                assertEquals(on.requests().size(), countRequests(on), on.requests().toString());
                assertTrue(off.requests().size() > on.requests().size(), off.requests().toString());
            }
        }
        assertEquals(8, countOnly, "every condition query of the battery is count-only");
    }
}
