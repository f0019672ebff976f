package uk.nhs.fhirmesh.trino;

import io.trino.spi.Plugin;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.ServiceLoader;
import java.util.stream.StreamSupport;

import static org.junit.jupiter.api.Assertions.assertEquals;

class TestFhirPlugin
{
    @Test
    void trinoDiscoversThePluginThroughTheServiceLoader()
    {
        // Trino's PluginManager finds plugins exactly this way; a missing or misspelt services file
        // would make the server start without the plugin and without an error.
        long found = ServiceLoader.load(Plugin.class).stream()
                .filter(provider -> provider.type() == FhirPlugin.class)
                .count();
        assertEquals(1, found);
    }

    @Test
    void registersTheFhirConnectorFactory()
    {
        List<String> names = StreamSupport.stream(new FhirPlugin().getConnectorFactories().spliterator(), false)
                .map(factory -> factory.getName())
                .toList();
        assertEquals(List.of("fhir"), names);
    }
}
