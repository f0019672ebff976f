package uk.nhs.fhirmesh.client;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;
import uk.nhs.fhirmesh.search.FhirSearch;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static uk.nhs.fhirmesh.client.Bundles.condition;
import static uk.nhs.fhirmesh.client.Bundles.page;
import static uk.nhs.fhirmesh.client.FhirRequestException.Kind.MALFORMED_RESPONSE;
import static uk.nhs.fhirmesh.client.FhirRequestException.Kind.OPERATION_OUTCOME;

class TestBundlePageReader
{
    private static BundlePageReader reader(String json)
            throws IOException
    {
        return new BundlePageReader(new ByteArrayInputStream(json.getBytes(UTF_8)), "Condition", Redactor.of(FhirSearch.of("Condition").with("code", "9434765919")));
    }

    private static List<String> ids(BundlePageReader reader)
            throws IOException
    {
        List<String> ids = new ArrayList<>();
        for (JsonNode resource = reader.nextResource(); resource != null; resource = reader.nextResource()) {
            ids.add(resource.path("id").asText());
        }
        return ids;
    }

    @Test
    void knowsTheNextLinkWhereverItComes()
            throws IOException
    {
        for (boolean linkFirst : new boolean[] {true, false}) {
            BundlePageReader reader = reader(page("http://h/fhir?_getpages=2", linkFirst, condition("c1"), condition("c2")));

            assertEquals(List.of("c1", "c2"), ids(reader));
            assertEquals("http://h/fhir?_getpages=2", reader.nextLink());
            assertEquals(OptionalLong.of(2), reader.total());
            assertNull(reader.nextResource());
        }
    }

    @Test
    void readsBundlesWithoutEntriesOrLinks()
            throws IOException
    {
        BundlePageReader reader = reader("{\"resourceType\":\"Bundle\",\"type\":\"searchset\",\"total\":0,\"entry\":null}");

        assertEquals(List.of(), ids(reader));
        assertNull(reader.nextLink());
        assertEquals(OptionalLong.of(0), reader.total());
    }

    @Test
    void quotesOperationOutcomesWithoutRequestValues()
    {
        BundlePageReader.ContentException e = assertThrows(BundlePageReader.ContentException.class, () -> ids(reader(
                "{\"issue\":[{\"severity\":\"error\",\"code\":\"processing\",\"details\":{\"text\":\"no code 9434765919\"}},{\"severity\":\"error\",\"code\":\"too-costly\"}],"
                        + "\"resourceType\":\"OperationOutcome\"}")));

        assertEquals(OPERATION_OUTCOME, e.kind());
        assertEquals("the server answered with an OperationOutcome instead of a Bundle: no code …; too-costly", e.getMessage());
    }

    @Test
    void refusesMalformedBundles()
    {
        List<List<String>> cases = List.of(
                List.of("", "empty response body"),
                List.of("{\"resourceType\":\"Bundle\",\"total\":\"many\"}", "Bundle.total is not an integer"),
                List.of("{\"resourceType\":\"Bundle\",\"link\":{}}", "Bundle.link is not an array"),
                List.of("{\"resourceType\":\"Bundle\",\"entry\":{}}", "Bundle.entry is not an array"),
                List.of("{\"resourceType\":\"Bundle\",\"entry\":[1]}", "Bundle.entry[0] is not an object"),
                List.of("{\"resourceType\":\"Bundle\",\"entry\":[{\"search\":{\"mode\":\"match\"}}]}", "Bundle.entry[0] has no resource"),
                List.of("{\"resourceType\":\"Bundle\",\"entry\":[{\"resource\":{\"id\":\"x\"}}]}", "Bundle.entry[0] is a resource without resourceType, not a Condition"),
                List.of("{\"resourceType\":\"Bundle\",\"entry\":[{\"resource\":{\"resourceType\":\"<script>\"}}]}", "Bundle.entry[0] is an unknown resource type, not a Condition"),
                List.of("{\"resourceType\":{}}", "the response is a resource without resourceType, not a Bundle"),
                List.of("{\"resourceType\":\"Bundle\",\"meta\":" + "[".repeat(1001) + "]".repeat(1001) + "}",
                        "JSON beyond the parser's limits (Document nesting depth (1001) exceeds the maximum allowed (1000, from `StreamReadConstraints.getMaxNestingDepth()`)) at line 1, column 1033"));
        for (List<String> input : cases) {
            BundlePageReader.ContentException e = assertThrows(BundlePageReader.ContentException.class, () -> ids(reader(input.get(0))), input.get(0));
            assertEquals(MALFORMED_RESPONSE, e.kind());
            assertEquals(input.get(1), e.getMessage());
        }
    }
}
