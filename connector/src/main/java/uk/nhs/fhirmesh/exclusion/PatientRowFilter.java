package uk.nhs.fhirmesh.exclusion;

import java.util.Collection;
import java.util.List;
import java.util.Set;

/**
 * Whether the rows of one resource carry an excluded patient's key in any key slot (a collection column counts
 * when any of its ids is excluded). Checked over all the rows of a resource, so one resource gives all its rows
 * or none.
 */
public final class PatientRowFilter
{
    private final int[] keySlots;
    private final Set<String> excludedIds;

    public PatientRowFilter(int[] keySlots, Set<String> excludedIds)
    {
        this.keySlots = keySlots.clone();
        this.excludedIds = Set.copyOf(excludedIds);
    }

    public boolean excludes(Collection<Object[]> resourceRows)
    {
        for (Object[] row : resourceRows) {
            for (int slot : keySlots) {
                Object key = row[slot];
                if (key instanceof String id && excludedIds.contains(id)) {
                    return true;
                }
                if (key instanceof List<?> ids && ids.stream().anyMatch(excludedIds::contains)) {
                    return true;
                }
            }
        }
        return false;
    }

    public int excludedPatients()
    {
        return excludedIds.size();
    }
}
