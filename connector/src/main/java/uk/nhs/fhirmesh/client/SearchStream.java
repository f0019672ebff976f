package uk.nhs.fhirmesh.client;

import com.fasterxml.jackson.databind.JsonNode;

import java.net.URI;
import java.util.NoSuchElementException;

/**
 * The resources of a search, page after page along the Bundles' next links. Nothing is requested
 * until the first {@link #hasNext()}, so that opening a stream never waits for a request slot.
 * {@link #close()} may come from another thread; {@code closed} and {@code page} are volatile so that
 * either the closing thread sees the page to close, or the reading thread sees that it must close it.
 */
final class SearchStream
        implements ResourceStream
{
    private final PageFetcher fetcher;
    private final RequestScope scope;
    private final PagingGuard guard;

    private URI nextPage;
    private volatile BundlePage page;
    private JsonNode pending;
    private long resourcesRead;
    private long pagesRead;
    private volatile boolean closed;

    SearchStream(PageFetcher fetcher, RequestScope scope, URI firstPage, int maxPages)
    {
        this.fetcher = fetcher;
        this.scope = scope;
        this.guard = new PagingGuard(scope.endpoint(), firstPage, maxPages);
        this.nextPage = firstPage;
    }

    @Override
    public boolean hasNext()
    {
        try {
            while (pending == null && !closed) {
                if (page == null) {
                    if (nextPage == null) {
                        return false;
                    }
                    page = new BundlePage(fetcher, scope.onPage(Math.toIntExact(pagesRead + 1)), nextPage);
                    if (closed) {
                        // A close() from another thread may have run before the page was there to close.
                        close();
                        return false;
                    }
                }
                pending = page.next();
                if (pending == null) {
                    pagesRead++;
                    nextPage = guard.next(scope.onPage(Math.toIntExact(pagesRead)), page.nextLink(), pagesRead);
                    page = null;
                }
            }
            return pending != null;
        }
        catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    @Override
    public JsonNode next()
    {
        if (!hasNext()) {
            throw new NoSuchElementException();
        }
        JsonNode resource = pending;
        pending = null;
        resourcesRead++;
        return resource;
    }

    @Override
    public long resourcesRead()
    {
        return resourcesRead;
    }

    @Override
    public long pagesRead()
    {
        return pagesRead;
    }

    @Override
    public void close()
    {
        closed = true;
        pending = null;
        BundlePage open = page;
        page = null;
        if (open != null) {
            open.close();
        }
    }
}
