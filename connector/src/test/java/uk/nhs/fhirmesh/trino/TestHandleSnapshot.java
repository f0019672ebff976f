package uk.nhs.fhirmesh.trino;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpServer;
import io.airlift.slice.Slices;
import io.trino.spi.TrinoException;
import io.trino.spi.connector.ColumnHandle;
import io.trino.spi.connector.ConnectorMetadata;
import io.trino.spi.connector.ConnectorSession;
import io.trino.spi.connector.ConnectorSplit;
import io.trino.spi.connector.ConnectorSplitSource;
import io.trino.spi.connector.ConnectorTableHandle;
import io.trino.spi.connector.Constraint;
import io.trino.spi.connector.DynamicFilter;
import io.trino.spi.connector.RecordCursor;
import io.trino.spi.connector.SchemaTableName;
import io.trino.spi.predicate.Domain;
import io.trino.spi.predicate.Range;
import io.trino.spi.predicate.TupleDomain;
import io.trino.spi.predicate.ValueSet;
import io.trino.spi.session.PropertyMetadata;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import uk.nhs.fhirmesh.search.FhirSearch;
import uk.nhs.fhirmesh.search.SearchTranslator.ElementCondition;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.stream.Stream;

import static io.trino.spi.StandardErrorCode.INVALID_SESSION_PROPERTY;
import static io.trino.spi.type.DateType.DATE;
import static io.trino.spi.type.VarcharType.VARCHAR;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A query resolves its table once, on the coordinator: the handle carries that version of the mapping, so the
 * splits and rows come from it whatever the mapping directory holds afterwards, and handles and splits survive the
 * JSON a coordinator sends its workers ({@link TrinoJson}). Two domains share one loopback server that answers
 * every search with one Condition.
 */
class TestHandleSnapshot
{
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final ObjectMapper TRINO_JSON = TrinoJson.mapper();
    private static final SchemaTableName CONDITION = new SchemaTableName(FhirCatalog.SCHEMA, "condition");

    @TempDir
    Path mappings;
    @TempDir
    Path workerMappings;
    private HttpServer server;
    private FhirConnector coordinator;
    private String base;
    private int published;

