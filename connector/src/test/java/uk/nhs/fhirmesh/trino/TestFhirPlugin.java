package uk.nhs.fhirmesh.trino;

import io.trino.spi.Plugin;
import org.junit.jupiter.api.Test;

import java.util.ServiceLoader;

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
}
