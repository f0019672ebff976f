package uk.nhs.fhirmesh.trino;

import io.trino.spi.connector.ConnectorSession;
import io.trino.spi.session.PropertyMetadata;

import java.lang.reflect.Proxy;
import java.util.HashMap;
import java.util.Map;

/** Connector sessions for tests: every fhir session property at its default unless overridden; nothing else. */
final class Sessions
{
    private Sessions() {}

    static ConnectorSession session(FhirConfig config, Map<String, Object> overrides)
    {
        Map<String, Object> properties = new HashMap<>();
        for (PropertyMetadata<?> property : FhirSessionProperties.properties(config)) {
            properties.put(property.getName(), property.getDefaultValue());
        }
        properties.putAll(overrides);
        return (ConnectorSession) Proxy.newProxyInstance(Sessions.class.getClassLoader(), new Class<?>[] {ConnectorSession.class},
                (proxy, method, args) -> {
                    if (method.getName().equals("getProperty") && properties.containsKey((String) args[0])) {
                        return properties.get(args[0]);
                    }
                    throw new UnsupportedOperationException(method.getName());
                });
    }
}
