package uk.nhs.fhirmesh.client;

import com.fasterxml.jackson.databind.JsonNode;

import java.io.IOException;
import java.io.InputStream;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.time.Duration;
import java.time.Instant;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;

import static uk.nhs.fhirmesh.client.FhirRequestException.Kind.HTTP_STATUS;
import static uk.nhs.fhirmesh.client.FhirRequestException.Kind.MALFORMED_RESPONSE;
import static uk.nhs.fhirmesh.client.FhirRequestException.Kind.TIMEOUT;
import static uk.nhs.fhirmesh.client.FhirRequestException.Kind.UNREACHABLE;

/**
 * Sends the GET of one Bundle page: takes a request slot of the endpoint, sends the headers (a fresh
 * {@code traceparent} of the query's trace on every attempt), turns error statuses into failures and retries those
 * that are worth it. Counts every attempt, its failure and its latency in the domain's {@link DomainRequestMetrics}.
 */
final class PageFetcher
{
    private static final String USER_AGENT = "fhir-mesh-trino/" + Objects.requireNonNullElse(PageFetcher.class.getPackage().getImplementationVersion(), "dev");
    private static final Set<Integer> RETRYABLE_STATUSES = Set.of(429, 502, 503, 504);
    /** Enough for any OperationOutcome worth quoting; the rest of an error body is dropped. */
    private static final int MAX_ERROR_BODY = 64 * 1024;

    /**
     * A 2xx response whose body is to be read (as received: gzip-compressed when {@code gzip}); holds the
     * endpoint's request slot until closed, and its request's latency is taken then.
     */
    record PageResponse(InputStream body, boolean gzip, EndpointPermits.Permit permit, RequestTiming timing)
            implements AutoCloseable
    {
        @Override
        public void close()
        {
            try {
                body.close();
            }
            catch (IOException ignored) {
                // Aborting a body cannot fail in a way that matters; the slot must be freed regardless.
            }
            finally {
                permit.close();
                timing.finished();
            }
        }
    }

    /** One request's latency, from sending it until its response was read or dropped, or it failed; recorded once. */
    static final class RequestTiming
    {
        private final DomainRequestMetrics metrics;
        private final long startedNanos = System.nanoTime();
        private final AtomicBoolean finished = new AtomicBoolean();

        private RequestTiming(DomainRequestMetrics metrics)
        {
            this.metrics = metrics;
        }

        void finished()
        {
            if (finished.compareAndSet(false, true)) {
                metrics.completed(System.nanoTime() - startedNanos);
            }
        }
    }

    /** A failure that happened before any of the response body was used, so the request may be sent again. */
    private static final class RetryableException
            extends Exception
    {
        private final Failure failure;
        private final Optional<Duration> retryAfter;

        RetryableException(Failure failure, Optional<Duration> retryAfter)
        {
            super(failure.detail(), null, false, false);
            this.failure = failure;
            this.retryAfter = retryAfter;
        }
    }

    private final HttpClient http;
    private final HttpSettings settings;
    private final EndpointPermits permits;
    private final EndpointCircuits circuits;
    private final RetryPolicy retryPolicy;
    private final StallWatchdog watchdog;
    private final RequestMetrics metrics;
    private final PageSpool spool;

    PageFetcher(HttpClient http, HttpSettings settings, EndpointCircuits circuits, StallWatchdog watchdog, RequestMetrics metrics, PageSpool spool)
    {
        this.http = http;
        this.settings = settings;
        this.permits = new EndpointPermits(settings.maxConcurrentRequestsPerEndpoint(), settings.maxConcurrentRequests());
        this.circuits = circuits;
        this.retryPolicy = new RetryPolicy(settings.maxAttempts(), settings.maxRetryTime());
        this.watchdog = watchdog;
        this.metrics = metrics;
        this.spool = spool;
    }

    /** Where a 2xx page is received whole before it is parsed, so that its request slot is freed early. */
    PageSpool spool()
    {
        return spool;
    }

    RequestMetrics metrics()
    {
        return metrics;
    }

    /** The totals of the domain {@code scope} sends to. */
    DomainRequestMetrics metrics(RequestScope scope)
    {
        return metrics.domain(scope.endpoint().domain());
    }

    /** The endpoints' circuit breakers: a Bundle page (one request with its retries) asks before its first attempt. */
    EndpointCircuits circuits()
    {
        return circuits;
    }

    RetryPolicy.Attempts startAttempts()
    {
        return retryPolicy.start();
    }

