package uk.nhs.fhirmesh.trino;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpServer;
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
import io.trino.spi.expression.ConnectorExpression;
import io.trino.spi.expression.Variable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import uk.nhs.fhirmesh.exclusion.ExclusionRules;

import java.io.IOException;
import java.io.OutputStream;
import java.lang.reflect.Proxy;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentLinkedQueue;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Patient exclusion through the connector's own scan path (metadata, splits, record cursor) against two stand-in
 * FHIR servers: excluded patients' rows never come out of a cursor, whichever columns the query reads.
 */
class TestPatientExclusionScan
{
    private static final String TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736";
    private static final String NDOP = FhirConfig.NDOP_POLICY_URI;
    /** RX1's p1 opted out; RTH's t1 is the same person (same NHS number); p3 has no NHS number; t2 is V-labelled. */
    private static final Map<String, Map<String, List<String>>> RESOURCES = Map.of(
            "rx1", Map.of(
                    "Patient", List.of(patient("p1", "9991000003", null), patient("p2", "9991000011", null), patient("p3", null, null)),
                    "Consent", List.of("{\"resourceType\":\"Consent\",\"id\":\"c1\",\"status\":\"active\",\"patient\":{\"reference\":\"Patient/p1\"},\"policy\":[{\"uri\":\"" + NDOP + "\"}],\"provision\":{\"type\":\"deny\"}}"),
                    "Encounter", List.of(encounter("e1", "p1"), encounter("e2", "p2"), encounter("e3", "p3"))),
            "rth", Map.of(
                    "Patient", List.of(patient("t1", "9991000003", null), patient("t2", "9991000038", "V")),
                    "Consent", List.of(),
                    "Encounter", List.of(encounter("e4", "t1"), encounter("e5", "t2"))));

    @TempDir
    Path mappings;
    private HttpServer server;
    private final ConcurrentLinkedQueue<String> requests = new ConcurrentLinkedQueue<>();
    /** The traceparent header of every request, as received. */
    private final ConcurrentLinkedQueue<String> traceparents = new ConcurrentLinkedQueue<>();
    private volatile String failingDomain;
    private FhirConnector connector;

    private static String patient(String id, String nhsNumber, String label)
    {
        return "{\"resourceType\":\"Patient\",\"id\":\"%s\"%s,\"identifier\":[%s]}".formatted(id,
                label == null ? "" : ",\"meta\":{\"security\":[{\"code\":\"" + label + "\"}]}",
                nhsNumber == null ? "" : "{\"system\":\"https://fhir.nhs.uk/Id/nhs-number\",\"value\":\"" + nhsNumber + "\"}");
    }

    private static String encounter(String id, String patient)
    {
        return "{\"resourceType\":\"Encounter\",\"id\":\"%s\",\"status\":\"finished\",\"subject\":{\"reference\":\"Patient/%s\"}}".formatted(id, patient);
    }

