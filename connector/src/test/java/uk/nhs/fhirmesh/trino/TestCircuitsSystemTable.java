package uk.nhs.fhirmesh.trino;

import io.trino.spi.connector.ColumnMetadata;
import io.trino.spi.connector.RecordCursor;
import io.trino.spi.connector.SystemTable;
import io.trino.spi.predicate.TupleDomain;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import uk.nhs.fhirmesh.client.FhirRequestException;
import uk.nhs.fhirmesh.client.FhirSearchClient;
import uk.nhs.fhirmesh.client.HttpSettings;
import uk.nhs.fhirmesh.search.FhirSearch;

import javax.management.MBeanServerFactory;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static io.trino.spi.type.DateTimeEncoding.unpackMillisUtc;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code mesh.circuits} as the connector registers it: the rows its cursor gives for a failing and an unused domain. */
class TestCircuitsSystemTable
{
    @TempDir
    Path mappings;

    private FhirSearchClient client;

    @AfterEach
    void close()
    {
        client.close();
    }

    @Test
    void listsEveryDomainOfTheCatalogWithItsCircuitOnThisNode()
            throws IOException
    {
        int closedPort;
        try (ServerSocket socket = new ServerSocket(0)) {
            closedPort = socket.getLocalPort();
        }
        String base = "http://127.0.0.1:" + closedPort + "/fhir/";
        FhirCatalog catalog = new FhirCatalog(FhirConfig.parse(Map.of(
                "connector.name", "fhir",
                "fhir.domains", "RX1,RTH",
                "fhir.domain.RX1.base-url", base + "rx1",
                "fhir.domain.RTH.base-url", base + "rth",
                "fhir.mappings.dir", mappings.toString())), Optional.empty());
        client = new FhirSearchClient(new HttpSettings(Duration.ofSeconds(5), Duration.ofSeconds(5), 1, Duration.ZERO, 4, 1L << 20, 2, Duration.ofMinutes(10)));
        SystemTable table = new FhirConnector("fhir", catalog, client, () -> "node-a", MBeanServerFactory.newMBeanServer()).getSystemTables().stream()
                .filter(candidate -> candidate.getTableMetadata().getTable().equals(CircuitsSystemTable.NAME))
                .findFirst()
                .orElseThrow();
        assertEquals("mesh.circuits", table.getTableMetadata().getTable().toString());
        assertEquals(SystemTable.Distribution.ALL_NODES, table.getDistribution());
        assertEquals(List.of("node varchar", "domain varchar", "state varchar", "consecutive_failures bigint", "opened_at timestamp(3) with time zone",
                        "last_failure varchar", "requests bigint", "failures bigint"),
                table.getTableMetadata().getColumns().stream().map(column -> column.getName() + " " + column.getType().getDisplayName()).toList());
        assertEquals(List.of(List.of("node-a", "RX1", "closed", 0L, "NULL", "NULL", 0L, 0L), List.of("node-a", "RTH", "closed", 0L, "NULL", "NULL", 0L, 0L)), rows(table));

        Instant before = Instant.now();
        for (int i = 0; i < 2; i++) {
            assertThrows(FhirRequestException.class, () -> client.count(catalog.endpoint("RX1"), FhirSearch.of("Condition")));
        }
        String refused = "FHIR domain RX1: Condition count failed: cannot connect to " + base + "rx1: connection refused";
        assertThrows(FhirRequestException.class, () -> client.count(catalog.endpoint("RX1"), FhirSearch.of("Condition")));

        List<List<Object>> rows = rows(table);
        List<Object> rx1 = rows.getFirst();
        Instant openedAt = (Instant) rx1.get(4);
        assertTrue(!openedAt.isBefore(before.minusMillis(1)) && !openedAt.isAfter(Instant.now()), openedAt.toString());
        assertEquals(Arrays.asList("node-a", "RX1", "open", 2L, openedAt, refused, 2L, 2L), rx1);
        assertEquals(List.of("node-a", "RTH", "closed", 0L, "NULL", "NULL", 0L, 0L), rows.get(1));
    }

    /** The cursor's rows; NULL as the text {@code NULL}, opened_at as an Instant. */
    private static List<List<Object>> rows(SystemTable table)
    {
        List<ColumnMetadata> columns = table.getTableMetadata().getColumns();
        List<List<Object>> rows = new ArrayList<>();
        try (RecordCursor cursor = table.cursor(null, null, TupleDomain.all())) {
            while (cursor.advanceNextPosition()) {
                List<Object> row = new ArrayList<>();
                for (int field = 0; field < columns.size(); field++) {
                    String type = columns.get(field).getType().getDisplayName();
                    if (cursor.isNull(field)) {
                        row.add("NULL");
                    }
                    else if (type.equals("varchar")) {
                        row.add(cursor.getSlice(field).toStringUtf8());
                    }
                    else if (type.equals("bigint")) {
                        row.add(cursor.getLong(field));
                    }
                    else {
                        row.add(Instant.ofEpochMilli(unpackMillisUtc(cursor.getLong(field))));
                    }
                }
                rows.add(row);
            }
        }
        return rows;
    }
}
