package uk.nhs.fhirmesh.trino;

import io.trino.spi.connector.ConnectorSession;
import io.trino.spi.connector.ConnectorTableMetadata;
import io.trino.spi.connector.ConnectorTransactionHandle;
import io.trino.spi.connector.InMemoryRecordSet;
import io.trino.spi.connector.RecordCursor;
import io.trino.spi.connector.SchemaTableName;
import io.trino.spi.connector.SystemTable;
import io.trino.spi.predicate.TupleDomain;
import uk.nhs.fhirmesh.client.CircuitState;
import uk.nhs.fhirmesh.client.FhirSearchClient;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Supplier;

import static io.trino.spi.type.BigintType.BIGINT;
import static io.trino.spi.type.DateTimeEncoding.packDateTimeWithZone;
import static io.trino.spi.type.TimeZoneKey.UTC_KEY;
import static io.trino.spi.type.TimestampWithTimeZoneType.TIMESTAMP_TZ_MILLIS;
import static io.trino.spi.type.VarcharType.VARCHAR;
import static uk.nhs.fhirmesh.trino.SystemTableColumns.column;

/**
 * {@code <catalog>.mesh.circuits}: the circuit breaker of every domain's endpoint on every node, for operators
 * and the gateway (which skips open domains when partial results are asked for). Each node keeps its own
 * breakers, so the table is read on all nodes and each reports its own, closed ones included.
 */
final class CircuitsSystemTable
        implements SystemTable
{
    static final SchemaTableName NAME = new SchemaTableName(FhirCatalog.SYSTEM_SCHEMA, "circuits");

    private static final ConnectorTableMetadata METADATA = new ConnectorTableMetadata(
            NAME,
            List.of(column("node", VARCHAR, "Trino node id"),
                    column("domain", VARCHAR, "Domain (ODS code)"),
                    column("state", VARCHAR, "closed, open (requests fail at once) or half_open (one probe request let through)"),
                    column("consecutive_failures", BIGINT, "Failed requests since the last success"),
                    column("opened_at", TIMESTAMP_TZ_MILLIS, "When the circuit last opened; NULL while closed"),
                    column("last_failure", VARCHAR, "Message of the last failure counted against the endpoint"),
                    column("requests", BIGINT, "Requests let through to the endpoint by this node (a request: one page with its retries)"),
                    column("failures", BIGINT, "Requests that failed against the endpoint (unreachable, timeout, 5xx or 429, malformed)")),
            Map.of(),
            Optional.of("Circuit breakers of this catalog's endpoints, per Trino node"));

    private final Supplier<String> nodeId;
    private final Supplier<List<String>> domains;
    private final FhirSearchClient client;

    CircuitsSystemTable(Supplier<String> nodeId, Supplier<List<String>> domains, FhirSearchClient client)
    {
        this.nodeId = nodeId;
        this.domains = domains;
        this.client = client;
    }

    @Override
    public Distribution getDistribution()
    {
        return Distribution.ALL_NODES;
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
        String node = nodeId.get();
        for (String domain : domains.get()) {
            CircuitState circuit = client.circuit(domain);
            rows.addRow(node, domain, circuit.state().label(), circuit.consecutiveFailures(),
                    circuit.openedAt() == null ? null : packDateTimeWithZone(circuit.openedAt().toEpochMilli(), UTC_KEY),
                    circuit.lastFailure(), circuit.requests(), circuit.failures());
        }
        return rows.build().cursor();
    }
}
