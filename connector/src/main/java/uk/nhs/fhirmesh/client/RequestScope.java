package uk.nhs.fhirmesh.client;

import uk.nhs.fhirmesh.search.FhirSearch;

/**
 * The request a failure belongs to, for messages like
 * {@code FHIR domain RX1: Condition search failed on page 3: HTTP 500 Internal Server Error: ...}.
 *
 * @param operation what was being done: {@code search}, {@code count}, ...
 * @param redactor masks this request's parameter values in text the server sends back
 * @param page the 1-based page of a search, or 0 for a single-request operation
 * @param trace the trace of the query the request serves: each of its HTTP requests carries it in {@code traceparent}
 */
record RequestScope(FhirEndpoint endpoint, String resourceType, String operation, Redactor redactor, int page, TraceContext trace)
{
    static RequestScope of(FhirEndpoint endpoint, FhirSearch search, String operation, TraceContext trace)
    {
        return new RequestScope(endpoint, search.resourceType(), operation, Redactor.of(search), 0, trace);
    }

    RequestScope onPage(int page)
    {
        return new RequestScope(endpoint, resourceType, operation, redactor, page, trace);
    }

    /** The endpoint's current bearer token, or {@code null} when it has none. */
    String token()
    {
        if (endpoint.auth() == null) {
            return null;
        }
        try {
            return endpoint.auth().value();
        }
        catch (FhirRequestException e) {
            throw exception(Failure.of(e.kind(), e.getMessage(), e.getCause()));
        }
    }

    FhirRequestException exception(Failure failure)
    {
        String where = page > 1 ? " on page " + page : "";
        String message = "FHIR domain %s: %s %s failed%s: %s".formatted(endpoint.domain(), resourceType, operation, where, failure.detail());
        return new FhirRequestException(failure.kind(), endpoint.domain(), resourceType, failure.httpStatus(), message, failure.cause());
    }
}
