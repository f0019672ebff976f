package uk.nhs.fhirmesh.exclusion;

import java.time.Instant;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The patients of every domain of a catalog as read at one time, and from them, for a set of
 * {@link ExclusionRules}, the ids each domain's rows must not carry. Opt-outs are matched across domains on the
 * NHS number: a person who opted out at one trust is excluded at every trust holding their record. Pure and
 * thread-safe; the excluded ids of each rule set are worked out once.
 */
public final class PatientExclusions
{
    private final Instant readAt;
    private final Map<String, DomainRecords> domains = new LinkedHashMap<>();
    private final Set<String> optedOutNhsNumbers = new HashSet<>();
    private final Map<ExclusionRules, Map<String, Set<String>>> excluded = new ConcurrentHashMap<>();

    /** @param readAt when reading started: nothing older than this is missing from the records */
    public PatientExclusions(List<DomainRecords> records, Instant readAt)
    {
        this.readAt = readAt;
        for (DomainRecords domain : records) {
            if (domains.put(domain.domain(), domain) != null) {
                throw new IllegalArgumentException("domain " + domain.domain() + " is given twice");
            }
        }
        for (DomainRecords domain : records) {
            Map<String, PatientRecord> byId = new HashMap<>();
            domain.patients().forEach(patient -> byId.put(patient.id(), patient));
            for (OptOutConsent optOut : domain.optOuts()) {
                if (optOut.nhsNumber() != null) {
                    optedOutNhsNumbers.add(optOut.nhsNumber());
                }
                // Resource ids are unique per server only: a literal reference names a patient of the Consent's own domain.
                PatientRecord patient = optOut.patientId() == null ? null : byId.get(optOut.patientId());
                if (patient != null) {
                    optedOutNhsNumbers.addAll(patient.nhsNumbers());
                }
            }
        }
    }

    public Instant readAt()
    {
        return readAt;
    }

    /** The records of {@code domain} this was worked out from; empty for a domain that was not read. */
    public Optional<DomainRecords> records(String domain)
    {
        return Optional.ofNullable(domains.get(domain));
    }

    public List<String> domains()
    {
        return List.copyOf(domains.keySet());
    }

    public Set<String> optedOutNhsNumbers()
    {
        return Collections.unmodifiableSet(optedOutNhsNumbers);
    }

    public int patients()
    {
        return domains.values().stream().mapToInt(domain -> domain.patients().size()).sum();
    }

    /**
     * The ids of {@code domain}'s patients whose rows {@code rules} exclude.
     *
     * @throws IllegalArgumentException for a domain that was not read
     */
    public Set<String> excludedIds(String domain, ExclusionRules rules)
    {
        if (!domains.containsKey(domain)) {
            throw new IllegalArgumentException("patients of domain " + domain + " were not read");
        }
        return excluded.computeIfAbsent(rules, this::excludedIds).get(domain);
    }

    private Map<String, Set<String>> excludedIds(ExclusionRules rules)
    {
        Map<String, Set<String>> byDomain = new HashMap<>();
        for (DomainRecords domain : domains.values()) {
            Set<String> ids = new HashSet<>();
            for (PatientRecord patient : domain.patients()) {
                if (excludes(rules, patient)) {
                    ids.add(patient.id());
                }
            }
            if (rules.applyOptOuts()) {
                // Named by a Consent whose patient was not among those read (created since, or without an NHS number).
                domain.optOuts().stream().map(OptOutConsent::patientId).filter(id -> id != null).forEach(ids::add);
            }
            byDomain.put(domain.domain(), Set.copyOf(ids));
        }
        return byDomain;
    }

    private boolean excludes(ExclusionRules rules, PatientRecord patient)
    {
        if (rules.excludeWithoutNhsNumber() && patient.nhsNumbers().isEmpty()) {
            return true;
        }
        if (rules.applyOptOuts() && patient.nhsNumbers().stream().anyMatch(optedOutNhsNumbers::contains)) {
            return true;
        }
        return patient.labels().stream().anyMatch(rules.excludedLabels()::contains);
    }

    @Override
    public String toString()
    {
        return "patients of %s as read at %s: %d, opted-out NHS numbers: %d".formatted(String.join(",", domains.keySet()), readAt, patients(), optedOutNhsNumbers.size());
    }
}
