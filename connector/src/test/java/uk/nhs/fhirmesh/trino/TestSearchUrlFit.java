package uk.nhs.fhirmesh.trino;

import com.sun.net.httpserver.HttpServer;
import io.airlift.slice.Slices;
import io.trino.spi.connector.ColumnHandle;
import io.trino.spi.connector.ConnectorSession;
import io.trino.spi.connector.ConnectorSplit;
import io.trino.spi.connector.ConnectorSplitSource;
import io.trino.spi.connector.ConnectorTableHandle;
import io.trino.spi.connector.Constraint;
import io.trino.spi.connector.ConstraintApplicationResult;
import io.trino.spi.connector.DynamicFilter;
import io.trino.spi.connector.SchemaTableName;
import io.trino.spi.expression.ConnectorExpression;
import io.trino.spi.expression.Variable;
import io.trino.spi.predicate.Domain;
import io.trino.spi.predicate.TupleDomain;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import uk.nhs.fhirmesh.client.FhirSearchClient;
import uk.nhs.fhirmesh.client.HttpSettings;
import uk.nhs.fhirmesh.client.ResourceStream;
import uk.nhs.fhirmesh.exclusion.ExclusionRules;

import java.io.IOException;
import java.io.OutputStream;
import java.lang.reflect.Proxy;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.stream.IntStream;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A filter too long for one URL is planned without its longest parameters: EXPLAIN shows the search
 * that is sent, every request stays within fhir.search.max-url-length, and Trino keeps the whole filter.
 */
class TestSearchUrlFit
{
    private static final int MAX_URL_LENGTH = 1024;
    private static final SchemaTableName CONDITION = new SchemaTableName(FhirCatalog.SCHEMA, "condition");
    /** Only the session properties (at their defaults) are read from the session by the hooks under test. */
    private static final ConnectorSession SESSION = (ConnectorSession) Proxy.newProxyInstance(TestSearchUrlFit.class.getClassLoader(), new Class<?>[] {ConnectorSession.class},
            (proxy, method, args) -> {
                if (method.getName().equals("getProperty")) {
                    return switch ((String) args[0]) {
                        case FhirSessionProperties.PUSHDOWN_ENABLED, FhirSessionProperties.APPLY_OPT_OUTS, FhirSessionProperties.EXCLUDE_PATIENTS_WITHOUT_NHS_NUMBER -> true;
                        case FhirSessionProperties.EXCLUDED_PATIENT_LABELS -> ExclusionRules.DEFAULT_LABELS;
                        case FhirSessionProperties.SKIP_DOMAINS -> "";
                        default -> throw new UnsupportedOperationException("session property " + args[0]);
                    };
                }
                if (method.getName().equals("getQueryId")) {
                    return Sessions.QUERY_ID;
                }
                if (method.getName().equals("getTraceToken")) {
                    return Optional.empty();
                }
                throw new UnsupportedOperationException(method.getName());
            });

    @TempDir
    Path mappings;
    private HttpServer server;
    private String base;
    private final ConcurrentLinkedQueue<String> urls = new ConcurrentLinkedQueue<>();
    private FhirSearchClient client;
    private FhirCatalog catalog;

    @BeforeEach
    void start()
            throws IOException
    {
        Files.copy(Path.of("..", "sql-mappings", "condition.json"), mappings.resolve("condition.json"));
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/", exchange -> {
            urls.add(base.substring(0, base.indexOf("/fhir")) + exchange.getRequestURI().toString());
            byte[] body = "{\"resourceType\":\"Bundle\",\"type\":\"searchset\",\"total\":1}".getBytes(UTF_8);
            exchange.getResponseHeaders().set("Content-Type", "application/fhir+json");
            exchange.sendResponseHeaders(200, body.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(body);
            }
        });
        server.start();
        base = "http://127.0.0.1:" + server.getAddress().getPort() + "/fhir/rx1";
        catalog = new FhirCatalog(FhirConfig.parse(Map.of(
                "connector.name", "fhir",
                "fhir.domains", "RX1",
                "fhir.domain.RX1.base-url", base,
                "fhir.mappings.dir", mappings.toString(),
                "fhir.search.max-url-length", Integer.toString(MAX_URL_LENGTH))), Optional.empty());
        client = new FhirSearchClient(new HttpSettings(Duration.ofSeconds(5), Duration.ofSeconds(5), 1, Duration.ZERO, 4, 1L << 20));
    }

    @AfterEach
    void stop()
    {
        client.close();
        server.stop(0);
    }

    @Test
    void aLongInListIsLeftToTrinoAndEveryRequestFitsTheLimit()
            throws Exception
    {
        FhirMetadata metadata = new FhirMetadata(catalog);
        ConnectorTableHandle scan = metadata.getTableHandle(SESSION, CONDITION, Optional.empty(), Optional.empty());
        Map<String, ColumnHandle> columns = metadata.getColumnHandles(SESSION, scan);
        // 100 references of 40-character ids are about 5 kB encoded: over this catalog's limit of 1 kB.
        List<Object> patients = IntStream.range(0, 100).mapToObj(i -> (Object) Slices.utf8Slice("rx1-%036d".formatted(i))).toList();
        TupleDomain<ColumnHandle> filter = TupleDomain.withColumnDomains(Map.of(
                columns.get("patient_id"), Domain.multipleValues(io.trino.spi.type.VarcharType.VARCHAR, patients),
                columns.get("code"), Domain.singleValue(io.trino.spi.type.VarcharType.VARCHAR, Slices.utf8Slice("44054006"))));

        ConstraintApplicationResult<ConnectorTableHandle> applied = metadata.applyFilter(SESSION, scan, new Constraint(filter)).orElseThrow();
        // Trino is handed the whole filter back, so the dropped IN list is still applied.
        assertEquals(filter, applied.getRemainingFilter());
        List<ConnectorExpression> projections = new ArrayList<>();
        Map<String, ColumnHandle> assignments = new java.util.LinkedHashMap<>();
        columns.forEach((name, column) -> {
            projections.add(new Variable(name, ((FhirColumnHandle) column).type()));
            assignments.put(name, column);
        });
        FhirTableHandle planned = (FhirTableHandle) metadata.applyProjection(SESSION, applied.getHandle(), projections, assignments).orElseThrow().getHandle();
        String explain = planned.toString();
        assertTrue(explain.contains("search=Condition?code=http://snomed.info/sct|44054006&_elements="), explain);
        assertFalse(explain.contains("subject="), explain);

        try (ConnectorSplitSource source = new FhirSplitManager(catalog, client).getSplits(null, SESSION, planned, DynamicFilter.EMPTY, Constraint.alwaysTrue())) {
            for (ConnectorSplit split : source.getNextBatch(1000).get().getSplits()) {
                // EXPLAIN shows what the split sends.
                assertEquals(planned.searchWithElements(), ((FhirSplit) split).search());
                try (ResourceStream stream = client.search(catalog.endpoint("RX1"), ((FhirSplit) split).search(), 500)) {
                    stream.forEachRemaining(_ -> {});
                }
            }
        }
        assertEquals(2, urls.size(), urls.toString());
        for (String url : urls) {
            assertTrue(url.length() <= MAX_URL_LENGTH, url.length() + ": " + url);
            assertTrue(url.contains("code=http:%2F%2Fsnomed.info%2Fsct%7C44054006"), url);
        }
    }
}
