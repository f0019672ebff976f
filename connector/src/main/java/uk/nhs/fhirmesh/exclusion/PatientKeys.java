package uk.nhs.fhirmesh.exclusion;

import uk.nhs.fhirmesh.view.ViewColumn;
import uk.nhs.fhirmesh.view.ViewDefinition;

import java.util.ArrayList;
import java.util.List;

/**
 * The columns of a view that hold a Patient key, found the way the gateway finds them
 * (control-plane/src/gateway/policy/column-treatments.ts {@code patientKey}): a Patient view's column read
 * with {@code getResourceKey()}, or any column whose every path ends in {@code getReferenceKey(Patient)},
 * perhaps followed by calls that pick one item ({@code .first()}, {@code .last()}, {@code .single()}): the key
 * read is the same. Whitespace inside a path does not count. The two sides must agree: a key the gateway
 * pseudonymises but the connector did not see would let an excluded patient's rows reach Trino.
 */
public final class PatientKeys
{
    private PatientKeys() {}

    /** The key columns' names, in view order. */
    public static List<String> columns(ViewDefinition view)
    {
        List<String> keys = new ArrayList<>();
        for (ViewColumn column : view.columns()) {
            List<String> paths = view.columnPaths(column.name()).stream()
                    .map(path -> path.replaceAll("\\s+", "").replaceAll("(\\.(first|last|single)\\(\\))+$", ""))
                    .toList();
            if (paths.isEmpty()) {
                continue;
            }
            boolean ownKey = view.resource().equals("Patient") && paths.stream().allMatch("getResourceKey()"::equals);
            if (ownKey || paths.stream().allMatch(path -> path.endsWith("getReferenceKey(Patient)"))) {
                keys.add(column.name());
            }
        }
        return keys;
    }

    /** The key columns' positions in the rows {@link ViewDefinition#evaluate} gives. */
    public static int[] slots(ViewDefinition view)
    {
        List<String> keys = columns(view);
        List<ViewColumn> columns = view.columns();
        int[] slots = new int[keys.size()];
        for (int i = 0; i < slots.length; i++) {
            for (int slot = 0; slot < columns.size(); slot++) {
                if (columns.get(slot).name().equals(keys.get(i))) {
                    slots[i] = slot;
                }
            }
        }
        return slots;
    }
}
