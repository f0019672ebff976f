package uk.nhs.fhirmesh.trino;

import io.trino.spi.type.ArrayType;
import io.trino.spi.type.Type;
import uk.nhs.fhirmesh.mapping.ColumnTypes;
import uk.nhs.fhirmesh.view.ViewColumn;

import static io.trino.spi.type.BigintType.BIGINT;
import static io.trino.spi.type.BooleanType.BOOLEAN;
import static io.trino.spi.type.DateType.DATE;
import static io.trino.spi.type.DoubleType.DOUBLE;
import static io.trino.spi.type.IntegerType.INTEGER;
import static io.trino.spi.type.TimestampWithTimeZoneType.TIMESTAMP_TZ_MILLIS;
import static io.trino.spi.type.VarcharType.VARCHAR;

/** The Trino type of a view column (see ColumnTypes for the choice of SQL kind). */
final class FhirTypes
{
    private FhirTypes() {}

    static Type trinoType(ViewColumn column)
    {
        Type element = switch (ColumnTypes.kindOf(column)) {
            case "boolean" -> BOOLEAN;
            case "integer" -> INTEGER;
            case "bigint" -> BIGINT;
            case "double" -> DOUBLE;
            case "date" -> DATE;
            case "timestamp" -> TIMESTAMP_TZ_MILLIS;
            default -> VARCHAR;
        };
        return column.collection() ? new ArrayType(element) : element;
    }
}
