package uk.nhs.fhirmesh.trino;

import io.trino.spi.connector.Connector;
import io.trino.spi.connector.ConnectorMetadata;
import io.trino.spi.connector.ConnectorRecordSetProvider;
import io.trino.spi.connector.ConnectorSession;
import io.trino.spi.connector.ConnectorSplitManager;
import io.trino.spi.connector.ConnectorTransactionHandle;
import io.trino.spi.session.PropertyMetadata;
import io.trino.spi.transaction.IsolationLevel;
import uk.nhs.fhirmesh.client.FhirSearchClient;

import java.util.List;

/** A read-only fhir catalog: metadata from mapping files, splits per domain, records from FHIR search. */
final class FhirConnector
        implements Connector
{
    private final FhirCatalog catalog;
    private final FhirSearchClient client;
    private final FhirMetadata metadata;
    private final FhirSplitManager splitManager;
    private final FhirRecordSetProvider recordSetProvider;

    FhirConnector(FhirCatalog catalog, FhirSearchClient client)
    {
        this.catalog = catalog;
        this.client = client;
        this.metadata = new FhirMetadata(catalog);
        this.splitManager = new FhirSplitManager(catalog, client);
        this.recordSetProvider = new FhirRecordSetProvider(catalog, client);
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
    public List<PropertyMetadata<?>> getSessionProperties()
    {
        return FhirSessionProperties.properties(catalog.config());
    }

    @Override
    public void shutdown()
    {
        client.close();
    }
}
