package uk.nhs.fhirmesh.search;

import org.junit.jupiter.api.Test;

import java.util.stream.Collectors;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The URL length rule: pushed parameters are dropped, the longest first, never split into several searches. */
class TestSearchUrlLimit
{
    private static final String BASE = "http://127.0.0.1:8190/fhir/rx1";

    private static String references(int count)
    {
        return IntStream.range(0, count).mapToObj(i -> "Patient/rx1-%036d".formatted(i)).collect(Collectors.joining(","));
    }

    /** The URL a client would send for {@code search} plus the largest additions the limit keeps room for. */
    private static int worstUrlLength(FhirSearch search, int elementsLength)
    {
        return BASE.length() + 1 + search.relativeUrl().length() + elementsLength + SearchUrlLimit.CONTROL_PARAMETERS;
    }

    @Test
    void aSearchThatFitsIsKeptWhole()
    {
        FhirSearch search = FhirSearch.of("Condition").with("code", "http://snomed.info/sct|44054006").with("subject", references(20));
        assertSame(search, new SearchUrlLimit(6000).fit(search, BASE.length(), 100));
    }

    @Test
    void theLongestParametersGoFirstUntilTheUrlFits()
    {
        // 2,000 patient references are ~100 kB: far over Tomcat's 8 kB, which answered HTTP 400.
        FhirSearch search = FhirSearch.of("Condition")
                .with("code", "http://snomed.info/sct|44054006")
                .with("subject", references(2000))
                .with("onset-date", "ge2020-01-01T00:00:00Z")
                .with("encounter", "Encounter/" + "e".repeat(64) + ",Encounter/" + "f".repeat(64));
        FhirSearch fitted = new SearchUrlLimit(6000).fit(search, BASE.length(), 300);
        assertEquals("Condition?code=http://snomed.info/sct|44054006&onset-date=ge2020-01-01T00:00:00Z&encounter=Encounter/" + "e".repeat(64) + ",Encounter/" + "f".repeat(64), fitted.toString());
        assertTrue(worstUrlLength(fitted, 300) <= 6000);

        // A tighter limit drops the next longest, the encounter list, and keeps the short ones.
        FhirSearch tighter = new SearchUrlLimit(BASE.length() + 600).fit(search, BASE.length(), 300);
        assertEquals("Condition?code=http://snomed.info/sct|44054006&onset-date=ge2020-01-01T00:00:00Z", tighter.toString());
        assertTrue(worstUrlLength(tighter, 300) <= BASE.length() + 600);
    }

    @Test
    void lengthIsMeasuredEncodedAndIncludesTheBaseUrlAndWhatIsAddedLater()
    {
        // 100 values of "a|" are 300 characters raw but 500 encoded (| becomes %7C).
        FhirSearch search = FhirSearch.of("Observation").with("code", "a|".repeat(100));
        int encoded = search.relativeUrl().length();
        int exact = BASE.length() + 1 + encoded + 40 + SearchUrlLimit.CONTROL_PARAMETERS;
        assertSame(search, new SearchUrlLimit(exact).fit(search, BASE.length(), 40));
        assertEquals("Observation", new SearchUrlLimit(exact - 1).fit(search, BASE.length(), 40).toString());
        // A longer base URL, or wider _elements, leave less room.
        assertEquals("Observation", new SearchUrlLimit(exact).fit(search, BASE.length() + 1, 40).toString());
        assertEquals("Observation", new SearchUrlLimit(exact).fit(search, BASE.length(), 41).toString());
    }

    @Test
    void nothingFitsUnderATinyLimitSoEverythingIsLeftToTrino()
    {
        FhirSearch search = FhirSearch.of("Patient").with("family:exact", "Smith").with("gender", "female");
        assertEquals("Patient", new SearchUrlLimit(10).fit(search, BASE.length(), 0).toString());
    }
}
