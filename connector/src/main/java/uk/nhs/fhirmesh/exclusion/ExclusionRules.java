package uk.nhs.fhirmesh.exclusion;

import java.util.LinkedHashSet;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Which patients one query must not see (the connector session properties of that name). A patient is
 * excluded when any rule that is on applies:
 * <ul>
 * <li>{@code applyOptOuts}: their NHS number has a national data opt-out in force at any domain of the catalog
 * (the opt-out is national, held against the NHS number), or a Consent opting them out names them directly;</li>
 * <li>{@code excludeWithoutNhsNumber}: they have no NHS number, so whether they opted out cannot be checked;</li>
 * <li>{@code excludedLabels}: their Patient resource carries one of these security label codes (a restricted
 * patient restricts everything recorded about them).</li>
 * </ul>
 */
public record ExclusionRules(boolean applyOptOuts, Set<String> excludedLabels, boolean excludeWithoutNhsNumber)
{
    /** As the gateway's strictest purpose: V always and every sensitivity label. */
    public static final String DEFAULT_LABELS = "V,PSY,HIV,SDV";
    /** A security label code as FHIR's code type allows, without the spaces a list cannot hold. */
    private static final Pattern LABEL = Pattern.compile("[A-Za-z0-9._\\-]{1,64}");

    public ExclusionRules
    {
        excludedLabels = Set.copyOf(excludedLabels);
    }

    public static ExclusionRules strictest()
    {
        return new ExclusionRules(true, labels(DEFAULT_LABELS), true);
    }

    /** Whether no patient can be excluded, so rows need no check (and no patient register is read). */
    public boolean excludesNobody()
    {
        return !applyOptOuts && !excludeWithoutNhsNumber && excludedLabels.isEmpty();
    }

    /**
     * Label codes from a comma-separated list ({@code V,PSY}); blank means none.
     *
     * @throws IllegalArgumentException naming the entry that is not a label code
     */
    public static Set<String> labels(String list)
    {
        Set<String> labels = new LinkedHashSet<>();
        if (list.isBlank()) {
            return labels;
        }
        for (String entry : list.split(",", -1)) {
            String label = entry.trim();
            if (!LABEL.matcher(label).matches()) {
                throw new IllegalArgumentException("'" + entry + "' is not a security label code (a comma-separated list such as V,PSY,HIV,SDV, or empty for none)");
            }
            labels.add(label);
        }
        return labels;
    }

    @Override
    public String toString()
    {
        return "opt-outs " + (applyOptOuts ? "applied" : "not applied")
                + ", patients without an NHS number " + (excludeWithoutNhsNumber ? "excluded" : "kept")
                + ", patient labels excluded " + (excludedLabels.isEmpty() ? "none" : String.join(",", excludedLabels.stream().sorted().toList()));
    }
}
