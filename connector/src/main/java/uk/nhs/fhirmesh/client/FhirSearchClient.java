package uk.nhs.fhirmesh.client;

import com.fasterxml.jackson.databind.JsonNode;
import uk.nhs.fhirmesh.search.FhirSearch;

import java.net.URI;
import java.net.URLDecoder;
import java.net.http.HttpClient;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;

import static java.nio.charset.StandardCharsets.UTF_8;
import static uk.nhs.fhirmesh.client.FhirRequestException.Kind.MALFORMED_RESPONSE;

/**
 * Runs FHIR searches against FHIR R4 servers over HTTP/1.1, streaming each Bundle page. One client
 * serves many endpoints and threads; its request slots per endpoint are shared by all of them.
 */
public final class FhirSearchClient
        implements AutoCloseable
{
    /** A search needing more pages than this is almost certainly a paging bug of the server. */
    static final int MAX_PAGES = 100_000;

    private final HttpClient http;
    private final StallWatchdog watchdog;
    private final RequestMetrics metrics = new RequestMetrics();
    private final EndpointCircuits circuits;
    private final PageFetcher fetcher;
    private final int maxPages;

    /** Pages larger than {@link PageSpool#DEFAULT_MEMORY_LIMIT} are spooled to the JVM's temporary directory. */
    public FhirSearchClient(HttpSettings settings)
    {
        this(settings, MAX_PAGES, new PageSpool(Path.of(System.getProperty("java.io.tmpdir")), PageSpool.DEFAULT_MEMORY_LIMIT, settings.maxResponseBytes()));
    }

    FhirSearchClient(HttpSettings settings, int maxPages, PageSpool spool)
    {
        this(settings, maxPages, spool, Clock.systemUTC());
    }

    /** @param clock when circuits open and when they may probe again */
    FhirSearchClient(HttpSettings settings, int maxPages, PageSpool spool, Clock clock)
    {
        this.http = HttpClient.newBuilder()
                .version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(settings.connectTimeout())
                // A redirect could carry the bearer token to another server; servers are configured by their final URL.
                .followRedirects(HttpClient.Redirect.NEVER)
                .build();
        this.watchdog = new StallWatchdog(settings.requestTimeout());
        this.circuits = new EndpointCircuits(settings.circuitFailureThreshold(), settings.circuitOpenDuration(), clock);
        this.fetcher = new PageFetcher(http, settings, circuits, watchdog, metrics, spool);
        this.maxPages = maxPages;
    }

    /** {@link #search(FhirEndpoint, FhirSearch, int, TraceContext)} in a trace of its own (outside a query: tools, tests). */
    public ResourceStream search(FhirEndpoint endpoint, FhirSearch search, int pageSize)
    {
        return search(endpoint, search, pageSize, TraceContext.random());
    }

    /**
     * The resources matching {@code search}, following the Bundles' next links as given. The first
     * request asks for {@code pageSize} resources per page and is sent on the stream's first
     * {@code hasNext()}; later pages are whatever the next links ask for. Every request carries {@code trace}.
     */
    public ResourceStream search(FhirEndpoint endpoint, FhirSearch search, int pageSize, TraceContext trace)
    {
        if (pageSize < 1) {
            throw new IllegalArgumentException("pageSize must be at least 1");
        }
        FhirSearch first = replacing(search, Set.of("_count")).with("_count", Integer.toString(pageSize));
        return new SearchStream(fetcher, RequestScope.of(endpoint, search, "search", trace), endpoint.resolve(first.relativeUrl()), maxPages);
    }

    /** {@link #count(FhirEndpoint, FhirSearch, TraceContext)} in a trace of its own (outside a query: tools, tests). */
    public long count(FhirEndpoint endpoint, FhirSearch search)
    {
        return count(endpoint, search, TraceContext.random());
    }

    /** How many resources match {@code search}: its {@code Bundle.total} with {@code _summary=count}. */
    public long count(FhirEndpoint endpoint, FhirSearch search, TraceContext trace)
    {
        // HAPI refuses _summary together with _elements; sorting and page size do not matter to a count.
        FhirSearch counting = replacing(search, Set.of("_summary", "_elements", "_sort", "_count")).with("_summary", "count");
        RequestScope scope = RequestScope.of(endpoint, search, "count", trace);
        try (BundlePage page = new BundlePage(fetcher, scope, endpoint.resolve(counting.relativeUrl()))) {
            while (page.next() != null) {
                // A server ignoring _summary=count sends resources: the total is still what counts.
            }
            OptionalLong total = page.total();
            if (total.isEmpty()) {
                throw scope.exception(Failure.of(MALFORMED_RESPONSE, "the Bundle has no total"));
            }
            return total.getAsLong();
        }
    }

    /**
     * The lowest, or with {@code highest} the highest, {@code meta.lastUpdated} of the resources matching
     * {@code search}; empty when none matches.
     */
    public Optional<Instant> lastUpdatedBound(FhirEndpoint endpoint, FhirSearch search, boolean highest)
    {
        return lastUpdatedBound(endpoint, search, highest, TraceContext.random());
    }

    /** {@link #lastUpdatedBound(FhirEndpoint, FhirSearch, boolean)}, its request carrying {@code trace}. */
    public Optional<Instant> lastUpdatedBound(FhirEndpoint endpoint, FhirSearch search, boolean highest, TraceContext trace)
    {
        FhirSearch bound = replacing(search, Set.of("_sort", "_count", "_elements", "_summary"))
                .with("_sort", highest ? "-_lastUpdated" : "_lastUpdated")
                .with("_count", "1")
                .with("_elements", "id");
        RequestScope scope = RequestScope.of(endpoint, search, highest ? "highest _lastUpdated lookup" : "lowest _lastUpdated lookup", trace);
        try (BundlePage page = new BundlePage(fetcher, scope, endpoint.resolve(bound.relativeUrl()))) {
            JsonNode first = page.next();
            while (page.next() != null) {
                // Read to the end of the page so that the connection can be reused.
            }
            if (first == null) {
                return Optional.empty();
            }
            String lastUpdated = first.path("meta").path("lastUpdated").asText(null);
            if (lastUpdated == null) {
                throw scope.exception(Failure.of(MALFORMED_RESPONSE, "the resource has no meta.lastUpdated"));
            }
            try {
                return Optional.of(OffsetDateTime.parse(lastUpdated).toInstant());
            }
            catch (DateTimeParseException e) {
                throw scope.exception(Failure.of(MALFORMED_RESPONSE, "meta.lastUpdated is not a FHIR instant"));
            }
        }
    }

    /**
     * Whether the endpoint sorts {@code search} by {@code sort} (a {@code _sort} value): a server that does not
     * support a sort ignores it, and FHIR then has it leave the parameter out of the Bundle's self link, which
     * names the parameters the search actually used. Asks for one resource id.
     */
    public boolean appliesSort(FhirEndpoint endpoint, FhirSearch search, String sort)
    {
        return appliesSort(endpoint, search, sort, TraceContext.random());
    }

    /** {@link #appliesSort(FhirEndpoint, FhirSearch, String)}, its request carrying {@code trace}. */
    public boolean appliesSort(FhirEndpoint endpoint, FhirSearch search, String sort, TraceContext trace)
    {
        FhirSearch probe = replacing(search, Set.of("_sort", "_count", "_elements", "_summary"))
                .with("_sort", sort)
                .with("_count", "1")
                .with("_elements", "id");
        RequestScope scope = RequestScope.of(endpoint, search, "_sort support check", trace);
        try (BundlePage page = new BundlePage(fetcher, scope, endpoint.resolve(probe.relativeUrl()))) {
            while (page.next() != null) {
                // The self link is known once the page has been read to its end.
            }
            return page.selfLink() != null && queryParameters(page.selfLink(), "_sort").equals(List.of(sort));
        }
    }

    /** The decoded values of parameter {@code name} in the query of {@code url}; empty when it has none. */
    static List<String> queryParameters(String url, String name)
    {
        int query = url.indexOf('?');
        if (query < 0) {
            return List.of();
        }
        List<String> values = new ArrayList<>();
        for (String pair : url.substring(query + 1).split("&")) {
            int equals = pair.indexOf('=');
            String key = URLDecoder.decode(equals < 0 ? pair : pair.substring(0, equals), UTF_8);
            if (key.equals(name)) {
                values.add(equals < 0 ? "" : URLDecoder.decode(pair.substring(equals + 1), UTF_8));
            }
        }
        return values;
    }

    public RequestMetrics metrics()
    {
        return metrics;
    }

    /** The circuit breaker of {@code domain}'s endpoint as it stands now; closed with no requests if it has had none. */
    public CircuitState circuit(String domain)
    {
        return circuits.state(domain);
    }

    /** Aborts requests still in flight; streams still open fail on their next read. */
    @Override
    public void close()
    {
        watchdog.close();
        http.shutdownNow();
    }

    /** {@code search} without the named (control) parameters, which the caller sets itself. */
    private static FhirSearch replacing(FhirSearch search, Set<String> names)
    {
        List<FhirSearch.Parameter> kept = search.parameters().stream()
                .filter(parameter -> !names.contains(parameter.name()))
                .toList();
        return new FhirSearch(search.resourceType(), kept);
    }
}
