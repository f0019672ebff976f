package uk.nhs.fhirmesh.trino;

import io.airlift.slice.Slice;
import io.airlift.slice.Slices;
import io.trino.spi.connector.RecordCursor;
import io.trino.spi.type.Type;

import java.util.List;

/**
 * The rows of a count-only split: as many as its server counted, each holding only the split's domain (every
 * column Trino asks a count-only scan for is {@code domain}). Nothing is fetched.
 */
final class CountedRowsCursor
        implements RecordCursor
{
    private final List<Type> types;
    private final Slice domain;
    private final long rows;
    private long position;

    CountedRowsCursor(List<Type> types, String domain, long rows)
    {
        this.types = List.copyOf(types);
        this.domain = Slices.utf8Slice(domain);
        this.rows = rows;
    }

    @Override
    public long getCompletedBytes()
    {
        return 0;
    }

    @Override
    public long getReadTimeNanos()
    {
        return 0;
    }

    @Override
    public Type getType(int field)
    {
        return types.get(field);
    }

    @Override
    public boolean advanceNextPosition()
    {
        if (position >= rows) {
            return false;
        }
        position++;
        return true;
    }

    @Override
    public boolean getBoolean(int field)
    {
        throw new UnsupportedOperationException("a count-only scan has only the domain column");
    }

    @Override
    public long getLong(int field)
    {
        throw new UnsupportedOperationException("a count-only scan has only the domain column");
    }

    @Override
    public double getDouble(int field)
    {
        throw new UnsupportedOperationException("a count-only scan has only the domain column");
    }

    @Override
    public Slice getSlice(int field)
    {
        return domain;
    }

    @Override
    public Object getObject(int field)
    {
        throw new UnsupportedOperationException("a count-only scan has only the domain column");
    }

    @Override
    public boolean isNull(int field)
    {
        return false;
    }

    @Override
    public void close()
    {
        position = rows;
    }
}
