package uk.nhs.fhirmesh.trino;

import io.trino.spi.connector.ConnectorSession;
import io.trino.spi.connector.ConnectorTableMetadata;
import io.trino.spi.connector.ConnectorTransactionHandle;
import io.trino.spi.connector.InMemoryRecordSet;
import io.trino.spi.connector.RecordCursor;
import io.trino.spi.connector.SchemaTableName;
import io.trino.spi.connector.SystemTable;
import io.trino.spi.predicate.TupleDomain;

import java.util.List;
import java.util.Map;
import java.util.Optional;

import static io.trino.spi.type.VarcharType.VARCHAR;
import static uk.nhs.fhirmesh.trino.SystemTableColumns.column;

/**
 * {@code <catalog>.mesh.domains}: one row per domain of the catalog with its registry description, so one
 * statement can read a chosen subset, e.g. {@code WHERE domain IN (SELECT domain FROM fhir.mesh.domains
 * WHERE region = 'Midlands')}. Served from the catalog properties alone: listing it asks no endpoint.
 */
final class DomainsSystemTable
        implements SystemTable
{
    static final SchemaTableName NAME = new SchemaTableName(FhirCatalog.SYSTEM_SCHEMA, "domains");

    private static final ConnectorTableMetadata METADATA = new ConnectorTableMetadata(
            NAME,
            List.of(column("domain", VARCHAR, "Domain (ODS code), as the domain column of every table"),
                    column("name", VARCHAR, "Organisation name"),
                    column("kind", VARCHAR, "trust, gp-federation, ics or national"),
                    column("region", VARCHAR, "NHS region")),
            Map.of(),
            Optional.of("Domains of this catalog, from the registry"));

    private final FhirConfig config;

    DomainsSystemTable(FhirConfig config)
    {
        this.config = config;
    }

    @Override
    public Distribution getDistribution()
    {
        return Distribution.SINGLE_COORDINATOR;
    }

    @Override
    public ConnectorTableMetadata getTableMetadata()
    {
        return METADATA;
    }

    @Override
    public RecordCursor cursor(ConnectorTransactionHandle transaction, ConnectorSession session, TupleDomain<Integer> constraint)
    {
        InMemoryRecordSet.Builder rows = InMemoryRecordSet.builder(METADATA);
        config.domains().values().forEach(domain -> rows.addRow(domain.code(), domain.name(), domain.kind(), domain.region()));
        return rows.build().cursor();
    }
}
