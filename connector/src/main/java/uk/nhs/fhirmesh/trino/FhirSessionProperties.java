package uk.nhs.fhirmesh.trino;

import io.trino.spi.TrinoException;
import io.trino.spi.connector.ConnectorSession;
import io.trino.spi.session.PropertyMetadata;
import uk.nhs.fhirmesh.exclusion.ExclusionRules;

import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

import static io.trino.spi.StandardErrorCode.INVALID_SESSION_PROPERTY;
import static io.trino.spi.session.PropertyMetadata.booleanProperty;
import static io.trino.spi.session.PropertyMetadata.stringProperty;

/**
 * {@code SET SESSION <catalog>.pushdown_enabled = false} reads whole resource types, for comparison and diagnosis.
 * The patient exclusion properties ({@link ExclusionRules}) are on by default for everyone; Trino's access rules let
 * only the admins and the gateway change them (the gateway per purpose of use: direct care is not subject to the
 * national data opt-out).
 */
final class FhirSessionProperties
{
    static final String PUSHDOWN_ENABLED = "pushdown_enabled";
    static final String APPLY_OPT_OUTS = "apply_opt_outs";
    static final String EXCLUDED_PATIENT_LABELS = "excluded_patient_labels";
    static final String EXCLUDE_PATIENTS_WITHOUT_NHS_NUMBER = "exclude_patients_without_nhs_number";
    /** Domains a scan reads no split of (partial results: the gateway labels the answer); as restricted as the exclusion switches. */
    static final String SKIP_DOMAINS = "skip_domains";

    private FhirSessionProperties() {}

    static List<PropertyMetadata<?>> properties(FhirConfig config)
    {
        return List.of(
                booleanProperty(PUSHDOWN_ENABLED, "Push filters, LIMIT and projections into FHIR search", config.pushdownEnabled(), false),
                booleanProperty(APPLY_OPT_OUTS, "Drop the rows of patients with a national data opt-out at any domain of the catalog", true, false),
                stringProperty(EXCLUDED_PATIENT_LABELS, "Drop the rows of patients whose Patient resource carries one of these security labels (comma-separated codes)",
                        ExclusionRules.DEFAULT_LABELS, FhirSessionProperties::validateLabels, false),
                booleanProperty(EXCLUDE_PATIENTS_WITHOUT_NHS_NUMBER, "Drop the rows of patients without an NHS number (their opt-out cannot be checked)", true, false),
                stringProperty(SKIP_DOMAINS, "Read no rows from these domains (comma-separated codes of the catalog's fhir.domains); their opt-outs still apply",
                        "", value -> skipDomains(value, config.domains().keySet()), false));
    }

    static Set<String> skipDomains(ConnectorSession session)
    {
        // Validated when set; upper-cased here as fhir.domains keys them.
        return skipDomains(session.getProperty(SKIP_DOMAINS, String.class), null);
    }

    /**
     * The codes of a comma-separated list, upper-cased; blank means none.
     *
     * @param known the catalog's domain codes every entry must be one of, or null not to check
     */
    static Set<String> skipDomains(String list, Set<String> known)
    {
        Set<String> codes = new LinkedHashSet<>();
        if (list.isBlank()) {
            return codes;
        }
        for (String entry : list.split(",", -1)) {
            String code = entry.trim().toUpperCase(Locale.ROOT);
            if (known != null && !known.contains(code)) {
                throw new TrinoException(INVALID_SESSION_PROPERTY, "%s: '%s' is not a domain of this catalog (fhir.domains: %s)".formatted(SKIP_DOMAINS, entry.trim(), String.join(",", known)));
            }
            codes.add(code);
        }
        return codes;
    }

    static boolean pushdownEnabled(ConnectorSession session)
    {
        return session.getProperty(PUSHDOWN_ENABLED, Boolean.class);
    }

    static ExclusionRules exclusionRules(ConnectorSession session)
    {
        return new ExclusionRules(
                session.getProperty(APPLY_OPT_OUTS, Boolean.class),
                ExclusionRules.labels(session.getProperty(EXCLUDED_PATIENT_LABELS, String.class)),
                session.getProperty(EXCLUDE_PATIENTS_WITHOUT_NHS_NUMBER, Boolean.class));
    }

    private static void validateLabels(String value)
    {
        try {
            ExclusionRules.labels(value);
        }
        catch (IllegalArgumentException e) {
            throw new TrinoException(INVALID_SESSION_PROPERTY, EXCLUDED_PATIENT_LABELS + ": " + e.getMessage());
        }
    }
}