    @BeforeEach
    void start()
            throws IOException
    {
        // Served by RX1 and RTH only: ZZ9 is registered but serves nothing, and nothing listens there.
        for (String table : List.of("patient", "encounter")) {
            ObjectNode mapping = (ObjectNode) new ObjectMapper().readTree(Path.of("..", "sql-mappings", table + ".json").toFile());
            mapping.putArray("domains").add("RX1").add("RTH");
            Files.writeString(mappings.resolve(table + ".json"), mapping.toString());
        }
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/", exchange -> {
            String[] path = exchange.getRequestURI().getPath().split("/");
            String query = URLDecoder.decode(exchange.getRequestURI().getRawQuery() == null ? "" : exchange.getRequestURI().getRawQuery(), UTF_8);
            requests.add(path[2] + " " + path[3] + "?" + query);
            traceparents.add(String.valueOf(exchange.getRequestHeaders().getFirst("traceparent")));
            List<String> resources = RESOURCES.get(path[2]).get(path[3]);
            int status = path[2].equals(failingDomain) && path[3].equals("Patient") ? 503 : 200;
            String body = status != 200 ? "{\"resourceType\":\"OperationOutcome\"}"
                    : query.contains("_summary=count") ? "{\"resourceType\":\"Bundle\",\"type\":\"searchset\",\"total\":%d}".formatted(resources.size())
                    : "{\"resourceType\":\"Bundle\",\"type\":\"searchset\",\"entry\":[%s]}".formatted(String.join(",", resources.stream().map(r -> "{\"resource\":" + r + "}").toList()));
            byte[] bytes = body.getBytes(UTF_8);
            exchange.getResponseHeaders().set("Content-Type", "application/fhir+json");
            exchange.sendResponseHeaders(status, bytes.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(bytes);
            }
        });
        server.start();
        String base = "http://127.0.0.1:" + server.getAddress().getPort() + "/fhir/";
        connector = (FhirConnector) new FhirConnectorFactory().create("fhir", Map.of(
                "connector.name", "fhir",
                "fhir.domains", "RX1,RTH,ZZ9",
                "fhir.domain.RX1.base-url", base + "rx1",
                "fhir.domain.RTH.base-url", base + "rth",
                "fhir.domain.ZZ9.base-url", "http://127.0.0.1:9/fhir/zz9",
                "fhir.mappings.dir", mappings.toString(),
                "fhir.retry.max-attempts", "1",
                "fhir.patient-exclusion.cache-ttl", "0s"), null);
    }

    @AfterEach
    void stop()
    {
        connector.shutdown();
        server.stop(0);
    }

    private static ConnectorSession session(Map<String, Object> overrides)
    {
        Map<String, Object> properties = new HashMap<>(Map.of(
                FhirSessionProperties.PUSHDOWN_ENABLED, true,
                FhirSessionProperties.APPLY_OPT_OUTS, true,
                FhirSessionProperties.EXCLUDED_PATIENT_LABELS, ExclusionRules.DEFAULT_LABELS,
                FhirSessionProperties.EXCLUDE_PATIENTS_WITHOUT_NHS_NUMBER, true,
                FhirSessionProperties.SKIP_DOMAINS, ""));
        properties.putAll(overrides);
        return (ConnectorSession) Proxy.newProxyInstance(TestPatientExclusionScan.class.getClassLoader(), new Class<?>[] {ConnectorSession.class},
                (proxy, method, args) -> {
                    if (method.getName().equals("getProperty") && properties.containsKey((String) args[0])) {
                        return properties.get(args[0]);
                    }
                    if (method.getName().equals("getQueryId")) {
                        return Sessions.QUERY_ID;
                    }
                    if (method.getName().equals("getTraceToken")) {
                        // As the gateway sets it (X-Trino-Trace-Token).
                        return Optional.of(TRACE_ID);
                    }
                    throw new UnsupportedOperationException(method.getName());
                });
    }

    /** The values of {@code read} (or, with none, the rows' domains) of every row a scan gives, as count(*) plans it: no column projected. */
    private List<String> scan(ConnectorSession session, String table, List<String> read)
            throws Exception
    {
        ConnectorMetadata metadata = connector.getMetadata(session, FhirTransactionHandle.INSTANCE);
        ConnectorTableHandle handle = metadata.getTableHandle(session, new SchemaTableName("default", table), Optional.empty(), Optional.empty());
        Map<String, ColumnHandle> all = metadata.getColumnHandles(session, handle);
        List<ColumnHandle> columns = read.isEmpty() ? List.of(all.get("domain")) : read.stream().map(all::get).toList();
        List<ConnectorExpression> projections = new ArrayList<>();
        Map<String, ColumnHandle> assignments = new HashMap<>();
        for (ColumnHandle column : columns) {
            FhirColumnHandle fhirColumn = (FhirColumnHandle) column;
            projections.add(new Variable(fhirColumn.name(), fhirColumn.type()));
            assignments.put(fhirColumn.name(), column);
        }
        handle = metadata.applyProjection(session, handle, projections, assignments).map(result -> result.getHandle()).orElse(handle);
        List<String> values = new ArrayList<>();
        try (ConnectorSplitSource splits = connector.getSplitManager().getSplits(FhirTransactionHandle.INSTANCE, session, handle, DynamicFilter.EMPTY, Constraint.alwaysTrue())) {
            for (ConnectorSplit split : splits.getNextBatch(100).get().getSplits()) {
                RecordCursor cursor = connector.getRecordSetProvider().getRecordSet(FhirTransactionHandle.INSTANCE, session, split, handle, columns).cursor();
                while (cursor.advanceNextPosition()) {
                    values.add(cursor.getSlice(0).toStringUtf8());
                }
            }
        }
        return values;
    }

    @Test
    void excludedPatientsRowsNeverLeaveTheConnectorEvenWhenTheKeyIsNotRead()
            throws Exception
    {
        ConnectorSession session = session(Map.of());
        // These succeed only because ZZ9, which serves no patient-linked table, is not asked: nothing listens there.
        assertEquals(List.of("p2"), scan(session, "patient", List.of("id")));
        assertEquals(List.of("e2"), scan(session, "encounter", List.of("id")));
        // count(*): no column read, yet only e2's row comes out, and the key's element was fetched.
        assertEquals(List.of("RX1"), scan(session, "encounter", List.of()));
        assertTrue(requests.stream().anyMatch(request -> request.startsWith("rx1 Encounter?_elements=") && request.contains("subject") && !request.contains("_summary")), requests.toString());
        assertTrue(requests.contains("rth Patient?_elements=identifier,meta&_count=500"), requests.toString());
        assertTrue(requests.contains("rx1 Consent?status=active&_elements=status,patient,policy,provision&_count=500"), requests.toString());
        // Counts, searches and the patient register's loads alike: every request in the query's trace, each its own span.
        assertEquals(requests.size(), traceparents.size());
        assertTrue(traceparents.stream().allMatch(traceparent -> traceparent.matches("00-" + TRACE_ID + "-[0-9a-f]{16}-01")), traceparents.toString());
        assertEquals(traceparents.size(), traceparents.stream().distinct().count());
    }

    @Test
    void eachRuleCanBeSwitchedOffForTheSession()
            throws Exception
    {
        assertEquals(List.of("e1", "e2", "e3", "e4", "e5"), scan(session(Map.of(FhirSessionProperties.APPLY_OPT_OUTS, false, FhirSessionProperties.EXCLUDED_PATIENT_LABELS, "",
                FhirSessionProperties.EXCLUDE_PATIENTS_WITHOUT_NHS_NUMBER, false)), "encounter", List.of("id")));
        assertEquals(List.of("e1", "e2", "e4", "e5"), scan(session(Map.of(FhirSessionProperties.EXCLUDED_PATIENT_LABELS, "", FhirSessionProperties.APPLY_OPT_OUTS, false)), "encounter", List.of("id")));
        assertEquals(List.of("e2", "e3", "e5"), scan(session(Map.of(FhirSessionProperties.EXCLUDED_PATIENT_LABELS, "",
                FhirSessionProperties.EXCLUDE_PATIENTS_WITHOUT_NHS_NUMBER, false)), "encounter", List.of("id")));
        assertEquals(List.of("p1", "p2", "p3", "t1"), scan(session(Map.of(FhirSessionProperties.APPLY_OPT_OUTS, false, FhirSessionProperties.EXCLUDED_PATIENT_LABELS, "V",
                FhirSessionProperties.EXCLUDE_PATIENTS_WITHOUT_NHS_NUMBER, false)), "patient", List.of("id")));
        int before = requests.size();
        scan(session(Map.of(FhirSessionProperties.APPLY_OPT_OUTS, false, FhirSessionProperties.EXCLUDED_PATIENT_LABELS, "", FhirSessionProperties.EXCLUDE_PATIENTS_WITHOUT_NHS_NUMBER, false)), "encounter", List.of("id"));
        // Nothing to exclude: no patient or consent is read.
        assertTrue(requests.stream().skip(before).noneMatch(request -> request.contains("Patient") || request.contains("Consent")), requests.toString());
    }

    @Test
    void aDomainWhosePatientsCannotBeReadFailsTheQueryNamingIt()
    {
        failingDomain = "rth";
        // Even a scan of RX1's rows only: an opt-out recorded at RTH would exclude RX1 patients too.
        TrinoException e = assertThrows(TrinoException.class, () -> scan(session(Map.of()), "encounter", List.of("id")));
        assertTrue(e.getMessage().contains("patients to exclude") && e.getMessage().contains("FHIR domain RTH: Patient search failed"), e.getMessage());
        assertEquals(FhirErrorCode.FHIR_HTTP_ERROR.toErrorCode(), e.getErrorCode());
    }
}
