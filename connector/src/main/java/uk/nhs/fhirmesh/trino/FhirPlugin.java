package uk.nhs.fhirmesh.trino;

import io.trino.spi.Plugin;
import io.trino.spi.connector.ConnectorFactory;

import java.util.List;

/**
 * Entry point Trino discovers through {@code META-INF/services/io.trino.spi.Plugin}.
 *
 * <p>The mesh runtime installs this plugin from day one so that the plugin directory, its class
 * loading and the pinned SPI are exercised by every start; the {@code fhir} connector factory
 * (ViewDefinitions as tables, FHIR search pushdown) is registered here when it lands.
 */
public final class FhirPlugin
        implements Plugin
{
    @Override
    public Iterable<ConnectorFactory> getConnectorFactories()
    {
        return List.of();
    }
}
