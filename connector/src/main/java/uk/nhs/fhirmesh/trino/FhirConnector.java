package uk.nhs.fhirmesh.trino;

import io.trino.spi.connector.Connector;
import io.trino.spi.connector.ConnectorMetadata;
import io.trino.spi.connector.ConnectorRecordSetProvider;
import io.trino.spi.connector.ConnectorSession;
import io.trino.spi.connector.ConnectorSplitManager;
import io.trino.spi.connector.ConnectorTransactionHandle;
import io.trino.spi.connector.SystemTable;
import io.trino.spi.session.PropertyMetadata;
import io.trino.spi.transaction.IsolationLevel;
import uk.nhs.fhirmesh.client.FhirSearchClient;
import uk.nhs.fhirmesh.exclusion.PatientExclusionCache;
import uk.nhs.fhirmesh.exclusion.PatientRegisterReader;

import javax.management.MBeanServer;

import java.time.Clock;
import java.util.List;
import java.util.Set;
import java.util.function.Supplier;

/** A read-only fhir catalog: metadata from mapping files, splits per domain, records from FHIR search. */
final class FhirConnector
        implements Connector
{
    private final FhirCatalog catalog;
    private final FhirSearchClient client;
    private final FhirMetadata metadata;
    private final FhirSplitManager splitManager;
    private final FhirRecordSetProvider recordSetProvider;
    private final Supplier<String> nodeId;
    private final String catalogName;
    private final MBeanServer mbeanServer;
    private final DomainRequestsExporter requestMetrics;

    /**
     * @param nodeId the id of the Trino node this connector runs on, as {@code mesh.circuits} names it
     * @param mbeanServer where the domains' request metrics are registered until {@link #shutdown()}
     */
    FhirConnector(String catalogName, FhirCatalog catalog, FhirSearchClient client, Supplier<String> nodeId, MBeanServer mbeanServer)
    {
        this.catalog = catalog;
        this.client = client;
        this.nodeId = nodeId;
        this.catalogName = catalogName;
        this.mbeanServer = mbeanServer;
        this.metadata = new FhirMetadata(catalog);
        this.splitManager = new FhirSplitManager(catalog, client);
        // One per catalog: a query's splits, and concurrent queries, share one read of the patients.
        PatientExclusionCache exclusions = new PatientExclusionCache(
                new PatientRegisterReader((domain, search, trace) -> client.search(catalog.endpoint(domain), search, catalog.config().pageSize(), trace),
                        catalog.config().optOutPolicyUri(), Clock.systemUTC(), catalog.config().splitPlanningConcurrency()),
                catalog.config().patientExclusionCacheTtl(), catalog.config().patientExclusionMaxStaleness());
        this.recordSetProvider = new FhirRecordSetProvider(catalog, client, exclusions);
        this.requestMetrics = new DomainRequestsExporter(mbeanServer, catalogName, catalog.domains(), client);
    }

    @Override
    public ConnectorTransactionHandle beginTransaction(IsolationLevel isolationLevel, boolean readOnly, boolean autoCommit)
    {
        return FhirTransactionHandle.INSTANCE;
    }

    @Override
    public ConnectorMetadata getMetadata(ConnectorSession session, ConnectorTransactionHandle transaction)
    {
        return metadata;
    }

    @Override
    public ConnectorSplitManager getSplitManager()
    {
        return splitManager;
    }

    @Override
    public ConnectorRecordSetProvider getRecordSetProvider()
    {
        return recordSetProvider;
    }

    @Override
    public Set<SystemTable> getSystemTables()
    {
        return Set.of(new DomainsSystemTable(catalog.config()), new CircuitsSystemTable(nodeId, catalog::domains, client),
                new RequestMetricsSystemTable(nodeId, catalogName, catalog::domains, mbeanServer));
    }

    @Override
    public List<PropertyMetadata<?>> getSessionProperties()
    {
        return FhirSessionProperties.properties(catalog.config());
    }

    @Override
    public void shutdown()
    {
        splitManager.shutdown();
        requestMetrics.close();
        client.close();
    }
}
