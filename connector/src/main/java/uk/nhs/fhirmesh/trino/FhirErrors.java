package uk.nhs.fhirmesh.trino;

import io.trino.spi.TrinoException;
import uk.nhs.fhirmesh.client.FhirRequestException;

/** Client failures as Trino errors; the client's messages already name domain, type and status, never a token. */
final class FhirErrors
{
    private FhirErrors() {}

    static TrinoException toTrino(FhirRequestException e)
    {
        FhirErrorCode code = switch (e.kind()) {
            case UNREACHABLE -> FhirErrorCode.FHIR_ENDPOINT_UNAVAILABLE;
            case TIMEOUT -> FhirErrorCode.FHIR_ENDPOINT_TIMEOUT;
            case HTTP_STATUS, OPERATION_OUTCOME -> FhirErrorCode.FHIR_HTTP_ERROR;
            case MALFORMED_RESPONSE -> FhirErrorCode.FHIR_BAD_RESPONSE;
            case PAGING -> FhirErrorCode.FHIR_PAGING_ERROR;
            case AUTH_CONFIGURATION -> FhirErrorCode.FHIR_AUTH_CONFIGURATION;
            case SPOOL -> FhirErrorCode.FHIR_SPOOL_FAILED;
        };
        return new TrinoException(code, e.getMessage(), e);
    }
}
