package uk.nhs.fhirmesh.trino;

import io.trino.spi.connector.Connector;
import io.trino.spi.connector.ConnectorContext;
import io.trino.spi.connector.ConnectorFactory;
import uk.nhs.fhirmesh.client.BearerToken;
import uk.nhs.fhirmesh.client.FhirSearchClient;
import uk.nhs.fhirmesh.client.HttpSettings;

import java.lang.management.ManagementFactory;
import java.util.Map;

/** {@code connector.name=fhir}: validates the catalog properties and builds the connector. */
public final class FhirConnectorFactory
        implements ConnectorFactory
{
    @Override
    public String getName()
    {
        return "fhir";
    }

    @Override
    public Connector create(String catalogName, Map<String, String> properties, ConnectorContext context)
    {
        FhirConfig config = FhirConfig.parse(properties);
        // The secrets directory comes from the Trino process, not from the catalog properties CREATE CATALOG writes.
        FhirCatalog catalog = new FhirCatalog(config, BearerToken.configuredSecretsDir());
        FhirSearchClient client = new FhirSearchClient(new HttpSettings(config.connectTimeout(), config.requestTimeout(),
                config.retryMaxAttempts(), config.retryMaxTime(), config.maxConcurrentRequestsPerEndpoint(), config.maxResponseBytes(),
                config.circuitFailureThreshold(), config.circuitOpenDuration(), config.maxConcurrentRequests()));
        // Asked when mesh.circuits is read, not here: the node is Trino's to name, and only the table needs it.
        // The platform MBean server, which Trino's OpenMetrics endpoint (openmetrics.jmx-object-names) reads as well.
        return new FhirConnector(catalogName, catalog, client, () -> context.getNodeManager().getCurrentNode().getNodeIdentifier(),
                ManagementFactory.getPlatformMBeanServer());
    }
}
