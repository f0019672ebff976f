package uk.nhs.fhirmesh.client;

import java.net.URI;
import java.net.URISyntaxException;
import java.util.HashSet;
import java.util.Set;

import static uk.nhs.fhirmesh.client.FhirRequestException.Kind.PAGING;

/**
 * Vets the next links of one search before they are followed: they must stay on the endpoint (same
 * scheme, host and port, below the base path), so that a server cannot send the bearer token elsewhere;
 * they must not repeat, so that a paging loop ends; and their number is capped.
 * Messages name at most scheme, host and port of a link, never its query.
 */
final class PagingGuard
{
    private final FhirEndpoint endpoint;
    private final int maxPages;
    private final Set<String> seen = new HashSet<>();

    PagingGuard(FhirEndpoint endpoint, URI firstPage, int maxPages)
    {
        this.endpoint = endpoint;
        this.maxPages = maxPages;
        seen.add(firstPage.toString());
    }

    /**
     * The page to read after {@code pagesRead} pages, or {@code null} when {@code link} is absent.
     *
     * @throws FhirRequestException of kind {@code PAGING} when the link must not be followed
     */
    URI next(RequestScope scope, String link, long pagesRead)
    {
        if (link == null) {
            return null;
        }
        URI uri = parse(scope, link);
        URI base = endpoint.baseUrl();
        if (!uri.getScheme().equalsIgnoreCase(base.getScheme()) || !uri.getHost().equalsIgnoreCase(base.getHost()) || port(uri) != port(base)) {
            throw failure(scope, "the next link points to %s://%s:%d, not to the endpoint %s".formatted(uri.getScheme(), uri.getHost(), port(uri), base));
        }
        if (uri.getRawUserInfo() != null) {
            throw failure(scope, "the next link carries user credentials");
        }
        String path = uri.getRawPath() == null ? "" : uri.getRawPath();
        String basePath = endpoint.basePath();
        boolean dotSegments = !uri.normalize().getRawPath().equals(path);
        if (dotSegments || !(path.equals(basePath) || path.startsWith(basePath + "/"))) {
            throw failure(scope, "the next link leaves the endpoint's base path " + basePath);
        }
        if (!seen.add(uri.toString())) {
            throw failure(scope, "the next link repeats an earlier page after %d pages (paging loop)".formatted(pagesRead));
        }
        if (pagesRead >= maxPages) {
            throw failure(scope, "more than %d pages; narrow the query".formatted(maxPages));
        }
        return uri;
    }

    private static URI parse(RequestScope scope, String link)
    {
        URI uri;
        try {
            uri = Urls.parse(link);
        }
        catch (URISyntaxException e) {
            throw failure(scope, "the next link is not a valid URL");
        }
        if (!uri.isAbsolute() || uri.getHost() == null || !(uri.getScheme().equalsIgnoreCase("http") || uri.getScheme().equalsIgnoreCase("https"))) {
            throw failure(scope, "the next link is not an absolute http(s) URL");
        }
        return uri;
    }

    private static int port(URI uri)
    {
        if (uri.getPort() != -1) {
            return uri.getPort();
        }
        return uri.getScheme().equalsIgnoreCase("https") ? 443 : 80;
    }

    private static FhirRequestException failure(RequestScope scope, String detail)
    {
        return scope.exception(Failure.of(PAGING, detail));
    }
}
