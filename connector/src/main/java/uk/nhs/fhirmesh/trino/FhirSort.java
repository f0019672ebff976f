package uk.nhs.fhirmesh.trino;

import io.trino.spi.connector.SortOrder;
import uk.nhs.fhirmesh.mapping.ColumnBinding;
import uk.nhs.fhirmesh.mapping.TableMapping;

import java.util.Optional;

import static io.trino.spi.type.TimestampWithTimeZoneType.TIMESTAMP_TZ_MILLIS;

/**
 * An ORDER BY pushed into FHIR {@code _sort}. Only {@code meta.lastUpdated} qualifies: every stored resource
 * has one instant there, so the server's order and SQL's agree, and a column read from the resource itself
 * gives every row of a resource that resource's value, so rows come in the order of their resources.
 * Other search parameters are left alone: FHIR sorts a multi-valued or partial date by rules of its own
 * and places missing values as the server likes. NULLS FIRST is never pushed; rows without a value do not
 * count towards the split's limit (see {@link FhirRecordCursor}), so the order of nulls does not matter.
 *
 * @param column the sorted column
 */
public record FhirSort(String column, boolean descending)
{
    static final String LAST_UPDATED_PATH = "meta.lastUpdated";
    static final String LAST_UPDATED_PARAMETER = "_lastUpdated";

    /** The {@code _sort} value, e.g. {@code -_lastUpdated}. */
    public String parameter()
    {
        return (descending ? "-" : "") + LAST_UPDATED_PARAMETER;
    }

    static Optional<FhirSort> of(TableMapping mapping, FhirColumnHandle column, SortOrder order)
    {
        if (order != SortOrder.ASC_NULLS_LAST && order != SortOrder.DESC_NULLS_LAST) {
            return Optional.empty();
        }
        boolean lastUpdated = column.type().equals(TIMESTAMP_TZ_MILLIS)
                && mapping.binding(column.name()).map(ColumnBinding::param).filter(LAST_UPDATED_PARAMETER::equals).isPresent()
                && mapping.view().readsFromResource(column.name(), LAST_UPDATED_PATH);
        return lastUpdated ? Optional.of(new FhirSort(column.name(), order == SortOrder.DESC_NULLS_LAST)) : Optional.empty();
    }
}
