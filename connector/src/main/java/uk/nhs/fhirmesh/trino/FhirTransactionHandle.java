package uk.nhs.fhirmesh.trino;

import io.trino.spi.connector.ConnectorTransactionHandle;

/** Read-only connector: one stateless transaction handle. */
public enum FhirTransactionHandle
        implements ConnectorTransactionHandle
{
    INSTANCE
}
