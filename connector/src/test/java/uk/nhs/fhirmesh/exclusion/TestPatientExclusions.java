package uk.nhs.fhirmesh.exclusion;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TestPatientExclusions
{
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String NDOP = "https://digital.nhs.uk/services/national-data-opt-out/operational-policy-guidance-document";
    private static final Instant NOW = Instant.parse("2026-06-01T12:00:00Z");
    private static final ExclusionRules OPT_OUTS_ONLY = new ExclusionRules(true, Set.of(), false);

    private static JsonNode json(String text)
    {
        try {
            return JSON.readTree(text.replace('\'', '"'));
        }
        catch (Exception e) {
            throw new IllegalArgumentException(e);
        }
    }

    private static JsonNode consent(String status, String type, String policy, String end, String patient)
    {
        return json("{'resourceType':'Consent','id':'c1','status':'%s','patient':%s,'policy':[{'uri':'https://example.org/other'},{'uri':'%s'}],'provision':{'type':'%s','period':{'start':'2019-01-01T00:00:00+00:00'%s}}}"
                .formatted(status, patient, policy, type, end == null ? "" : ",'end':'" + end + "'"));
    }

    private static JsonNode ndop(String end)
    {
        return consent("active", "deny", NDOP, end, "{'reference':'Patient/p1'}");
    }

    private static PatientRecord patient(String id, String nhsNumber, String... labels)
    {
        String identifier = nhsNumber == null
                ? "{'system':'https://fhir.rx1.nhs.uk/Id/pas-identifier','value':'123'}"
                : "{'system':'https://fhir.nhs.uk/Id/nhs-number','value':'%s'}".formatted(nhsNumber);
        StringBuilder security = new StringBuilder();
        for (String label : labels) {
            security.append(security.isEmpty() ? "" : ",").append("{'system':'http://terminology.hl7.org/CodeSystem/v3-Confidentiality','code':'%s'}".formatted(label));
        }
        return PatientRecord.of(json("{'resourceType':'Patient','id':'%s','meta':{'security':[%s]},'identifier':[%s]}".formatted(id, security, identifier))).orElseThrow();
    }

    @Test
    void anActiveDenyUnderTheOptOutPolicyWithoutAnEndIsAnOptOut()
    {
        assertEquals(Optional.of(new OptOutConsent("p1", null)), OptOutConsent.of(ndop(null), NDOP, NOW));
    }

    @Test
    void onlyActiveDenyConsentsUnderTheOptOutPolicyCount()
    {
        String patient = "{'reference':'Patient/p1'}";
        for (String status : List.of("inactive", "draft", "proposed", "rejected", "entered-in-error")) {
            assertEquals(Optional.empty(), OptOutConsent.of(consent(status, "deny", NDOP, null, patient), NDOP, NOW), status);
        }
        assertEquals(Optional.empty(), OptOutConsent.of(consent("active", "permit", NDOP, null, patient), NDOP, NOW));
        assertEquals(Optional.empty(), OptOutConsent.of(consent("active", "deny", "https://example.org/research-study-consent", null, patient), NDOP, NOW));
        assertEquals(Optional.empty(), OptOutConsent.of(json("{'resourceType':'Patient','id':'p1','status':'active'}"), NDOP, NOW));
    }

    @Test
    void anEndedProvisionNoLongerExcludesAndAFutureOrUnreadableEndStillDoes()
    {
        assertEquals(Optional.empty(), OptOutConsent.of(ndop("2026-06-01T11:59:59Z"), NDOP, NOW));
        assertEquals(Optional.empty(), OptOutConsent.of(ndop("2025"), NDOP, NOW));
        assertEquals(Optional.empty(), OptOutConsent.of(ndop("2026-05-31"), NDOP, NOW));
        assertTrue(OptOutConsent.of(ndop("2026-06-01T12:00:01Z"), NDOP, NOW).isPresent());
        // A partial end lasts to the end of the period it names.
        assertTrue(OptOutConsent.of(ndop("2026-06"), NDOP, NOW).isPresent());
        assertTrue(OptOutConsent.of(ndop("2026-06-01"), NDOP, NOW).isPresent());
        assertTrue(OptOutConsent.of(ndop("2026"), NDOP, NOW).isPresent());
        assertTrue(OptOutConsent.of(ndop("soon"), NDOP, NOW).isPresent());
    }

    @Test
    void aConsentNamesItsPatientByReferenceOrByNhsNumber()
    {
        assertEquals("p1", OptOutConsent.patientId("Patient/p1"));
        assertEquals("p1", OptOutConsent.patientId("Patient/p1/_history/3"));
        assertEquals("p1", OptOutConsent.patientId("https://fhir.example.nhs.uk/R4/Patient/p1"));
        assertEquals(null, OptOutConsent.patientId("Group/p1"));
        assertEquals(null, OptOutConsent.patientId("RelatedPatient/p1"));
        assertEquals(null, OptOutConsent.patientId("#contained"));
        JsonNode byNumber = consent("active", "deny", NDOP, null, "{'identifier':{'system':'https://fhir.nhs.uk/Id/nhs-number','value':'999 100 0003'}}");
        assertEquals(Optional.of(new OptOutConsent(null, "9991000003")), OptOutConsent.of(byNumber, NDOP, NOW));
        assertEquals(Optional.empty(), OptOutConsent.of(consent("active", "deny", NDOP, null, "{'display':'somebody'}"), NDOP, NOW));
    }

    @Test
    void anOptOutAtOneTrustExcludesThePersonAtEveryTrustByNhsNumber()
    {
        PatientExclusions exclusions = new PatientExclusions(List.of(
                new DomainRecords("RX1", List.of(patient("p1", "9991000003"), patient("p2", "9991000011")), List.of(new OptOutConsent("p1", null))),
                new DomainRecords("RTH", List.of(patient("t7", "9991000003"), patient("t8", "9991000011"), patient("t9", "999 100 0003")), List.of()),
                new DomainRecords("RR8", List.of(patient("p1", "9991000038")), List.of())),
                NOW);
        assertEquals(Set.of("9991000003"), exclusions.optedOutNhsNumbers());
        assertEquals(Set.of("p1"), exclusions.excludedIds("RX1", OPT_OUTS_ONLY));
        assertEquals(Set.of("t7", "t9"), exclusions.excludedIds("RTH", OPT_OUTS_ONLY));
        // Ids are per server: RR8's p1 is somebody else.
        assertEquals(Set.of(), exclusions.excludedIds("RR8", OPT_OUTS_ONLY));
        assertEquals(Set.of(), exclusions.excludedIds("RTH", new ExclusionRules(false, Set.of(), false)));
        assertThrows(IllegalArgumentException.class, () -> exclusions.excludedIds("ZZ9", OPT_OUTS_ONLY));
    }

    @Test
    void anOptOutNamingAnNhsNumberOrAnUnreadPatientStillExcludes()
    {
        PatientExclusions exclusions = new PatientExclusions(List.of(
                new DomainRecords("RX1", List.of(patient("p2", null)), List.of(new OptOutConsent(null, "9991000011"), new OptOutConsent("p2", null), new OptOutConsent("p-new", null))),
                new DomainRecords("RTH", List.of(patient("t8", "9991000011")), List.of())),
                NOW);
        assertEquals(Set.of("p2", "p-new"), exclusions.excludedIds("RX1", OPT_OUTS_ONLY));
        assertEquals(Set.of("t8"), exclusions.excludedIds("RTH", OPT_OUTS_ONLY));
    }

    @Test
    void patientsWithoutAnNhsNumberAreExcludedUnlessTheRuleIsOff()
    {
        PatientExclusions exclusions = new PatientExclusions(List.of(new DomainRecords("RX1", List.of(patient("p1", null), patient("p2", "9991000011")), List.of())), NOW);
        assertEquals(Set.of("p1"), exclusions.excludedIds("RX1", ExclusionRules.strictest()));
        assertEquals(Set.of(), exclusions.excludedIds("RX1", OPT_OUTS_ONLY));
    }

    @Test
    void patientsWithAnExcludedLabelAreExcluded()
    {
        PatientExclusions exclusions = new PatientExclusions(List.of(new DomainRecords("RX1",
                List.of(patient("v", "1", "V"), patient("psy", "2", "R", "PSY"), patient("r", "3", "R"), patient("none", "4")), List.of())), NOW);
        assertEquals(Set.of("v", "psy"), exclusions.excludedIds("RX1", ExclusionRules.strictest()));
        assertEquals(Set.of("v"), exclusions.excludedIds("RX1", new ExclusionRules(false, ExclusionRules.labels("V"), false)));
        assertEquals(Set.of(), exclusions.excludedIds("RX1", new ExclusionRules(false, ExclusionRules.labels(""), false)));
    }

    @Test
    void patientRecordsReadIdentifiersAndLabels()
    {
        PatientRecord record = PatientRecord.of(json("{'resourceType':'Patient','id':'p1','meta':{'security':[{'code':'V'},{'system':'x'}]},"
                + "'identifier':[{'system':'https://fhir.nhs.uk/Id/nhs-number','value':'999 100 0003'},{'system':'https://fhir.nhs.uk/Id/nhs-number'},{'value':'9991000011'}]}")).orElseThrow();
        assertEquals(new PatientRecord("p1", List.of("9991000003"), Set.of("V")), record);
        assertFalse(PatientRecord.of(json("{'resourceType':'Patient'}")).isPresent());
        assertFalse(PatientRecord.of(json("{'resourceType':'Consent','id':'c'}")).isPresent());
    }

    @Test
    void labelListsAreCheckedAndBlankMeansNone()
    {
        assertEquals(Set.of("V", "PSY", "HIV", "SDV"), ExclusionRules.labels(ExclusionRules.DEFAULT_LABELS));
        assertEquals(Set.of("V", "PSY"), ExclusionRules.labels(" V , PSY "));
        assertEquals(Set.of(), ExclusionRules.labels(""));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ExclusionRules.labels("V,,PSY"));
        assertTrue(e.getMessage().contains("''"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> ExclusionRules.labels("V;PSY"));
        assertTrue(new ExclusionRules(false, Set.of(), false).excludesNobody());
        assertFalse(new ExclusionRules(false, Set.of("V"), false).excludesNobody());
    }
}
