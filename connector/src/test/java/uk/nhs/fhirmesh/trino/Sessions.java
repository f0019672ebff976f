package uk.nhs.fhirmesh.trino;

import io.trino.spi.connector.ConnectorSession;
import io.trino.spi.session.PropertyMetadata;

import java.lang.reflect.Proxy;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;

/**
 * Connector sessions for tests: every fhir session property at its default unless overridden, the query id
 * {@link #QUERY_ID} and no trace token (so requests are traced by the query id); nothing else.
 */
final class Sessions
{
    static final String QUERY_ID = "20250301_101500_00001_tests";

    private Sessions() {}

    static ConnectorSession session(FhirConfig config)
    {
        return session(config, Map.of());
    }

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
                    if (method.getName().equals("getQueryId")) {
                        return QUERY_ID;
                    }
                    if (method.getName().equals("getTraceToken")) {
                        return Optional.empty();
                    }
                    throw new UnsupportedOperationException(method.getName());
                });
    }
}
