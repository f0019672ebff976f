package uk.nhs.fhirmesh.view;

import uk.nhs.fhirmesh.view.fhirpath.Expression;

import java.util.List;

/**
 * A compiled {@code select}: how it iterates, its own columns, its nested selects and its unionAll branches.
 *
 * @param iterationPaths the forEach/forEachOrNull path, or the repeat paths
 * @param location where the select sits in the view ({@code select[0].unionAll[1]}), for messages
 * @param nullSlots every output slot this select and its descendants fill, for the null row of forEachOrNull
 * @param rowIndexSlots the slots among those whose path is exactly {@code %rowIndex}, which is 0 in the null row
 */
record Select(
        Iteration iteration,
        List<Expression> iterationPaths,
        List<CompiledColumn> columns,
        List<Select> selects,
        List<Select> unionAll,
        String location,
        int[] nullSlots,
        int[] rowIndexSlots)
{
    enum Iteration
    {
        NONE(null), FOR_EACH("forEach"), FOR_EACH_OR_NULL("forEachOrNull"), REPEAT("repeat");

        private final String key;

        Iteration(String key)
        {
            this.key = key;
        }

        /** The select's JSON property. */
        String key()
        {
            return key;
        }
    }

    /** A column with its FHIRPath as written (trimmed) and compiled, and its position in the output row. */
    record CompiledColumn(String name, int slot, String pathText, Expression path, boolean collection, boolean isRowIndex) {}
}
