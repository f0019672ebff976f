package uk.nhs.fhirmesh.trino;

import com.fasterxml.jackson.databind.JsonNode;
import io.airlift.slice.Slice;
import io.airlift.slice.Slices;
import io.trino.spi.TrinoException;
import io.trino.spi.block.BlockBuilder;
import io.trino.spi.connector.RecordCursor;
import io.trino.spi.type.ArrayType;
import io.trino.spi.type.Type;
import uk.nhs.fhirmesh.client.FhirRequestException;
import uk.nhs.fhirmesh.client.ResourceStream;
import uk.nhs.fhirmesh.exclusion.PatientRowFilter;
import uk.nhs.fhirmesh.view.ViewDefinition;
import uk.nhs.fhirmesh.view.ViewEvaluationException;

import java.math.BigDecimal;
import java.util.ArrayDeque;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.OptionalLong;
import java.util.function.Supplier;

import static io.trino.spi.type.BigintType.BIGINT;
import static io.trino.spi.type.BooleanType.BOOLEAN;
import static io.trino.spi.type.DateTimeEncoding.packDateTimeWithZone;
import static io.trino.spi.type.DateType.DATE;
import static io.trino.spi.type.DoubleType.DOUBLE;
import static io.trino.spi.type.IntegerType.INTEGER;
import static io.trino.spi.type.TimeZoneKey.UTC_KEY;
import static io.trino.spi.type.TimestampWithTimeZoneType.TIMESTAMP_TZ_MILLIS;

/**
 * Streams one split's resources from the FHIR client, flattens each with the ViewDefinition and hands
 * Trino the requested columns. Only the current resource's rows are held, so memory stays flat.
 */
