package uk.nhs.fhirmesh.client;

import com.fasterxml.jackson.databind.JsonNode;

import java.net.URI;
import java.util.NoSuchElementException;

import static uk.nhs.fhirmesh.client.FhirRequestException.Kind.MALFORMED_RESPONSE;

/**
 * The resources of a search, page after page along the Bundles' next links. Nothing is requested
 * until the first {@link #hasNext()}, so that opening a stream never waits for a request slot.
 * Every resource must have an id no earlier resource of the search had (a server repeating entries, within a
 * page or across pages, would otherwise have its rows counted twice): the ids seen are kept in a
 * {@link ResourceIdSet}, about 16 MB per million resources.
 * {@link #close()} may come from another thread; {@code closed} and {@code page} are volatile so that
 * either the closing thread sees the page to close, or the reading thread sees that it must close it.
 */
final class SearchStream
        implements ResourceStream
{
    private final PageFetcher fetcher;
    private final RequestScope scope;
    private final PagingGuard guard;
    private final ResourceIdSet seenIds = new ResourceIdSet();

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
                BundlePage reading = page;
                pending = reading.next();
                if (pending != null) {
                    admitOnce(reading, pending, Math.toIntExact(pagesRead + 1));
                }
                else {
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

    /**
     * Fails the search on a resource without an id or with an id it has returned before. The message says where
     * (page, entry), never the id: ids may be sensitive.
     */
    private void admitOnce(BundlePage reading, JsonNode resource, int pageNumber)
    {
        JsonNode id = resource.get("id");
        String where = "Bundle.entry[%d]%s".formatted(reading.entryIndex(), pageNumber == 1 ? " of page 1" : "");
        if (id == null || !id.isTextual() || id.asText().isEmpty()) {
            throw scope.onPage(pageNumber).exception(Failure.of(MALFORMED_RESPONSE, where + " has a resource without an id"));
        }
        if (!seenIds.add(id.asText())) {
            FhirRequestException repeated = scope.onPage(pageNumber).exception(Failure.of(MALFORMED_RESPONSE,
                    where + " repeats the id of a resource this search has already returned (the server repeats entries; its rows would be counted twice)"));
            // A next link looping back serves the same entries again: the rest of the page (already received) gives its
            // next link, so that a loop is named as the cause.
            while (reading.next() != null) {
                // Nothing of the page is handed out any more.
            }
            guard.next(scope.onPage(pageNumber), reading.nextLink(), pageNumber);
            throw repeated;
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
