package uk.nhs.fhirmesh.exclusion;

import java.util.List;

import static java.util.Objects.requireNonNull;

/** One domain's Patients and the opt-outs its Consents record, as read at one time. */
public record DomainRecords(String domain, List<PatientRecord> patients, List<OptOutConsent> optOuts)
{
    public DomainRecords
    {
        requireNonNull(domain, "domain");
        patients = List.copyOf(patients);
        optOuts = List.copyOf(optOuts);
    }
}
