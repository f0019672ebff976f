package uk.nhs.fhirmesh.trino;

import io.trino.spi.ErrorCode;
import io.trino.spi.ErrorCodeSupplier;
import io.trino.spi.ErrorType;

import static io.trino.spi.ErrorType.EXTERNAL;
import static io.trino.spi.ErrorType.INSUFFICIENT_RESOURCES;
import static io.trino.spi.ErrorType.USER_ERROR;

/** Error codes of the fhir connector; each message also names the domain, resource type and HTTP status. */
public enum FhirErrorCode
        implements ErrorCodeSupplier
{
    FHIR_ENDPOINT_UNAVAILABLE(0, EXTERNAL),
    FHIR_ENDPOINT_TIMEOUT(1, EXTERNAL),
    FHIR_HTTP_ERROR(2, EXTERNAL),
    FHIR_BAD_RESPONSE(3, EXTERNAL),
    FHIR_PAGING_ERROR(4, EXTERNAL),
    FHIR_AUTH_CONFIGURATION(5, EXTERNAL),
    FHIR_INVALID_MAPPING(6, USER_ERROR),
    FHIR_VIEW_EVALUATION_ERROR(7, EXTERNAL),
    FHIR_BAD_VALUE(8, EXTERNAL),
    FHIR_SPOOL_FAILED(9, INSUFFICIENT_RESOURCES);

    /** Connectors own the 0x0100_0000-wide blocks above EXTERNAL's; this one is otherwise unused. */
    private static final int CODE_BASE = 0x0520_0000;

    private final ErrorCode errorCode;

    FhirErrorCode(int code, ErrorType type)
    {
        errorCode = new ErrorCode(code + CODE_BASE, name(), type);
    }

    @Override
    public ErrorCode toErrorCode()
    {
        return errorCode;
    }
}
