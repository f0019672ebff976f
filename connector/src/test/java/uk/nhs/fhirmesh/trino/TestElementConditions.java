package uk.nhs.fhirmesh.trino;

import io.airlift.slice.Slice;
import io.airlift.slice.Slices;
import io.trino.spi.expression.Call;
import io.trino.spi.expression.Constant;
import io.trino.spi.expression.FunctionName;
import io.trino.spi.expression.Variable;
import io.trino.spi.type.ArrayType;
import org.junit.jupiter.api.Test;
import uk.nhs.fhirmesh.search.SearchTranslator.ElementCondition;

import java.util.List;
import java.util.Map;

import static io.trino.spi.expression.StandardFunctions.NOT_FUNCTION_NAME;
import static io.trino.spi.type.BooleanType.BOOLEAN;
import static io.trino.spi.type.VarcharType.VARCHAR;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** contains(security_labels, ...) conditions offered to the search, and those kept from it. */
class TestElementConditions
{
    private static final ArrayType LABELS = new ArrayType(VARCHAR);

    private static List<ElementCondition> notContains(Slice value)
    {
        Call contains = new Call(BOOLEAN, new FunctionName("contains"), List.of(new Variable("labels", LABELS), new Constant(value, VARCHAR)));
        return ElementConditions.extract(new Call(BOOLEAN, NOT_FUNCTION_NAME, List.of(contains)), Map.of("labels", new FhirColumnHandle("security_labels", LABELS)));
    }

    @Test
    void aValueTheSearchCannotCarryIsNotOffered()
    {
        assertEquals(List.of(new ElementCondition("security_labels", "R", true)), notContains(Slices.utf8Slice("R")));
        // Not UTF-8: decoding gives U+FFFD, and _security:not=U+FFFD would drop a resource labelled so, which SQL keeps.
        assertEquals(List.of(), notContains(Slices.wrappedBuffer((byte) 'R', (byte) 0xff)));
        assertEquals(List.of(), notContains(Slices.utf8Slice("R\u0000")));
    }
}
