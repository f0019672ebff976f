package uk.nhs.fhirmesh.trino;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpServer;
import io.trino.spi.TrinoException;
import io.trino.spi.connector.ConnectorSplit;
import io.trino.spi.connector.ConnectorSplitSource;
import io.trino.spi.connector.Constraint;
import io.trino.spi.connector.DynamicFilter;
import io.trino.spi.connector.SchemaTableName;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import uk.nhs.fhirmesh.client.FhirSearchClient;
import uk.nhs.fhirmesh.client.HttpSettings;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentLinkedQueue;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A mapping's {@code domains} decides which endpoints are asked: for the table handle (and so EXPLAIN and
 * the domain column) and for the splits. Three domains share one loopback server that answers every count
 * with one resource. A query resolves the table once: its handle carries that version of the mapping.
 */
class TestTableDomains
{
    private static final Path SHIPPED = Path.of("..", "sql-mappings");
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final SchemaTableName CONDITION = new SchemaTableName(FhirCatalog.SCHEMA, "condition");

    @TempDir
    Path mappings;
    private HttpServer server;
    private final ConcurrentLinkedQueue<String> paths = new ConcurrentLinkedQueue<>();
    private FhirSearchClient client;
    private FhirCatalog catalog;
    private int published;

    @BeforeEach
    void start()
            throws IOException
    {
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
        catalog = new FhirCatalog(FhirConfig.parse(Map.of(
                "connector.name", "fhir",
                "fhir.domains", "RX1,rth,RR8",
                "fhir.domain.RX1.base-url", base + "rx1",
                "fhir.domain.rth.base-url", base + "rth",
                "fhir.domain.RR8.base-url", base + "rr8",
                "fhir.mappings.dir", mappings.toString())), Optional.empty());
        client = new FhirSearchClient(new HttpSettings(Duration.ofSeconds(5), Duration.ofSeconds(5), 1, Duration.ZERO, 4, 1L << 20));
    }

    @AfterEach
    void stop()
    {
        client.close();
        server.stop(0);
    }

    private void publish(String... domains)
            throws IOException
    {
        ObjectNode mapping = (ObjectNode) JSON.readTree(SHIPPED.resolve("condition.json").toFile());
        if (domains.length > 0) {
            List.of(domains).forEach(mapping.putArray("domains")::add);
        }
        Path file = mappings.resolve("condition.json");
        JSON.writeValue(file.toFile(), mapping);
        // The repository re-reads on a changed modification time, which a quick rewrite might not change.
        Files.setLastModifiedTime(file, FileTime.from(Instant.now().plusSeconds(++published)));
    }

    private FhirTableHandle handle()
    {
        return (FhirTableHandle) new FhirMetadata(catalog).getTableHandle(Sessions.session(catalog.config(), Map.of()), CONDITION, Optional.empty(), Optional.empty());
    }

    private List<String> splitDomains(FhirTableHandle handle)
            throws Exception
    {
        try (ConnectorSplitSource source = new FhirSplitManager(catalog, client).getSplits(null, Sessions.session(catalog.config()), handle, DynamicFilter.EMPTY, Constraint.alwaysTrue())) {
            List<ConnectorSplit> splits = source.getNextBatch(1000).get().getSplits();
            return splits.stream().map(split -> ((FhirSplit) split).domain()).toList();
        }
    }

    @Test
    void withoutDomainsEveryDomainOfTheCatalogIsRead()
            throws Exception
    {
        publish();
        FhirTableHandle handle = handle();
        assertEquals(List.of("RX1", "RTH", "RR8"), handle.domains());
        assertEquals(List.of("RX1", "RTH", "RR8"), splitDomains(handle));
        // Domains are planned concurrently, so their counts arrive in any order.
        assertEquals(List.of("/fhir/rr8/Condition", "/fhir/rth/Condition", "/fhir/rx1/Condition"), paths.stream().sorted().toList());
    }

    @Test
    void onlyTheTablesDomainsArePlannedAndAsked()
            throws Exception
    {
        publish("rth");
        FhirTableHandle handle = handle();
        assertEquals(List.of("RTH"), handle.domains());
        assertTrue(handle.toString().startsWith("condition domains=RTH search="), handle.toString());
        assertTrue(handle.toString().endsWith(" mapping=" + handle.mapping().shortHash()), handle.toString());
        assertEquals(List.of("RTH"), splitDomains(handle));
        assertEquals(List.of("/fhir/rth/Condition"), List.copyOf(paths), "no other endpoint may be asked, not even for a count");
    }

    @Test
    void aMappingRepublishedAfterPlanningDoesNotChangeTheDomainsOfThatQuery()
            throws Exception
    {
        publish("RR8", "RX1");
        FhirTableHandle handle = handle();
        publish();
        assertEquals(List.of("RX1", "RR8"), splitDomains(handle), "the query reads the version it resolved, not a mix");
        assertEquals(List.of("/fhir/rr8/Condition", "/fhir/rx1/Condition"), paths.stream().sorted().toList());
        assertEquals(List.of("RX1", "RTH", "RR8"), splitDomains(handle()), "a query resolving the table afterwards reads the new version");
    }

    @Test
    void skippedDomainsAreShownInTheHandleAndGiveNoSplit()
            throws Exception
    {
        publish();
        FhirTableHandle handle = (FhirTableHandle) new FhirMetadata(catalog).getTableHandle(
                Sessions.session(catalog.config(), Map.of(FhirSessionProperties.SKIP_DOMAINS, "rx1, RR8")), CONDITION, Optional.empty(), Optional.empty());
        assertEquals(List.of("RTH"), handle.domains());
        assertEquals(List.of("RX1", "RR8"), handle.skippedDomains());
        assertTrue(handle.toString().startsWith("condition domains=RTH skipped=RX1,RR8 search="), handle.toString());
        assertEquals(List.of("RTH"), splitDomains(handle));
        assertEquals(List.of("/fhir/rth/Condition"), List.copyOf(paths), "a skipped domain is not asked, not even for a count");
    }

    @Test
    void theSplitManagerReadsNoSplitOfASkippedDomainEvenIfTheHandleStillListsIt()
            throws Exception
    {
        publish();
        FhirTableHandle planned = handle();
        // As a handle narrowed after the skip was recorded (e.g. by a domain predicate) could list it again.
        FhirTableHandle handle = new FhirTableHandle(planned.tableName(), planned.mapping(), planned.domains(), List.of("RTH"), planned.patientDomains(),
                planned.constraint(), planned.elementConditions(), planned.search(), planned.limit(), planned.sort(), planned.elements(), planned.countOnly());
        assertEquals(List.of("RX1", "RR8"), splitDomains(handle));
    }

    @Test
    void aDomainTheCatalogLacksFailsWhenTheTableIsResolved()
            throws IOException
    {
        publish("RX1", "x26");
        TrinoException e = assertThrows(TrinoException.class, this::handle);
        assertEquals(FhirErrorCode.FHIR_INVALID_MAPPING.toErrorCode(), e.getErrorCode());
        assertEquals("table default.condition cannot be served: its mapping reads from domain X26, which this catalog does not configure (fhir.domains: RX1,RTH,RR8)", e.getMessage());
        assertTrue(paths.isEmpty(), "nothing may be read from the domains it does name");
    }
}