final class FhirRecordCursor
        implements RecordCursor
{
    /** Marks the connector's {@code domain} column in {@link #viewIndexes}. */
    static final int DOMAIN_COLUMN = -1;

    private final String table;
    private final String domain;
    private final Slice domainSlice;
    private final ViewDefinition view;
    private final List<String> names;
    private final List<Type> types;
    private final int[] viewIndexes;
    private final Supplier<ResourceStream> opener;
    private final OptionalLong rowLimit;
    private final OptionalInt limitKey;
    private final boolean subsetted;
    private final Optional<PatientRowFilter> patientFilter;
    private final ArrayDeque<Object[]> pending = new ArrayDeque<>();

    private ResourceStream resources;
    private Object[] row;
    private String resourceId;
    private long rowsCounted;
    private long readTimeNanos;
    private boolean closed;

    /**
     * @param rowLimit rows after which the split stops
     * @param limitKey the view slot of a top-N's sort column: only rows with a value there count towards
     * {@code rowLimit}, since rows without one sort after every row that has one
     * @param patientFilter drops every row of a resource that carries an excluded patient's key (evaluated from
     * the whole view row, whichever columns Trino asked for); dropped rows do not count towards {@code rowLimit}
     */
    FhirRecordCursor(String table, String domain, ViewDefinition view, List<String> names, List<Type> types, int[] viewIndexes, Supplier<ResourceStream> opener,
            OptionalLong rowLimit, OptionalInt limitKey, boolean subsetted, Optional<PatientRowFilter> patientFilter)
    {
        this.table = table;
        this.domain = domain;
        this.domainSlice = Slices.utf8Slice(domain);
        this.view = view;
        this.names = names;
        this.types = types;
        this.viewIndexes = viewIndexes;
        this.opener = opener;
        this.rowLimit = rowLimit;
        this.limitKey = limitKey;
        this.subsetted = subsetted;
        this.patientFilter = patientFilter;
    }

    @Override
    public boolean advanceNextPosition()
    {
        if (closed || (rowLimit.isPresent() && rowsCounted >= rowLimit.getAsLong())) {
            close();
            return false;
        }
        long start = System.nanoTime();
        try {
            while (pending.isEmpty()) {
                if (resources == null) {
                    resources = opener.get();
                }
                if (!resources.hasNext()) {
                    close();
                    return false;
                }
                JsonNode resource = resources.next();
                resourceId = resource.path("id").asText();
                if (subsetted) {
                    SubsettedTag.remove(resource);
                }
                view.evaluate(resource, pending::add);
                if (patientFilter.isPresent() && patientFilter.get().excludes(pending)) {
                    pending.clear();
                }
            }
        }
        catch (FhirRequestException e) {
            close();
            throw FhirErrors.toTrino(e);
        }
        catch (ViewEvaluationException e) {
            close();
            throw new TrinoException(FhirErrorCode.FHIR_VIEW_EVALUATION_ERROR, "FHIR domain %s: table %s, %s/%s: %s".formatted(domain, table, view.resource(), resourceId, e.getMessage()), e);
        }
        finally {
            readTimeNanos += System.nanoTime() - start;
        }
        row = pending.poll();
        if (limitKey.isEmpty() || row[limitKey.getAsInt()] != null) {
            rowsCounted++;
        }
        return true;
    }

    private Object value(int field)
    {
        int index = viewIndexes[field];
        return index == DOMAIN_COLUMN ? domain : row[index];
    }

    @Override
    public boolean isNull(int field)
    {
        return value(field) == null;
    }

    @Override
    public boolean getBoolean(int field)
    {
        return (Boolean) value(field);
    }

    @Override
    public long getLong(int field)
    {
        return toLong(types.get(field), value(field), field);
    }

    @Override
    public double getDouble(int field)
    {
        return toDouble(value(field), field);
    }

    @Override
    public Slice getSlice(int field)
    {
        if (viewIndexes[field] == DOMAIN_COLUMN) {
            return domainSlice;
        }
        return Slices.utf8Slice(value(field).toString());
    }

    @Override
    public Object getObject(int field)
    {
        ArrayType arrayType = (ArrayType) types.get(field);
        Type elementType = arrayType.getElementType();
        List<?> items = (List<?>) value(field);
        BlockBuilder builder = elementType.createBlockBuilder(null, items.size());
        for (Object item : items) {
            if (item == null) {
                builder.appendNull();
            }
            else if (elementType == BOOLEAN) {
                BOOLEAN.writeBoolean(builder, (Boolean) item);
            }
            else if (elementType == DOUBLE) {
                DOUBLE.writeDouble(builder, toDouble(item, field));
            }
            else if (elementType.getJavaType() == long.class) {
                elementType.writeLong(builder, toLong(elementType, item, field));
            }
            else {
                elementType.writeSlice(builder, Slices.utf8Slice(item.toString()));
            }
        }
        return builder.build();
    }

    private long toLong(Type type, Object value, int field)
    {
        try {
            if (type == DATE) {
                return FhirTemporal.epochDay((String) value);
            }
            if (type == TIMESTAMP_TZ_MILLIS) {
                return packDateTimeWithZone(FhirTemporal.epochMillis((String) value), UTC_KEY);
            }
            if (type == INTEGER) {
                return Math.toIntExact(((Number) value).longValue());
            }
            if (type == BIGINT) {
                return ((Number) value).longValue();
            }
        }
        catch (RuntimeException e) {
            throw badValue(field, e);
        }
        throw badValue(field, new IllegalStateException("no long representation for " + type));
    }

    private double toDouble(Object value, int field)
    {
        if (value instanceof BigDecimal decimal) {
            return decimal.doubleValue();
        }
        if (value instanceof Number number) {
            return number.doubleValue();
        }
        throw badValue(field, new IllegalArgumentException("not a number"));
    }

    /** Names the column and resource but not the value, which may be an identifier. */
    private TrinoException badValue(int field, RuntimeException cause)
    {
        return new TrinoException(FhirErrorCode.FHIR_BAD_VALUE, "FHIR domain %s: table %s, %s/%s: value of column %s is not a valid %s (%s)"
                .formatted(domain, table, view.resource(), resourceId, names.get(field), types.get(field).getDisplayName(), cause.getClass().getSimpleName()), cause);
    }

    @Override
    public Type getType(int field)
    {
        return types.get(field);
    }

    @Override
    public long getCompletedBytes()
    {
        return 0;
    }

    @Override
    public long getReadTimeNanos()
    {
        return readTimeNanos;
    }

    @Override
    public void close()
    {
        if (!closed) {
            closed = true;
            pending.clear();
            if (resources != null) {
                resources.close();
            }
        }
    }
}
