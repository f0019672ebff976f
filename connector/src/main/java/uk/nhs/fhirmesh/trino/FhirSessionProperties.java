package uk.nhs.fhirmesh.trino;

import io.trino.spi.connector.ConnectorSession;
import io.trino.spi.session.PropertyMetadata;

import java.util.List;

import static io.trino.spi.session.PropertyMetadata.booleanProperty;

/** {@code SET SESSION <catalog>.pushdown_enabled = false} reads whole resource types, for comparison and diagnosis. */
final class FhirSessionProperties
{
    static final String PUSHDOWN_ENABLED = "pushdown_enabled";

    private FhirSessionProperties() {}

    static List<PropertyMetadata<?>> properties(FhirConfig config)
    {
        return List.of(booleanProperty(PUSHDOWN_ENABLED, "Push filters, LIMIT and projections into FHIR search", config.pushdownEnabled(), false));
    }

    static boolean pushdownEnabled(ConnectorSession session)
    {
        return session.getProperty(PUSHDOWN_ENABLED, Boolean.class);
    }
}
