package uk.nhs.fhirmesh.trino;

import io.trino.spi.connector.ColumnMetadata;
import io.trino.spi.connector.RecordCursor;
import io.trino.spi.connector.SystemTable;
import io.trino.spi.predicate.TupleDomain;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import static io.trino.spi.type.VarcharType.VARCHAR;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** {@code mesh.domains} lists every domain of the catalog with the description its catalog properties give, NULL where none. */
class TestDomainsSystemTable
{
    @Test
    void listsEachDomainOfTheCatalogWithItsDescription()
    {
        FhirConfig config = FhirConfig.parse(Map.of(
                "connector.name", "fhir",
                "fhir.domains", "RX1,rth,RR8",
                "fhir.domain.RX1.base-url", "http://127.0.0.1:1/fhir/rx1",
                "fhir.domain.RX1.name", "Nottingham University Hospitals NHS Trust",
                "fhir.domain.RX1.kind", "trust",
                "fhir.domain.RX1.region", "Midlands",
                "fhir.domain.rth.base-url", "http://127.0.0.1:1/fhir/rth",
                "fhir.domain.rth.region", "South East",
                "fhir.domain.RR8.base-url", "http://127.0.0.1:1/fhir/rr8",
                "fhir.mappings.dir", "/tmp"));
        SystemTable table = new DomainsSystemTable(config);

        assertEquals("mesh.domains", table.getTableMetadata().getTable().toString());
        assertEquals(SystemTable.Distribution.SINGLE_COORDINATOR, table.getDistribution());
        assertEquals(List.of("domain", "name", "kind", "region"), table.getTableMetadata().getColumns().stream().map(ColumnMetadata::getName).toList());
        table.getTableMetadata().getColumns().forEach(column -> assertEquals(VARCHAR, column.getType(), column.getName()));

        assertEquals(List.of(
                        Arrays.asList("RX1", "Nottingham University Hospitals NHS Trust", "trust", "Midlands"),
                        Arrays.asList("RTH", null, null, "South East"),
                        Arrays.asList("RR8", null, null, null)),
                rows(table.cursor(null, null, TupleDomain.all())));
    }

    private static List<List<String>> rows(RecordCursor cursor)
    {
        List<List<String>> rows = new ArrayList<>();
        while (cursor.advanceNextPosition()) {
            List<String> row = new ArrayList<>();
            for (int field = 0; field < 4; field++) {
                row.add(cursor.isNull(field) ? null : cursor.getSlice(field).toStringUtf8());
            }
            rows.add(row);
        }
        return rows;
    }
}
