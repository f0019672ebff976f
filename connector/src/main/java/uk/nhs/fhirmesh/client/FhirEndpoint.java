package uk.nhs.fhirmesh.client;

import java.net.URI;
import java.net.URISyntaxException;

import static java.util.Objects.requireNonNull;

/**
 * One FHIR server base URL serving a domain, e.g. {@code RX1} at {@code http://127.0.0.1:8190/fhir/rx1}.
 * The token source only names where the token lives, so {@link #toString()} never reveals it.
 *
 * @param auth the bearer token source, or {@code null} for an endpoint without authentication
 */
public record FhirEndpoint(String domain, URI baseUrl, BearerToken auth)
{
    public FhirEndpoint
    {
        requireNonNull(domain, "domain");
        requireNonNull(baseUrl, "baseUrl");
        String scheme = baseUrl.getScheme();
        if ((!"http".equalsIgnoreCase(scheme) && !"https".equalsIgnoreCase(scheme)) || baseUrl.getHost() == null) {
            throw new IllegalArgumentException("FHIR domain " + domain + ": base URL must be an absolute http or https URL");
        }
        if (baseUrl.getRawQuery() != null || baseUrl.getRawFragment() != null || baseUrl.getRawUserInfo() != null) {
            throw new IllegalArgumentException("FHIR domain " + domain + ": base URL must not carry a query, fragment or credentials");
        }
    }

    /** The base URL's path without a trailing slash; every request and next link must stay below it. */
    String basePath()
    {
        String path = baseUrl.getRawPath() == null ? "" : baseUrl.getRawPath();
        return path.endsWith("/") ? path.substring(0, path.length() - 1) : path;
    }

    /** {@code relativeUrl} appended to the base URL, e.g. {@code .../fhir/rx1/Condition?code=...}; it must already be URL-encoded. */
    URI resolve(String relativeUrl)
    {
        String base = baseUrl.toString();
        try {
            return Urls.parse((base.endsWith("/") ? base : base + "/") + relativeUrl);
        }
        catch (URISyntaxException e) {
            // The search translator encodes every value, so this is a bug, not bad input; the message stays value-free.
            throw new IllegalArgumentException("FHIR domain " + domain + ": cannot build a request URL at index " + e.getIndex());
        }
    }
}