    /** A 2xx response to a GET of {@code uri}, after as many retries as {@code attempts} allow. */
    PageResponse fetch(RequestScope scope, URI uri, RetryPolicy.Attempts attempts)
    {
        while (true) {
            try {
                return attempt(scope, uri, attempts);
            }
            catch (RetryableException e) {
                awaitRetry(scope, attempts, e.failure, e.retryAfter);
            }
        }
    }

    /** Waits before the next attempt, or throws {@code failure} when there is none. */
    void awaitRetry(RequestScope scope, RetryPolicy.Attempts attempts, Failure failure, Optional<Duration> retryAfter)
    {
        switch (attempts.afterFailure(retryAfter)) {
            case RetryPolicy.GiveUp(String reason) -> throw scope.exception(reason == null ? failure : failure.withNote(reason));
            case RetryPolicy.Retry(Duration delay) -> {
                metrics(scope).retried();
                try {
                    Thread.sleep(delay);
                }
                catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw scope.exception(failure.withNote("interrupted while waiting to retry"));
                }
            }
        }
    }

    private PageResponse attempt(RequestScope scope, URI uri, RetryPolicy.Attempts attempts)
            throws RetryableException
    {
        String token = scope.token();
        HttpRequest request = request(uri, token, scope.trace());
        EndpointPermits.Permit permit = acquire(scope);
        attempts.started();
        DomainRequestMetrics domainMetrics = metrics(scope);
        domainMetrics.requestSent();
        RequestTiming timing = new RequestTiming(domainMetrics);
        HttpResponse<InputStream> response;
        try {
            response = http.send(request, HttpResponse.BodyHandlers.ofInputStream());
        }
        catch (IOException e) {
            permit.close();
            timing.finished();
            domainMetrics.failed(e instanceof HttpTimeoutException ? DomainRequestMetrics.FailureKind.TIMEOUT : DomainRequestMetrics.FailureKind.CONNECTION);
            throw sendFailure(scope, e);
        }
        catch (InterruptedException e) {
            permit.close();
            timing.finished();
            Thread.currentThread().interrupt();
            throw scope.exception(Failure.of(TIMEOUT, "interrupted while waiting for the response"));
        }
        catch (RuntimeException e) {
            permit.close();
            timing.finished();
            throw e;
        }
        InputStream body = watchdog.watch(response.body(), domainMetrics.bytesCounter());
        int status = response.statusCode();
        Optional<Boolean> gzip = ContentDecoding.isGzip(response.headers().firstValue("Content-Encoding"));
        if (status / 100 == 2) {
            PageResponse page = new PageResponse(body, gzip.orElse(false), permit, timing);
            Optional<String> contentType = response.headers().firstValue("Content-Type");
            if (contentType.isPresent() && !contentType.get().toLowerCase(Locale.ROOT).contains("json")) {
                page.close();
                domainMetrics.failed(DomainRequestMetrics.FailureKind.BAD_RESPONSE);
                throw scope.exception(Failure.of(MALFORMED_RESPONSE, "the response is %s, not FHIR JSON".formatted(mediaType(contentType.get()))));
            }
            if (gzip.isEmpty()) {
                page.close();
                domainMetrics.failed(DomainRequestMetrics.FailureKind.BAD_RESPONSE);
                throw scope.exception(Failure.of(MALFORMED_RESPONSE, "the response has a Content-Encoding other than the gzip or identity asked for"));
            }
            return page;
        }
        domainMetrics.failed(DomainRequestMetrics.FailureKind.ofStatus(status));
        String outcome;
        try (PageResponse ignored = new PageResponse(body, false, permit, timing)) {
            outcome = gzip.isEmpty() ? "" : errorBodySummary(gzip.get() ? ContentDecoding.gunzip(body, MAX_ERROR_BODY) : body, scope.redactor().with(token));
        }
        catch (IOException e) {
            // An error body that cannot be decoded: the status alone is reported.
            outcome = "";
        }
        Failure failure = new Failure(HTTP_STATUS, OptionalInt.of(status), statusLine(status) + (outcome.isEmpty() ? "" : ": " + outcome) + hint(scope, status), null);
        if (RETRYABLE_STATUSES.contains(status)) {
            throw new RetryableException(failure, RetryPolicy.parseRetryAfter(response.headers().firstValue("Retry-After"), Instant.now()));
        }
        throw scope.exception(failure);
    }

    private HttpRequest request(URI uri, String token, TraceContext trace)
    {
        HttpRequest.Builder request = HttpRequest.newBuilder(uri)
                .GET()
                .timeout(settings.requestTimeout())
                .header("Accept", "application/fhir+json")
                .header("Accept-Encoding", ContentDecoding.ACCEPTED)
                .header("User-Agent", USER_AGENT)
                .header("traceparent", trace.traceparent());
        if (token != null) {
            request.header("Authorization", "Bearer " + token);
        }
        return request.build();
    }

    private EndpointPermits.Permit acquire(RequestScope scope)
    {
        try {
            return permits.acquire(scope.endpoint(), settings.requestTimeout());
        }
        catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw scope.exception(Failure.of(TIMEOUT, "interrupted while waiting for a request slot of " + scope.endpoint().baseUrl()));
        }
        catch (EndpointPermits.NoFreeSlotException e) {
            throw scope.exception(Failure.of(TIMEOUT, e.getMessage()));
        }
    }

    /** Nothing of the response was received, so every failure but a response timeout is worth another try. */
    private RetryableException sendFailure(RequestScope scope, IOException e)
    {
        URI base = scope.endpoint().baseUrl();
        Failure failure = switch (e) {
            case HttpConnectTimeoutException _ -> Failure.of(TIMEOUT, "could not connect to %s within %s".formatted(base, Texts.duration(settings.connectTimeout())), e);
            case HttpTimeoutException _ -> throw scope.exception(Failure.of(TIMEOUT, "no response from %s within %s".formatted(base, Texts.duration(settings.requestTimeout())), e));
            case ConnectException _ -> Failure.of(UNREACHABLE, "cannot connect to %s: %s".formatted(base, Texts.reason(e)), e);
            default -> Failure.of(UNREACHABLE, "request to %s failed before a response arrived: %s".formatted(base, Texts.reason(e)), e);
        };
        return new RetryableException(failure, Optional.empty());
    }

    /** The OperationOutcome text of an error body; empty when the body is not one. */
    private static String errorBodySummary(InputStream body, Redactor redactor)
    {
        try {
            JsonNode outcome = BundlePageReader.MAPPER.readTree(body.readNBytes(MAX_ERROR_BODY));
            if (outcome != null && "OperationOutcome".equals(outcome.path("resourceType").asText())) {
                return OperationOutcomes.summary(outcome.path("issue"), redactor);
            }
        }
        catch (IOException e) {
            // Not JSON (an HTML error page, say) or unreadable: the status alone is reported.
        }
        return "";
    }

    private static String hint(RequestScope scope, int status)
    {
        if (status / 100 == 3) {
            return " (redirects are not followed: configure the endpoint's final base URL)";
        }
        if (status != 401 && status != 403) {
            return "";
        }
        BearerToken auth = scope.endpoint().auth();
        return auth == null
                ? " (the endpoint wants credentials, but none are configured for it)"
                : " (check the credentials configured for this endpoint: " + auth + ")";
    }

    /** The media type without parameters, if it looks like one: the header is the server's text. */
    private static String mediaType(String contentType)
    {
        String type = contentType.split(";", 2)[0].strip();
        return type.matches("[\\w.+-]{1,64}/[\\w.+-]{1,64}") ? type : "not a recognisable media type";
    }

    private static String statusLine(int status)
    {
        String reason = switch (status) {
            case 300 -> "Multiple Choices";
            case 301 -> "Moved Permanently";
            case 302 -> "Found";
            case 303 -> "See Other";
            case 304 -> "Not Modified";
            case 307 -> "Temporary Redirect";
            case 308 -> "Permanent Redirect";
            case 400 -> "Bad Request";
            case 401 -> "Unauthorized";
            case 403 -> "Forbidden";
            case 404 -> "Not Found";
            case 405 -> "Method Not Allowed";
            case 406 -> "Not Acceptable";
            case 408 -> "Request Timeout";
            case 410 -> "Gone";
            case 412 -> "Precondition Failed";
            case 413 -> "Content Too Large";
            case 414 -> "URI Too Long";
            case 422 -> "Unprocessable Content";
            case 429 -> "Too Many Requests";
            case 500 -> "Internal Server Error";
            case 501 -> "Not Implemented";
            case 502 -> "Bad Gateway";
            case 503 -> "Service Unavailable";
            case 504 -> "Gateway Timeout";
            default -> null;
        };
        return reason == null ? "HTTP " + status : "HTTP " + status + " " + reason;
    }
}
