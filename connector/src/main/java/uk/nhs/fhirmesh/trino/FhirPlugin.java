package uk.nhs.fhirmesh.trino;

import io.trino.spi.Plugin;
import io.trino.spi.connector.ConnectorFactory;

import java.util.List;
import java.util.Set;

/** Entry point Trino discovers through {@code META-INF/services/io.trino.spi.Plugin}. */
public final class FhirPlugin
        implements Plugin
{
    @Override
    public Iterable<ConnectorFactory> getConnectorFactories()
    {
        return List.of(new FhirConnectorFactory());
    }

    /** Global functions (system.builtin), so the gateway can call them whatever the catalog is called. */
    @Override
    public Set<Class<?>> getFunctions()
    {
        return Set.of(PseudonymFunction.class);
    }
}