    @BeforeEach
    void start()
            throws IOException
    {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/", exchange -> {
            String domain = exchange.getRequestURI().getPath().split("/")[2];
            String query = exchange.getRequestURI().getRawQuery() == null ? "" : exchange.getRequestURI().getRawQuery();
            String condition = "{\"resourceType\":\"Condition\",\"id\":\"c-%s\",\"recordedDate\":\"2024-05-01\",\"code\":{\"coding\":[{\"system\":\"http://snomed.info/sct\",\"code\":\"44054006\"}]},\"subject\":{\"reference\":\"Patient/p1\"}}".formatted(domain);
            String body = query.contains("_summary=count") ? "{\"resourceType\":\"Bundle\",\"type\":\"searchset\",\"total\":1}"
                    : "{\"resourceType\":\"Bundle\",\"type\":\"searchset\",\"entry\":[{\"resource\":" + condition + "}]}";
            byte[] bytes = body.getBytes(UTF_8);
            exchange.getResponseHeaders().set("Content-Type", "application/fhir+json");
            exchange.sendResponseHeaders(200, bytes.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(bytes);
            }
        });
        server.start();
        base = "http://127.0.0.1:" + server.getAddress().getPort() + "/fhir/";
        publish(false);
        coordinator = connector(mappings);
    }

    @AfterEach
    void stop()
    {
        coordinator.shutdown();
        server.stop(0);
    }

    private FhirConnector connector(Path mappingsDir)
    {
        return (FhirConnector) new FhirConnectorFactory().create("fhir", Map.of(
                "connector.name", "fhir",
                "fhir.domains", "RX1,RTH",
                "fhir.domain.RX1.base-url", base + "rx1",
                "fhir.domain.RTH.base-url", base + "rth",
                "fhir.mappings.dir", mappingsDir.toString(),
                "fhir.retry.max-attempts", "1"), null);
    }

    /** The shipped condition mapping; {@code renamed}: a later version whose code column is called snomed_code. */
    private void publish(boolean renamed)
            throws IOException
    {
        ObjectNode mapping = (ObjectNode) JSON.readTree(Path.of("..", "sql-mappings", "condition.json").toFile());
        if (renamed) {
            for (var select : mapping.path("view").path("select")) {
                for (var column : select.path("column")) {
                    if (column.path("name").asText().equals("code")) {
                        ((ObjectNode) column).put("name", "snomed_code");
                    }
                }
            }
            ((ObjectNode) mapping.path("bindings")).set("snomed_code", mapping.path("bindings").get("code"));
            ((ObjectNode) mapping.path("bindings")).remove("code");
            ArrayNode domains = mapping.putArray("domains");
            domains.add("RTH");
        }
        Path file = mappings.resolve("condition.json");
        Files.writeString(file, JSON.writeValueAsString(mapping));
        // The repository re-reads on a changed modification time, which a quick rewrite might not change.
        Files.setLastModifiedTime(file, FileTime.from(Instant.now().plusSeconds(++published)));
    }

    /** Patient exclusion off: these tests are about which mapping version is read, not which patients. */
    private ConnectorSession session()
    {
        return Sessions.session(FhirConfig.parse(Map.of("connector.name", "fhir", "fhir.domains", "RX1,RTH", "fhir.mappings.dir", mappings.toString(),
                        "fhir.domain.RX1.base-url", base + "rx1", "fhir.domain.RTH.base-url", base + "rth")),
                Map.of(FhirSessionProperties.APPLY_OPT_OUTS, false, FhirSessionProperties.EXCLUDED_PATIENT_LABELS, "", FhirSessionProperties.EXCLUDE_PATIENTS_WITHOUT_NHS_NUMBER, false));
    }

    private FhirTableHandle plan()
    {
        ConnectorMetadata metadata = coordinator.getMetadata(session(), FhirTransactionHandle.INSTANCE);
        return (FhirTableHandle) metadata.getTableHandle(session(), CONDITION, Optional.empty(), Optional.empty());
    }

    private List<ConnectorSplit> splits(FhirConnector connector, ConnectorTableHandle handle)
            throws Exception
    {
        try (ConnectorSplitSource source = connector.getSplitManager().getSplits(FhirTransactionHandle.INSTANCE, session(), handle, DynamicFilter.EMPTY, Constraint.alwaysTrue())) {
            return source.getNextBatch(100).get().getSplits();
        }
    }

    /** Each row as "domain id code" (code: the column so named, or its later name). */
    private List<String> rows(FhirConnector connector, ConnectorTableHandle handle, List<ConnectorSplit> splits, List<ColumnHandle> columns)
    {
        List<String> rows = new ArrayList<>();
        for (ConnectorSplit split : splits) {
            RecordCursor cursor = connector.getRecordSetProvider().getRecordSet(FhirTransactionHandle.INSTANCE, session(), split, handle, columns).cursor();
            while (cursor.advanceNextPosition()) {
                List<String> values = new ArrayList<>();
                for (int i = 0; i < columns.size(); i++) {
                    values.add(cursor.isNull(i) ? "null" : cursor.getSlice(i).toStringUtf8());
                }
                rows.add(String.join(" ", values));
            }
        }
        return rows;
    }

    private List<ColumnHandle> columns(FhirTableHandle handle, String... names)
    {
        Map<String, ColumnHandle> all = coordinator.getMetadata(session(), FhirTransactionHandle.INSTANCE).getColumnHandles(session(), handle);
        return Stream.of(names).map(all::get).toList();
    }

    private static <T> T roundTrip(T value, Class<T> type)
            throws IOException
    {
        return TRINO_JSON.readValue(TRINO_JSON.writeValueAsString(value), type);
    }

    @Test
    void handlesAndSplitsRoundTripThroughTrinosJson()
            throws Exception
    {
        FhirTableHandle planned = plan();
        FhirColumnHandle domain = new FhirColumnHandle("domain", VARCHAR);
        FhirColumnHandle recorded = (FhirColumnHandle) columns(planned, "recorded_date").getFirst();
        TupleDomain<ColumnHandle> constraint = TupleDomain.withColumnDomains(Map.of(
                domain, Domain.multipleValues(VARCHAR, List.of(Slices.utf8Slice("RX1"), Slices.utf8Slice("RTH"))),
                recorded, Domain.create(ValueSet.ofRanges(Range.greaterThanOrEqual(DATE, LocalDate.of(2024, 1, 1).toEpochDay())), true)));
        FhirTableHandle handle = planned
                .withFilter(List.of("RX1", "RTH"), constraint, List.of(new ElementCondition("code", "http://snomed.info/sct|44054006", false)),
                        FhirSearch.of("Condition").with("recorded-date", "ge2024-01-01"))
                .withTopN(new FhirSort("last_updated", true), 10)
                .withElements(List.of("code", "id", "recordedDate"));

        String json = TRINO_JSON.writeValueAsString(handle);
        FhirTableHandle back = roundTrip(handle, FhirTableHandle.class);
        assertEquals(handle, back, json);
        assertEquals(handle.toString(), back.toString());
        assertFalse(handle.toString().contains("\"view\""), "EXPLAIN shows the mapping's version, not its text: " + handle);
        assertTrue(handle.toString().endsWith(" mapping=" + handle.mapping().shortHash()), handle.toString());
        // As a plan fragment holds it: typed as the SPI interface, with the connector's @type.
        assertEquals(handle, TRINO_JSON.readValue(TRINO_JSON.writerFor(ConnectorTableHandle.class).writeValueAsString(handle), ConnectorTableHandle.class));
        assertEquals(recorded, roundTrip(recorded, FhirColumnHandle.class));
        assertEquals(recorded, TRINO_JSON.readValue(TRINO_JSON.writerFor(ColumnHandle.class).writeValueAsString(recorded), ColumnHandle.class));

        List<ConnectorSplit> splits = splits(coordinator, plan());
        assertEquals(2, splits.size());
        for (ConnectorSplit split : splits) {
            assertEquals(split, TRINO_JSON.readValue(TRINO_JSON.writerFor(ConnectorSplit.class).writeValueAsString(split), ConnectorSplit.class));
        }
    }

    @Test
    void countOnlyHandlesAndCountedSplitsRoundTripThroughTrinosJson()
            throws Exception
    {
        FhirTableHandle handle = plan().withElements(List.of("id")).withCountOnly(true);
        FhirTableHandle back = TRINO_JSON.readValue(TRINO_JSON.writerFor(ConnectorTableHandle.class).writeValueAsString(handle), FhirTableHandle.class);
        assertEquals(handle, back);
        assertTrue(back.countOnly());
        assertTrue(back.toString().contains(" count-only mapping="), back.toString());
        assertFalse(plan().toString().contains("count-only"), plan().toString());

        List<ConnectorSplit> splits = splits(coordinator, handle);
        assertEquals(List.of(OptionalLong.of(1), OptionalLong.of(1)), splits.stream().map(split -> ((FhirSplit) split).countedRows()).toList());
        for (ConnectorSplit split : splits) {
            assertEquals(split, TRINO_JSON.readValue(TRINO_JSON.writerFor(ConnectorSplit.class).writeValueAsString(split), ConnectorSplit.class));
        }
    }

    @Test
    void aWorkerWithoutMappingFilesReadsTheRowsFromTheHandlesSnapshot()
            throws Exception
    {
        FhirTableHandle handle = plan();
        List<ColumnHandle> columns = columns(handle, "domain", "id", "code");
        List<ConnectorSplit> splits = splits(coordinator, handle);
        // The coordinator's directory emptied after planning, and a worker whose directory never held a mapping.
        try (Stream<Path> files = Files.list(mappings)) {
            for (Path file : files.toList()) {
                Files.delete(file);
            }
        }
        assertEquals(List.of("RX1 c-rx1 44054006", "RTH c-rth 44054006"), rows(coordinator, handle, splits, columns));
        FhirConnector worker = connector(workerMappings);
        try {
            FhirTableHandle shipped = roundTrip(handle, FhirTableHandle.class);
            List<ColumnHandle> shippedColumns = new ArrayList<>();
            for (ColumnHandle column : columns) {
                shippedColumns.add(roundTrip((FhirColumnHandle) column, FhirColumnHandle.class));
            }
            List<ConnectorSplit> shippedSplits = new ArrayList<>();
            for (ConnectorSplit split : splits) {
                shippedSplits.add(roundTrip((FhirSplit) split, FhirSplit.class));
            }
            assertEquals(List.of("RX1 c-rx1 44054006", "RTH c-rth 44054006"), rows(worker, shipped, shippedSplits, shippedColumns));
            // Even split planning needs no file: the snapshot says which domains the table reads.
            assertEquals(2, splits(worker, shipped).size());
        }
        finally {
            worker.shutdown();
        }
    }

    @Test
    void aMappingRepublishedDuringTheQueryDoesNotChangeTheRunningScan()
            throws Exception
    {
        FhirTableHandle handle = plan();
        List<ColumnHandle> columns = columns(handle, "domain", "id", "code");
        publish(true);
        // The running query: same columns, same domains, as resolved.
        assertEquals(List.of("RX1 c-rx1 44054006", "RTH c-rth 44054006"), rows(coordinator, handle, splits(coordinator, handle), columns));
        assertTrue(columns(handle, "code").getFirst() != null, "column handles resolve against the handle's version");
        // A query planned afterwards sees the new version only.
        FhirTableHandle next = plan();
        assertTrue(!next.mapping().sha256().equals(handle.mapping().sha256()));
        assertEquals(List.of("RTH"), next.domains());
        assertEquals(List.of("RTH c-rth 44054006"), rows(coordinator, next, splits(coordinator, next), columns(next, "domain", "id", "snomed_code")));
        // A column of one version is not silently read from another.
        TrinoException e = assertThrows(TrinoException.class, () -> rows(coordinator, next, splits(coordinator, next), columns));
        assertEquals(FhirErrorCode.FHIR_INVALID_MAPPING.toErrorCode(), e.getErrorCode());
        assertTrue(e.getMessage().startsWith("table default.condition has no column code in the mapping version the query resolved (condition.json@" + next.mapping().shortHash() + ")"), e.getMessage());
    }

    @Test
    void aSnapshotWhoseTextDoesNotMatchItsHashIsRefused()
    {
        FhirTableHandle handle = plan();
        FhirTableHandle altered = new FhirTableHandle(handle.tableName(),
                new uk.nhs.fhirmesh.mapping.MappingSnapshot(handle.mapping().source(), handle.mapping().json().replace("\"RX1\"", "\"RX2\"").replace("recordedDate", "onsetDateTime"), handle.mapping().sha256()),
                handle.domains(), handle.skippedDomains(), handle.patientDomains(), handle.constraint(), handle.elementConditions(), handle.search(), handle.limit(), handle.sort(), handle.elements(), handle.countOnly());
        FhirConnector worker = connector(workerMappings);
        try {
            TrinoException e = assertThrows(TrinoException.class, () -> splits(worker, altered));
            assertEquals("table default.condition cannot be served: condition.json: the mapping text does not match its hash " + handle.mapping().shortHash(), e.getMessage());
        }
        finally {
            worker.shutdown();
        }
    }

    @Test
    void skipDomainsAcceptsOnlyTheCatalogsDomainCodes()
    {
        PropertyMetadata<?> skip = coordinator.getSessionProperties().stream().filter(property -> property.getName().equals(FhirSessionProperties.SKIP_DOMAINS)).findFirst().orElseThrow();
        assertEquals("", skip.getDefaultValue());
        assertEquals("rx1, RTH", skip.decode("rx1, RTH"));
        assertEquals(List.of("RX1", "RTH"), List.copyOf(FhirSessionProperties.skipDomains("rx1, RTH", null)));
        for (String bad : List.of("RX1,RR8", "RX1,", "RX1;RTH")) {
            TrinoException e = assertThrows(TrinoException.class, () -> skip.decode(bad), bad);
            assertEquals(INVALID_SESSION_PROPERTY.toErrorCode(), e.getErrorCode());
            assertTrue(e.getMessage().startsWith("skip_domains: '"), e.getMessage());
            assertTrue(e.getMessage().endsWith("' is not a domain of this catalog (fhir.domains: RX1,RTH)"), e.getMessage());
        }
        assertTrue(assertThrows(TrinoException.class, () -> skip.decode("RX1,RR8")).getMessage().contains("'RR8'"));
    }
}
