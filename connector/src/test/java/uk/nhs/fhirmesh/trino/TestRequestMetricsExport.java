package uk.nhs.fhirmesh.trino;

import io.trino.spi.block.Block;
import io.trino.spi.connector.RecordCursor;
import io.trino.spi.connector.SystemTable;
import io.trino.spi.predicate.TupleDomain;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import uk.nhs.fhirmesh.client.FhirRequestException;
import uk.nhs.fhirmesh.client.FhirSearchClient;
import uk.nhs.fhirmesh.client.HttpSettings;
import uk.nhs.fhirmesh.search.FhirSearch;

import javax.management.MBeanServer;
import javax.management.MBeanServerFactory;
import javax.management.ObjectName;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

import static io.trino.spi.type.BigintType.BIGINT;
import static io.trino.spi.type.DoubleType.DOUBLE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The domains' request metrics as JMX MBeans for as long as the catalog lives, and {@code mesh.request_metrics} reading them. */
class TestRequestMetricsExport
{
    @TempDir
    Path mappings;

    private FhirCatalog catalog(String base)
    {
        return new FhirCatalog(FhirConfig.parse(Map.of(
                "connector.name", "fhir",
                "fhir.domains", "RX1,RTH",
                "fhir.domain.RX1.base-url", base + "rx1",
                "fhir.domain.RTH.base-url", base + "rth",
                "fhir.mappings.dir", mappings.toString())), Optional.empty());
    }

    private static FhirSearchClient client()
    {
        return new FhirSearchClient(new HttpSettings(Duration.ofSeconds(5), Duration.ofSeconds(5), 1, Duration.ZERO, 4, 1L << 20, 2, Duration.ofMinutes(10)));
    }

    private static Set<ObjectName> registered(MBeanServer server)
            throws Exception
    {
        return server.queryNames(new ObjectName("uk.nhs.fhirmesh:*"), null);
    }

    @Test
    void registersAnMBeanPerDomainUntilTheConnectorShutsDown()
            throws Exception
    {
        int closedPort;
        try (ServerSocket socket = new ServerSocket(0)) {
            closedPort = socket.getLocalPort();
        }
        String base = "http://127.0.0.1:" + closedPort + "/fhir/";
        MBeanServer server = MBeanServerFactory.newMBeanServer();
        FhirSearchClient client = client();
        FhirCatalog catalog = catalog(base);
        FhirConnector connector = new FhirConnector("fhir", catalog, client, () -> "node-a", server);
        ObjectName rx1 = new ObjectName("uk.nhs.fhirmesh:type=DomainRequests,name=fhir.RX1");
        assertEquals(Set.of(rx1, new ObjectName("uk.nhs.fhirmesh:type=DomainRequests,name=fhir.RTH")), registered(server));

        for (int i = 0; i < 3; i++) {
            assertThrows(FhirRequestException.class, () -> client.count(catalog.endpoint("RX1"), FhirSearch.of("Condition")));
        }
        // Two refused connections open the circuit (threshold 2); the third request is never sent.
        assertEquals(2L, server.getAttribute(rx1, "Requests"));
        assertEquals(2L, server.getAttribute(rx1, "FailuresConnection"));
        assertEquals(1L, server.getAttribute(rx1, "FailuresCircuitOpen"));
        assertEquals(1, server.getAttribute(rx1, "CircuitStateCode"));
        assertEquals(2L, server.getAttribute(rx1, "LatencyCount"));

        SystemTable table = connector.getSystemTables().stream()
                .filter(candidate -> candidate.getTableMetadata().getTable().equals(RequestMetricsSystemTable.NAME))
                .findFirst()
                .orElseThrow();
        assertEquals("mesh.request_metrics", table.getTableMetadata().getTable().toString());
        assertEquals(SystemTable.Distribution.ALL_NODES, table.getDistribution());
        List<List<Object>> rows = rows(table);
        assertEquals(2, rows.size());
        List<Object> rx1Row = rows.getFirst();
        assertEquals(List.of("node-a", "RX1", 2L, 0L, 0L, 0L, 0L, 0L, 0L, 2L, 0L, 1L, 2L), rx1Row.subList(0, 13));
        assertTrue((Double) rx1Row.get(13) > 0);
        assertEquals(List.of(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0), rx1Row.get(14));
        @SuppressWarnings("unchecked")
        List<Long> cumulative = (List<Long>) rx1Row.get(15);
        assertEquals(13, cumulative.size());
        assertEquals(2L, cumulative.getLast());
        assertEquals("open", rx1Row.get(16));
        assertEquals(List.of("node-a", "RTH", 0L, 0L, 0L, 0L, 0L, 0L, 0L, 0L, 0L, 0L, 0L, 0.0), rows.get(1).subList(0, 14));
        assertEquals("closed", rows.get(1).get(16));

        connector.shutdown();
        assertEquals(Set.of(), registered(server), "DROP CATALOG leaves no MBean behind");
    }

