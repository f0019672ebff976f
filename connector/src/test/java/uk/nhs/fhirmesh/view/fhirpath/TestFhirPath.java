package uk.nhs.fhirmesh.view.fhirpath;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.cfg.JsonNodeFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TestFhirPath
{
    private static final ObjectMapper EXACT = JsonMapper.builder()
            .enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS)
            .disable(JsonNodeFeature.STRIP_TRAILING_BIGDECIMAL_ZEROES)
            .build();

    private static final String PATIENT = """
            {"resourceType": "Patient", "id": "p1", "active": true, "birthDate": "1970-06",
             "name": [{"use": "official", "family": "Smith", "given": ["Ann", "Bea"]}, {"use": "nickname", "given": ["Annie"]}],
             "extension": [{"url": "http://x/race", "extension": [{"url": "code", "valueCoding": {"code": "2106-3"}}]}],
             "managingOrganization": {"reference": "Organization/o1/_history/2"},
             "deceasedBoolean": false}""";

    private static final String OBSERVATION = """
            {"resourceType": "Observation", "id": "o1", "status": "final",
             "valueQuantity": {"value": 1.50, "unit": "mg"}, "effectiveDateTime": "2020-05-01T10:00:00+01:00",
             "component": [{"valueString": "x"}, {"valueInteger": 7}]}""";

    /** The items' column values (String, Boolean, Long, BigDecimal) for compact assertions. */
    private static List<Object> eval(String expression, String resource)
    {
        return eval(expression, resource, Map.of());
    }

    private static List<Object> eval(String expression, String resource, Map<String, List<Object>> constants)
    {
        try {
            JsonNode node = EXACT.readTree(resource);
            Scope scope = Scope.of(node, node, 3);
            List<Object> values = new ArrayList<>();
            Parser.parse(expression, constants).evaluate(scope.thisValue(), scope).forEach(item -> values.add(FhirValues.toColumnValue(item)));
            return values;
        }
        catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    private static List<Object> eval(String expression)
    {
        return eval(expression, "{}");
    }

    private static String syntaxError(String expression)
    {
        return assertThrows(FhirPathException.class, () -> Parser.parse(expression, Map.of())).getMessage();
    }

    @Test
    void arithmeticFollowsPrecedenceAndKeepsIntegersExact()
    {
        assertEquals(List.of(7L), eval("1 + 2 * 3"));
        assertEquals(List.of(9L), eval("(1 + 2) * 3"));
        assertEquals(List.of(0L), eval("2 - 1 - 1"));
        assertEquals(List.of(-2L), eval("-3 + 1"));
        assertEquals(List.of(new BigDecimal("2.5")), eval("10 / 4"));
        assertEquals(List.of(3L), eval("7 div 2"));
        assertEquals(List.of(1L), eval("7 mod 2"));
        assertEquals(List.of(new BigDecimal("3.75")), eval("1.5 * 2.5"));
        assertEquals(List.of(), eval("1 / 0"));
        assertEquals(List.of("ab"), eval("'a' + 'b'"));
        assertEquals(List.of("a"), eval("'a' & {}"));
        assertEquals(List.of(), eval("1 + {}"));
    }

    @Test
    void equalityAndComparisonPropagateEmpty()
    {
        assertEquals(List.of(), eval("{} = 1"));
        assertEquals(List.of(), eval("name.family = 'Smith'", "{\"resourceType\": \"Patient\"}"));
        assertEquals(List.of(), eval("1 < {}"));
        assertEquals(List.of(true), eval("1 = 1.0"));
        assertEquals(List.of(false), eval("'1' = 1"));
        assertEquals(List.of(true), eval("'abc' < 'abd'"));
        assertEquals(List.of(true), eval("name.given = ('Ann' | 'Bea' | 'Annie')", PATIENT));
        assertEquals(List.of(false), eval("name.given = 'Ann'", PATIENT));
        assertEquals(List.of(true), eval("name.given contains 'Bea'", PATIENT));
        assertEquals(List.of(false), eval("'Zed' in name.given", PATIENT));
    }

    @Test
    void datesCompareAsFarAsBothArePrecise()
    {
        assertEquals(List.of(true), eval("@2020-01-01 < @2020-01-02"));
        assertEquals(List.of(), eval("@2020-01 = @2020-01-01"));
        assertEquals(List.of(false), eval("@2020-01 = @2021-01-01"));
        assertEquals(List.of(true), eval("@2020-01-01T10:00:00+01:00 = @2020-01-01T09:00:00Z"));
        assertEquals(List.of(true), eval("@T10:30 > @T09:59:59"));
        assertEquals(List.of(true), eval("birthDate < @1970-07-01", PATIENT));
        assertEquals(List.of(), eval("birthDate = @1970-06-15", PATIENT));
        assertEquals(List.of(true), eval("effective.ofType(dateTime) > @2020-05-01T08:59:59Z", OBSERVATION));
        assertEquals(List.of(false), eval("effective.ofType(dateTime) > @2020-05-01T09:00:00Z", OBSERVATION));
    }

    @Test
    void logicIsThreeValued()
    {
        assertEquals(List.of(false), eval("{} and false"));
        assertEquals(List.of(), eval("{} and true"));
        assertEquals(List.of(true), eval("{} or true"));
        assertEquals(List.of(), eval("{} or false"));
        assertEquals(List.of(true), eval("true xor false"));
        assertEquals(List.of(true), eval("false implies {}"));
        assertEquals(List.of(), eval("true implies {}"));
        assertEquals(List.of(false), eval("(1 = 1).not()"));
        assertEquals(List.of(), eval("{}.not()"));
    }

    @Test
    void navigationFlattensArraysAndIndexes()
    {
        assertEquals(List.of("Ann", "Bea", "Annie"), eval("name.given", PATIENT));
        assertEquals(List.of("Annie"), eval("name[1].given", PATIENT));
        assertEquals(List.of(), eval("name[5].given", PATIENT));
        assertEquals(List.of("Smith"), eval("Patient.name.family", PATIENT));
        assertEquals(List.of(), eval("Observation.status", PATIENT));
        assertEquals(List.of("Bea"), eval("name.given[%i]", PATIENT, Map.of("i", List.of(new TypedNode(EXACT.getNodeFactory().numberNode(1), "integer")))));
    }

    @Test
    void choiceElementsAreFoundByBaseNameOrType()
    {
        assertEquals(List.of(new BigDecimal("1.50")), eval("value.ofType(Quantity).value", OBSERVATION));
        assertEquals(List.of(), eval("value.ofType(CodeableConcept)", OBSERVATION));
        assertEquals(List.of("mg"), eval("value.unit", OBSERVATION));
        assertEquals(List.of("x", 7L), eval("component.value", OBSERVATION));
        assertEquals(List.of(7L), eval("component.value.ofType(integer)", OBSERVATION));
        assertEquals(List.of("x"), eval("component.value.ofType(FHIR.string)", OBSERVATION));
        assertEquals(List.of(false), eval("deceased.ofType(boolean)", PATIENT));
        assertEquals(List.of("2106-3"), eval("extension('http://x/race').extension('code').value.ofType(Coding).code", PATIENT));
    }

    @Test
    void functions()
    {
        assertEquals(List.of("Smith"), eval("name.where(use = 'official').family", PATIENT));
        assertEquals(List.of(true), eval("name.exists(use = 'nickname')", PATIENT));
        assertEquals(List.of(false), eval("name.exists(use = 'maiden')", PATIENT));
        assertEquals(List.of(3L), eval("name.given.count()", PATIENT));
        assertEquals(List.of("Annie"), eval("name.given.last()", PATIENT));
        assertEquals(List.of("Ann"), eval("name.given.first()", PATIENT));
        assertEquals(List.of("Ann", "Annie"), eval("name.select(given.first())", PATIENT));
        assertEquals(List.of("Bea", "Annie"), eval("name.given.where($index > 0)", PATIENT));
        assertEquals(List.of("Ann, Bea, Annie"), eval("name.given.join(', ')", PATIENT));
        assertEquals(List.of(), eval("name.suffix.join(', ')", PATIENT));
        assertEquals(List.of(true), eval("active.hasValue()", PATIENT));
        assertEquals(List.of(3L), eval("%rowIndex", PATIENT));
        assertEquals(List.of("http://loinc.org"), eval("%loinc"));
    }

    @Test
    void boundaries()
    {
        assertEquals(List.of(new BigDecimal("1.49500000")), eval("value.ofType(Quantity).value.lowBoundary()", OBSERVATION));
        assertEquals(List.of(new BigDecimal("1.51")), eval("value.ofType(Quantity).value.highBoundary(2)", OBSERVATION));
        assertEquals(List.of(new BigDecimal("0.5")), eval("1.lowBoundary(1)"));
        assertEquals(List.of("1970-06-01"), eval("birthDate.lowBoundary()", PATIENT));
        assertEquals(List.of("1970-06-30"), eval("birthDate.highBoundary()", PATIENT));
        assertEquals(List.of("2024-02-29"), eval("@2024-02.highBoundary()"));
        assertEquals(List.of("1970-12"), eval("@1970.highBoundary(6)"));
        assertEquals(List.of("2020-05-01T10:00:00.000+01:00"), eval("effective.ofType(dateTime).lowBoundary()", OBSERVATION));
        assertEquals(List.of("2010-10-10T00:00:00.000+14:00"), eval("@2010-10-10T.lowBoundary()"));
        assertEquals(List.of("2010-10-10T23:59:59.999-12:00"), eval("@2010-10-10T.highBoundary()"));
        assertEquals(List.of("12:34:59.999"), eval("@T12:34.highBoundary()"));
        assertEquals(List.of(), eval("@T12:34.highBoundary(5)"));
    }

    @Test
    void referenceKeysReadOnlyRelativeLiteralReferences()
    {
        String links = """
                {"resourceType": "Patient", "id": "p1", "link": [
                  {"other": {"reference": "Patient/p2"}},
                  {"other": {"reference": "RelatedPerson/r1/_history/3"}},
                  {"other": {"reference": "http://example.org/fhir/Patient/p3"}},
                  {"other": {"reference": "urn:uuid:8f1b4c1e-0000-4000-8000-000000000000"}},
                  {"other": {"reference": "#contained"}},
                  {"other": {"display": "no reference"}}]}""";
        assertEquals(List.of("p2", "r1"), eval("link.other.getReferenceKey()", links));
        assertEquals(List.of("p2"), eval("link.other.getReferenceKey(Patient)", links));
        assertEquals(List.of(), eval("link.other.getReferenceKey(Observation)", links));
        assertEquals(List.of("o1"), eval("managingOrganization.getReferenceKey(Organization)", PATIENT));
        assertEquals(List.of("p1"), eval("getResourceKey()", links));
        assertEquals(List.of(), eval("link.getResourceKey()", links));
    }

    @Test
    void decimalsFromADefaultObjectMapperKeepTheirWrittenForm()
            throws Exception
    {
        JsonNode node = new ObjectMapper().readTree("{\"value\": 1.0, \"big\": 12345678901234567890}");
        Scope scope = Scope.of(node, node, 0);
        assertEquals(new BigDecimal("1.0"), FhirValues.toColumnValue(Parser.parse("value", Map.of()).evaluate(scope.thisValue(), scope).get(0)));
        assertEquals(new BigDecimal("0.95000000"), FhirValues.toColumnValue(Parser.parse("value.lowBoundary()", Map.of()).evaluate(scope.thisValue(), scope).get(0)));
        assertEquals(new BigDecimal("12345678901234567890"), FhirValues.toColumnValue(Parser.parse("big", Map.of()).evaluate(scope.thisValue(), scope).get(0)));
    }

    @Test
    void badExpressionsAreRejectedWhenCompiled()
    {
        assertEquals("unknown function 'foo'", syntaxError("name.foo()"));
        assertEquals("function 'first' takes no arguments but got 1", syntaxError("name.first(1)"));
        assertEquals("function 'where' takes 1 argument but got 0", syntaxError("name.where()"));
        assertEquals("unknown constant '%nope'", syntaxError("name.where(use = %nope)"));
        assertTrue(syntaxError("@@").startsWith("invalid date/time literal"), syntaxError("@@"));
        assertTrue(syntaxError("@2020-13-01").startsWith("invalid date/time literal '@2020-13-01'"), syntaxError("@2020-13-01"));
        assertEquals("unexpected end of expression", syntaxError("name."));
        assertEquals("unexpected end of expression", syntaxError("1 +"));
        assertEquals("unexpected ')' at position 4", syntaxError("name)"));
        assertEquals("expected ')' but found end of expression at position 12", syntaxError("name.where(x"));
        assertTrue(syntaxError("'open").startsWith("unterminated string"), syntaxError("'open"));
        assertEquals("operator '~' is not supported", syntaxError("a ~ b"));
        assertEquals("operator 'is' is not supported", syntaxError("value is Quantity"));
        assertEquals("unsupported variable '$total'", syntaxError("$total"));
        assertTrue(syntaxError("name # 1").startsWith("unexpected character '#'"), syntaxError("name # 1"));
    }

    @Test
    void operatorsRejectSeveralValues()
    {
        FhirPathEvaluationException e = assertThrows(FhirPathEvaluationException.class, () -> eval("name.given + 'x'", PATIENT));
        assertEquals("operator '+' expects a single value but got 3", e.getMessage());
        e = assertThrows(FhirPathEvaluationException.class, () -> eval("active + 1", PATIENT));
        assertEquals("operator '+' expects numbers but got a boolean and an integer", e.getMessage());
    }

    @Test
    void literalsAndComments()
    {
        assertEquals(List.of("it's"), eval("'it\\'s'"));
        assertEquals(List.of("\u00e9"), eval("'\\u00e9'"));
        assertEquals(List.of(5_000_000_000L), eval("5000000000L"));
        assertEquals(List.of(2L), eval("1 + /* one */ 1 // and one more"));
        assertEquals(List.of("Smith"), eval("name.`family`", PATIENT));
        assertEquals(List.of(), eval("{}"));
    }
}
