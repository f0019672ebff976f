package uk.nhs.fhirmesh.trino;

import io.trino.spi.connector.ColumnMetadata;
import io.trino.spi.type.Type;

import java.util.Optional;

/** Columns of the connector's own tables ({@code <catalog>.mesh.*}): each says what it holds, for DESCRIBE. */
final class SystemTableColumns
{
    private SystemTableColumns() {}

    static ColumnMetadata column(String name, Type type, String comment)
    {
        return ColumnMetadata.builder().setName(name).setType(type).setComment(Optional.of(comment)).build();
    }
}