    @Test
    void aCatalogCreatedAgainBeforeTheOldOneShutsDownKeepsItsMBeans()
            throws Exception
    {
        MBeanServer server = MBeanServerFactory.newMBeanServer();
        FhirConnector old = new FhirConnector("fhir", catalog("http://127.0.0.1:1/fhir/"), client(), () -> "node-a", server);
        FhirSearchClient newClient = client();
        FhirConnector replacement = new FhirConnector("fhir", catalog("http://127.0.0.1:1/fhir/"), newClient, () -> "node-a", server);
        FhirConnector other = new FhirConnector("fhir_b", catalog("http://127.0.0.1:1/fhir/"), client(), () -> "node-a", server);
        old.shutdown();
        assertEquals(4, registered(server).size(), "the replacement's and the other catalog's");
        assertThrows(FhirRequestException.class, () -> newClient.count(new FhirCatalog(FhirConfig.parse(Map.of("connector.name", "fhir", "fhir.domains", "RX1",
                "fhir.domain.RX1.base-url", "http://127.0.0.1:1/fhir/rx1", "fhir.mappings.dir", mappings.toString())), Optional.empty()).endpoint("RX1"), FhirSearch.of("Condition")));
        assertEquals(1L, server.getAttribute(new ObjectName("uk.nhs.fhirmesh:type=DomainRequests,name=fhir.RX1"), "Requests"), "the replacement's client is counted");
        replacement.shutdown();
        other.shutdown();
        assertFalse(registered(server).iterator().hasNext());
    }

    /** The cursor's rows: varchar as String, bigint as Long, double as Double, arrays as lists. */
    private static List<List<Object>> rows(SystemTable table)
    {
        int columns = table.getTableMetadata().getColumns().size();
        List<List<Object>> rows = new ArrayList<>();
        try (RecordCursor cursor = table.cursor(null, null, TupleDomain.all())) {
            while (cursor.advanceNextPosition()) {
                List<Object> row = new ArrayList<>();
                for (int field = 0; field < columns; field++) {
                    String type = table.getTableMetadata().getColumns().get(field).getType().getDisplayName();
                    switch (type) {
                        case "varchar" -> row.add(cursor.getSlice(field).toStringUtf8());
                        case "bigint" -> row.add(cursor.getLong(field));
                        case "double" -> row.add(cursor.getDouble(field));
                        case "array(double)" -> {
                            Block block = (Block) cursor.getObject(field);
                            List<Double> values = new ArrayList<>();
                            for (int i = 0; i < block.getPositionCount(); i++) {
                                values.add(DOUBLE.getDouble(block, i));
                            }
                            row.add(values);
                        }
                        case "array(bigint)" -> {
                            Block block = (Block) cursor.getObject(field);
                            List<Long> values = new ArrayList<>();
                            for (int i = 0; i < block.getPositionCount(); i++) {
                                values.add(BIGINT.getLong(block, i));
                            }
                            row.add(values);
                        }
                        default -> throw new AssertionError(type);
                    }
                }
                rows.add(row);
            }
        }
        return rows;
    }
}
