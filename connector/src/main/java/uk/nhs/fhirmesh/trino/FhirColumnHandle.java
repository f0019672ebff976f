package uk.nhs.fhirmesh.trino;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonProperty;
import io.trino.spi.connector.ColumnHandle;
import io.trino.spi.connector.ColumnMetadata;
import io.trino.spi.type.Type;

import static java.util.Objects.requireNonNull;

/** A view column (or the connector's {@code domain} column), by name and Trino type. */
public record FhirColumnHandle(String name, Type type)
        implements ColumnHandle
{
    @JsonCreator
    public FhirColumnHandle(@JsonProperty("name") String name, @JsonProperty("type") Type type)
    {
        this.name = requireNonNull(name, "name");
        this.type = requireNonNull(type, "type");
    }

    public ColumnMetadata toColumnMetadata(String comment)
    {
        return ColumnMetadata.builder().setName(name).setType(type).setComment(java.util.Optional.ofNullable(comment)).build();
    }

    @Override
    public String toString()
    {
        return name + ":" + type.getDisplayName();
    }
}
