package uk.nhs.fhirmesh.client;

import java.util.OptionalInt;

/**
 * A FHIR request that failed. Messages name the domain, the resource type and the HTTP status where
 * there is one, and never carry the bearer token or search parameter values (they may be NHS numbers).
 */
public class FhirRequestException
        extends RuntimeException
{
    public enum Kind
    {
        /** Connection refused, unknown host, connection lost. */
        UNREACHABLE,
        /** Connect, response, body read or request slot timeouts; also an interrupted request. */
        TIMEOUT,
        /** A non-2xx answer. */
        HTTP_STATUS,
        /** A 2xx answer that is an OperationOutcome instead of a Bundle. */
        OPERATION_OUTCOME,
        /** Not FHIR JSON, not a Bundle, malformed or truncated JSON, or an entry of another resource type. */
        MALFORMED_RESPONSE,
        /** A next link leaving the endpoint, a paging loop or too many pages. */
        PAGING,
        /** The endpoint's bearer token cannot be read. */
        AUTH_CONFIGURATION,
        /** A received page cannot be stored in the local temporary directory (full or unwritable). */
        SPOOL,
    }

    private final Kind kind;
    private final String domain;
    private final String resourceType;
    private final int httpStatus;

    /**
     * @param domain the domain, or {@code null} when not known where the failure arose (token sources)
     * @param resourceType the searched resource type, or {@code null} when not known
     */
    public FhirRequestException(Kind kind, String domain, String resourceType, OptionalInt httpStatus, String message, Throwable cause)
    {
        super(message, cause);
        this.kind = kind;
        this.domain = domain;
        this.resourceType = resourceType;
        this.httpStatus = httpStatus.orElse(-1);
    }

    public Kind kind()
    {
        return kind;
    }

    public String domain()
    {
        return domain;
    }

    public String resourceType()
    {
        return resourceType;
    }

    public OptionalInt httpStatus()
    {
        return httpStatus < 0 ? OptionalInt.empty() : OptionalInt.of(httpStatus);
    }
}
