package uk.nhs.fhirmesh.client;

import com.fasterxml.jackson.databind.JsonNode;

import java.io.IOException;
import java.net.URI;
import java.util.Optional;
import java.util.OptionalLong;

import static uk.nhs.fhirmesh.client.FhirRequestException.Kind.TIMEOUT;
import static uk.nhs.fhirmesh.client.FhirRequestException.Kind.UNREACHABLE;

/**
 * One Bundle page, fetched and then read resource by resource. A connection lost while reading is
 * retried by fetching the whole page again, but only while none of its resources has been returned:
 * after that, a retry would hand out duplicates.
 */
final class BundlePage
        implements AutoCloseable
{
    private final PageFetcher fetcher;
    private final RequestScope scope;
    private final URI uri;
    private final RetryPolicy.Attempts attempts;

    private PageFetcher.PageResponse response;
    private BundlePageReader reader;
    private long returned;
    private boolean complete;
    private volatile boolean closed;

    BundlePage(PageFetcher fetcher, RequestScope scope, URI uri)
    {
        this.fetcher = fetcher;
        this.scope = scope;
        this.uri = uri;
        this.attempts = fetcher.startAttempts();
    }

    /** The next resource of the page, or {@code null} once it has been read to its end (its slot then freed). */
    JsonNode next()
    {
        while (!complete) {
            try {
                if (response == null) {
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
                throw scope.exception(Failure.of(e.kind(), e.getMessage()));
            }
            catch (StallWatchdog.StalledException e) {
                release();
                throw scope.exception(Failure.of(TIMEOUT, "the server sent no data for longer than the request timeout while sending the page", e));
            }
            catch (IOException e) {
                release();
                Failure failure = Failure.of(UNREACHABLE, "connection lost while reading the response: " + Texts.reason(e), e);
                if (closed) {
                    throw scope.exception(failure.withNote("the stream was closed"));
                }
                if (returned > 0) {
                    throw scope.exception(failure.withNote("not retried: %d resources of the page had already been returned".formatted(returned)));
                }
                fetcher.awaitRetry(scope, attempts, failure, Optional.empty());
            }
            catch (RuntimeException e) {
                release();
                throw e;
            }
        }
        return null;
    }

    /** The page's next link, or {@code null}; known once {@link #next()} has returned {@code null}. */
    String nextLink()
    {
        return reader.nextLink();
    }

    /** {@code Bundle.total}; known once {@link #next()} has returned {@code null}. */
    OptionalLong total()
    {
        return reader.total();
    }

    /**
     * Aborts a response still being read and frees its request slot. May be called from another thread,
     * so it leaves the parser alone: the reading thread then fails on the closed body.
     */
    @Override
    public void close()
    {
        closed = true;
        closeResponse();
    }

    /** Keeps the response for reading, unless the page was closed while it was being fetched. */
    private synchronized void opened(PageFetcher.PageResponse fetched)
            throws IOException
    {
        if (closed) {
            fetched.close();
            throw closedFailure();
        }
        response = fetched;
        reader = new BundlePageReader(fetched.body(), scope.resourceType(), scope.redactor());
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
    }
}
