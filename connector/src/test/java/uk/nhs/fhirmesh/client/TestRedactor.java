package uk.nhs.fhirmesh.client;

import org.junit.jupiter.api.Test;
import uk.nhs.fhirmesh.search.FhirSearch;

import static org.junit.jupiter.api.Assertions.assertEquals;

class TestRedactor
{
    @Test
    void masksValuesTheirPartsAndTheToken()
    {
        Redactor redactor = Redactor.of(FhirSearch.of("Observation")
                        .with("patient.identifier", "https://fhir.nhs.uk/Id/nhs-number|9434765919")
                        .with("date", "ge2020-13-45")
                        .with("code", "abc,E11,x")
                        .with("_count", "5"))
                .with("secret-token")
                .with(null);

        assertEquals("Unknown patient …", redactor.apply("Unknown patient 9434765919"));
        assertEquals("Bad identifier …", redactor.apply("Bad identifier https://fhir.nhs.uk/Id/nhs-number|9434765919"));
        assertEquals("Invalid date/time format: \"…\"", redactor.apply("Invalid date/time format: \"2020-13-45\""));
        // Case-insensitive and inside longer words too: better an odd message than a leaked value.
        assertEquals("codes … and … and …D, but x and 5 are too short to mask", redactor.apply("codes ABC and e11 and ABCD, but x and 5 are too short to mask"));
        assertEquals("token … rejected", redactor.apply("token secret-token rejected"));
    }
}
