package uk.nhs.fhirmesh.client;

import com.fasterxml.jackson.databind.JsonNode;

import java.util.Iterator;

/**
 * The resources of one search, across all its pages, one at a time. Not thread-safe: one consumer.
 * {@link #hasNext()} and {@link #next()} throw {@link FhirRequestException}; after one, the stream is closed.
 * A resource without an id, or with the id of one returned before, fails the stream (kind {@code MALFORMED_RESPONSE}).
 */
public interface ResourceStream
        extends Iterator<JsonNode>, AutoCloseable
{
    /** Resources handed out by {@link #next()} so far. */
    long resourcesRead();

    /** Pages read to their end so far. */
    long pagesRead();

    /** Aborts a response being read and frees its request slot; idempotent. */
    @Override
    void close();
}
