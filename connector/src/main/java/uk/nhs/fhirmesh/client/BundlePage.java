package uk.nhs.fhirmesh.client;

import com.fasterxml.jackson.databind.JsonNode;

import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.util.Optional;
import java.util.OptionalLong;

import static uk.nhs.fhirmesh.client.FhirRequestException.Kind.MALFORMED_RESPONSE;
import static uk.nhs.fhirmesh.client.FhirRequestException.Kind.SPOOL;
import static uk.nhs.fhirmesh.client.FhirRequestException.Kind.TIMEOUT;
import static uk.nhs.fhirmesh.client.FhirRequestException.Kind.UNREACHABLE;

/**
 * One Bundle page: fetched, received whole into a {@link PageSpool} (which frees the endpoint's request
 * slot), then parsed resource by resource. A connection lost while the page arrives is retried by
 * fetching it again; no resource of it has been handed out by then, so a retry cannot duplicate rows.
 */
final class BundlePage
        implements AutoCloseable
{
    private final PageFetcher fetcher;
    private final RequestScope scope;
    private final URI uri;
    private final RetryPolicy.Attempts attempts;

    private PageFetcher.PageResponse response;
    private InputStream received;
    private BundlePageReader reader;
    private long returned;
    private boolean complete;
    private volatile boolean closed;
    /** The circuit breaker's leave for this request, taken before its first attempt; {@code null} until then. */
    private volatile EndpointCircuits.Admission admission;
    /** Set while {@link #next()} runs, so that a close() from another thread leaves the verdict to the reading thread. */
    private volatile boolean reading;

    BundlePage(PageFetcher fetcher, RequestScope scope, URI uri)
    {
        this.fetcher = fetcher;
        this.scope = scope;
        this.uri = uri;
        this.attempts = fetcher.startAttempts();
    }

    /**
     * The next resource of the page, or {@code null} once it has been read to its end. Tells the endpoint's
     * circuit breaker how the request ended: read to its end, failed, or ended by a close or an interrupt.
     *
     * @throws FhirRequestException also at once, before any connection attempt, while the endpoint's circuit is open
     */
    JsonNode next()
    {
        if (complete) {
            return null;
        }
        reading = true;
        try {
            if (admission == null) {
                admission = admit();
            }
            JsonNode resource = read();
            if (complete) {
                admission.succeeded();
            }
            return resource;
        }
        catch (FhirRequestException e) {
            if (admission != null) {
                if (closed || Thread.currentThread().isInterrupted() || !attempts.anyStarted()) {
                    admission.abandoned();
                }
                else {
                    admission.failed(e);
                }
            }
            throw e;
        }
        catch (RuntimeException | Error e) {
            if (admission != null) {
                admission.abandoned();
            }
            throw e;
        }
        finally {
            reading = false;
            // Both flags are volatile: either this thread sees the close, or close() sees that nobody is reading.
            if (closed && admission != null) {
                admission.abandoned();
            }
        }
    }

    /** The circuit breaker's leave; a refusal is counted as the domain's {@code circuit_open} failure (nothing is sent). */
    private EndpointCircuits.Admission admit()
    {
        try {
            return fetcher.circuits().admit(scope);
        }
        catch (FhirRequestException e) {
            fetcher.metrics(scope).failed(DomainRequestMetrics.FailureKind.CIRCUIT_OPEN);
            throw e;
        }
    }

    private JsonNode read()
    {
        while (!complete) {
            try {
                if (reader == null) {
                    if (closed) {
                        throw closedFailure();
                    }
                    opened(fetcher.fetch(scope, uri, attempts));
                }
                JsonNode resource = reader.nextResource();
                if (resource == null) {
                    complete = true;
                    release();
                    fetcher.metrics().pages.incrementAndGet();
                    return null;
                }
                returned++;
                fetcher.metrics().resources.incrementAndGet();
                return resource;
            }
            catch (BundlePageReader.ContentException e) {
                release();
                fetcher.metrics(scope).failed(DomainRequestMetrics.FailureKind.BAD_RESPONSE);
                throw scope.exception(Failure.of(e.kind(), e.getMessage()));
            }
            catch (PageSpool.PageTooLargeException e) {
                release();
                fetcher.metrics(scope).failed(DomainRequestMetrics.FailureKind.BAD_RESPONSE);
                throw scope.exception(Failure.of(MALFORMED_RESPONSE, e.getMessage() + " (fhir.http.max-response-size); lower fhir.page-size or raise the limit"));
            }
            catch (ContentDecoding.CorruptEncodingException e) {
                release();
                fetcher.metrics(scope).failed(DomainRequestMetrics.FailureKind.BAD_RESPONSE);
                throw scope.exception(Failure.of(MALFORMED_RESPONSE, e.getMessage(), e));
            }
            catch (PageSpool.SpoolFailedException e) {
                release();
                throw scope.exception(Failure.of(SPOOL, e.getMessage() + " (the JVM's java.io.tmpdir)", e));
            }
            catch (StallWatchdog.StalledException e) {
                release();
                fetcher.metrics(scope).failed(DomainRequestMetrics.FailureKind.TIMEOUT);
                throw scope.exception(Failure.of(TIMEOUT, "the server sent no data for longer than the request timeout while sending the page", e));
            }
            catch (IOException e) {
                release();
                Failure failure = Failure.of(UNREACHABLE, "connection lost while reading the response: " + Texts.reason(e), e);
                if (closed) {
                    // Our own close, not the server's failure.
                    throw scope.exception(failure.withNote("the stream was closed"));
                }
                fetcher.metrics(scope).failed(DomainRequestMetrics.FailureKind.CONNECTION);
                if (returned > 0) {
                    throw scope.exception(failure.withNote("not retried: %d resources of the page had already been returned".formatted(returned)));
                }
                reader = null;
                fetcher.awaitRetry(scope, attempts, failure, Optional.empty());
            }
            catch (RuntimeException e) {
                release();
                throw e;
            }
        }
        return null;
    }

    /** The index in {@code Bundle.entry} of the resource {@link #next()} returned last. */
    int entryIndex()
    {
        return reader.entryIndex();
    }

    /** The page's next link, or {@code null}; known once {@link #next()} has returned {@code null}. */
    String nextLink()
    {
        return reader.nextLink();
    }

    /** The page's self link, or {@code null}; known once {@link #next()} has returned {@code null}. */
    String selfLink()
    {
        return reader.selfLink();
    }

    /** {@code Bundle.total}; known once {@link #next()} has returned {@code null}. */
    OptionalLong total()
    {
        return reader.total();
    }

    /**
     * Aborts a response still arriving (freeing its request slot) or drops a received page. May be called
     * from another thread, so it leaves the parser alone: the reading thread then fails on the closed body.
     */
    @Override
    public void close()
    {
        closed = true;
        closeResponse();
        EndpointCircuits.Admission taken = admission;
        if (taken != null && !reading) {
            taken.abandoned();
        }
    }

    /**
     * Receives the whole response, frees its request slot, and keeps what was received for parsing;
     * unless the page was closed meanwhile. Receiving runs outside the lock so that close() can abort it.
     */
    private void opened(PageFetcher.PageResponse fetched)
            throws IOException
    {
        synchronized (this) {
            if (closed) {
                fetched.close();
                throw closedFailure();
            }
            response = fetched;
        }
        InputStream page;
        try {
            page = fetcher.spool().receive(fetched.body());
        }
        finally {
            closeResponse();
        }
        if (fetched.gzip()) {
            page = ContentDecoding.gunzip(page, fetcher.spool().maxPageBytes());
        }
        synchronized (this) {
            if (closed) {
                page.close();
                throw closedFailure();
            }
            received = page;
        }
        reader = new BundlePageReader(page, scope.resourceType(), scope.redactor());
    }

    private FhirRequestException closedFailure()
    {
        return scope.exception(Failure.of(UNREACHABLE, "the stream was closed"));
    }

    /** Done with the response, on the reading thread: the parser's buffers go back to Jackson's pool too. */
    private void release()
    {
        try {
            if (reader != null) {
                reader.close();
            }
        }
        catch (IOException ignored) {
            // Closing the parser only closes the body, which closeResponse() closes again.
        }
        closeResponse();
    }

    private synchronized void closeResponse()
    {
        if (response != null) {
            response.close();
            response = null;
        }
        if (received != null) {
            try {
                received.close();
            }
            catch (IOException ignored) {
                // Closing a spool only releases memory or deletes its file; the page is done either way.
            }
            received = null;
        }
    }
}
