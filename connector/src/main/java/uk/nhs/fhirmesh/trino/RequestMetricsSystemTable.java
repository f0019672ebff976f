package uk.nhs.fhirmesh.trino;

import io.trino.spi.block.Block;
import io.trino.spi.block.BlockBuilder;
import io.trino.spi.connector.ConnectorSession;
import io.trino.spi.connector.ConnectorTableMetadata;
import io.trino.spi.connector.ConnectorTransactionHandle;
import io.trino.spi.connector.InMemoryRecordSet;
import io.trino.spi.connector.RecordCursor;
import io.trino.spi.connector.SchemaTableName;
import io.trino.spi.connector.SystemTable;
import io.trino.spi.predicate.TupleDomain;
import io.trino.spi.type.ArrayType;
import uk.nhs.fhirmesh.client.DomainRequestMetrics;

import javax.management.Attribute;
import javax.management.AttributeList;
import javax.management.JMException;
import javax.management.MBeanServer;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Supplier;

import static io.trino.spi.type.BigintType.BIGINT;
import static io.trino.spi.type.DoubleType.DOUBLE;
import static io.trino.spi.type.VarcharType.VARCHAR;
import static uk.nhs.fhirmesh.trino.SystemTableColumns.column;

/**
 * {@code <catalog>.mesh.request_metrics}: every domain's {@link DomainRequestsMBean} on every node, read from JMX (the
 * platform MBean server) when the table is read, so the numbers are exactly what any JMX client sees at that moment.
 * The control plane scrapes it: Trino's own {@code /metrics} carries the same MBeans on each node, but a worker
 * answers it only on its internal port, so this table, read through the coordinator as any query, reaches every node.
 */
final class RequestMetricsSystemTable
        implements SystemTable
{
    static final SchemaTableName NAME = new SchemaTableName(FhirCatalog.SYSTEM_SCHEMA, "request_metrics");

    private static final List<String> COUNTERS = List.of("Requests", "Retries", "ResponseBytes", "FailuresHttp3xx", "FailuresHttp4xx", "FailuresHttp5xx",
            "FailuresTimeout", "FailuresConnection", "FailuresBadResponse", "FailuresCircuitOpen", "LatencyCount");

    private static final ConnectorTableMetadata METADATA = new ConnectorTableMetadata(
            NAME,
            List.of(column("node", VARCHAR, "Trino node id"),
                    column("domain", VARCHAR, "Domain (ODS code)"),
                    column("requests", BIGINT, "HTTP requests this node sent to the domain's endpoint, retries included"),
                    column("retries", BIGINT, "Requests sent again after a retryable failure"),
                    column("response_bytes", BIGINT, "Response body bytes read, error bodies included"),
                    column("failures_http_3xx", BIGINT, "Requests answered with a status other than 2xx, 4xx or 5xx"),
                    column("failures_http_4xx", BIGINT, "Requests answered with a 4xx status"),
                    column("failures_http_5xx", BIGINT, "Requests answered with a 5xx status"),
                    column("failures_timeout", BIGINT, "Requests that timed out (connect, response or a stalled body)"),
                    column("failures_connection", BIGINT, "Requests whose connection was refused or lost"),
                    column("failures_bad_response", BIGINT, "2xx answers that were not a readable FHIR Bundle"),
                    column("failures_circuit_open", BIGINT, "Requests not sent because the endpoint's circuit was open"),
                    column("latency_count", BIGINT, "Requests whose latency is in the histogram"),
                    column("latency_sum_seconds", DOUBLE, "Sum of those latencies"),
                    column("latency_bounds_seconds", new ArrayType(DOUBLE), "Upper bounds of the histogram's buckets"),
                    column("latency_cumulative_counts", new ArrayType(BIGINT), "Requests at or under each bound"),
                    column("circuit_state", VARCHAR, "closed, open or half_open")),
            Map.of(),
            Optional.of("HTTP requests of this catalog to each domain, per Trino node, from JMX"));

    private final Supplier<String> nodeId;
    private final String catalog;
    private final Supplier<List<String>> domains;
    private final MBeanServer server;

    RequestMetricsSystemTable(Supplier<String> nodeId, String catalog, Supplier<List<String>> domains, MBeanServer server)
    {
        this.nodeId = nodeId;
        this.catalog = catalog;
        this.domains = domains;
        this.server = server;
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
        // Buckets first, in rising order, then the count: each value only grows, so while requests run the cumulative
        // counts read this way still rise and never exceed the count read after them.
        List<String> attributes = new ArrayList<>(DomainRequests.LATENCY_BUCKET_ATTRIBUTES);
        attributes.addAll(COUNTERS);
        attributes.add("LatencySumSeconds");
        attributes.add("CircuitStateCode");
        for (String domain : domains.get()) {
            Map<String, Object> values = read(domain, attributes);
            List<Object> row = new ArrayList<>(List.of(node, domain));
            for (String counter : COUNTERS) {
                row.add(values.get(counter));
                if (counter.equals("LatencyCount")) {
                    row.add(values.get("LatencySumSeconds"));
                }
            }
            row.add(bounds());
            BlockBuilder counts = BIGINT.createFixedSizeBlockBuilder(DomainRequests.LATENCY_BUCKET_ATTRIBUTES.size());
            for (String bucket : DomainRequests.LATENCY_BUCKET_ATTRIBUTES) {
                BIGINT.writeLong(counts, (Long) values.get(bucket));
            }
            row.add(counts.build());
            row.add(DomainRequests.circuitLabel((Integer) values.get("CircuitStateCode")));
            rows.addRow(row.toArray());
        }
        return rows.build().cursor();
    }

    private Map<String, Object> read(String domain, List<String> attributes)
    {
        AttributeList list;
        try {
            list = server.getAttributes(DomainRequestsExporter.objectName(catalog, domain), attributes.toArray(String[]::new));
        }
        catch (JMException e) {
            throw new IllegalStateException("the request metrics of catalog %s, domain %s are not in JMX: %s".formatted(catalog, domain, e.getMessage()), e);
        }
        Map<String, Object> values = new HashMap<>();
        for (Attribute attribute : list.asList()) {
            values.put(attribute.getName(), attribute.getValue());
        }
        if (!values.keySet().containsAll(attributes)) {
            throw new IllegalStateException("the request metrics of catalog %s, domain %s in JMX lack attributes %s".formatted(catalog, domain, attributes.stream().filter(name -> !values.containsKey(name)).toList()));
        }
        return values;
    }

    private static Block bounds()
    {
        BlockBuilder bounds = DOUBLE.createFixedSizeBlockBuilder(DomainRequestMetrics.LATENCY_BOUNDS_SECONDS.length);
        for (double bound : DomainRequestMetrics.LATENCY_BOUNDS_SECONDS) {
            DOUBLE.writeDouble(bounds, bound);
        }
        return bounds.build();
    }
}
