package uk.nhs.fhirmesh.trino;

import io.trino.spi.TrinoException;
import uk.nhs.fhirmesh.client.FhirRequestException;
import uk.nhs.fhirmesh.exclusion.OptOutsUnknownException;

/** Client failures as Trino errors; the client's messages already name domain, type and status, never a token. */
final class FhirErrors
{
    private FhirErrors() {}

    static TrinoException toTrino(FhirRequestException e)
    {
        return new TrinoException(code(e), e.getMessage(), e);
    }

    /** A failure reading a domain's patients for exclusion: no rows are given without it (fail closed). */
    static TrinoException exclusionFailed(FhirRequestException e)
    {
        return new TrinoException(code(e), "patients to exclude (national data opt-outs, restricted patients) could not be read from every domain of the catalog, so no patient rows are returned: "
                + e.getMessage(), e);
    }

    /** A skipped domain's opt-outs are unknown (no fresh records, and reading them failed): fail closed, naming it. */
    static TrinoException optOutsUnknown(OptOutsUnknownException e)
    {
        return new TrinoException(code(e.readFailure()), e.getMessage() + "; so no patient rows are returned", e);
    }

    private static FhirErrorCode code(FhirRequestException e)
    {
        return switch (e.kind()) {
            case UNREACHABLE -> FhirErrorCode.FHIR_ENDPOINT_UNAVAILABLE;
            case TIMEOUT -> FhirErrorCode.FHIR_ENDPOINT_TIMEOUT;
            case HTTP_STATUS, OPERATION_OUTCOME -> FhirErrorCode.FHIR_HTTP_ERROR;
            case MALFORMED_RESPONSE -> FhirErrorCode.FHIR_BAD_RESPONSE;
            case PAGING -> FhirErrorCode.FHIR_PAGING_ERROR;
            case AUTH_CONFIGURATION -> FhirErrorCode.FHIR_AUTH_CONFIGURATION;
            case SPOOL -> FhirErrorCode.FHIR_SPOOL_FAILED;
        };
    }
}
