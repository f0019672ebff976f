package uk.nhs.fhirmesh.view;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

class TestViewDefinition
{
    private static final ObjectMapper JSON = new ObjectMapper();

    private static final String OBSERVATION = """
            {"resourceType": "Observation", "id": "o1", "status": "final",
             "subject": {"reference": "Patient/p1"},
             "code": {"coding": [{"system": "http://loinc.org", "code": "8867-4"}, {"system": "http://snomed.info/sct", "code": "364075005"}]},
             "valueQuantity": {"value": 72.5, "code": "/min"}, "effectiveDateTime": "2024-01-02T03:04:05Z",
             "component": [{"code": {"text": "a"}, "valueInteger": 1}, {"code": {"text": "b"}, "valueInteger": 2}]}""";

    private static JsonNode json(String text)
    {
        try {
            return JSON.readTree(text);
        }
        catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A view over Observation whose single select holds {@code select} (JSON members without braces). */
    private static JsonNode view(String select)
    {
        return json("{\"resource\": \"Observation\", \"select\": [{" + select + "}]}");
    }

    private static String problem(JsonNode view)
    {
        return assertThrows(ViewDefinitionException.class, () -> ViewDefinition.parse(view)).getMessage();
    }

    private static List<List<Object>> rows(ViewDefinition view, String resource)
    {
        List<List<Object>> rows = new ArrayList<>();
        view.evaluate(json(resource), row -> rows.add(Arrays.asList(row)));
        return rows;
    }

    @Test
    void invalidViewsAreRejectedNamingTheProblem()
    {
        assertEquals("column 'x': unknown function 'foo'", problem(view("\"column\": [{\"name\": \"x\", \"path\": \"code.foo()\"}]")));
        assertEquals("column 'x': unknown constant '%missing'", problem(view("\"column\": [{\"name\": \"x\", \"path\": \"%missing\"}]")));
        assertEquals("select[0].column[0]: name 'bad-name' must match [A-Za-z][A-Za-z0-9_]*", problem(view("\"column\": [{\"name\": \"bad-name\", \"path\": \"id\"}]")));
        assertEquals("column 'id' is defined more than once",
                problem(view("\"column\": [{\"name\": \"id\", \"path\": \"id\"}], \"select\": [{\"column\": [{\"name\": \"id\", \"path\": \"id\"}]}]")));
        assertEquals("select[0]: only one of forEach, forEachOrNull and repeat is allowed", problem(view("\"forEach\": \"a\", \"repeat\": [\"b\"]")));
        assertEquals("select[0]: 'forEach' must be a FHIRPath string", problem(view("\"forEach\": 1")));
        assertEquals("select[0].forEach 'component.': unexpected end of expression", problem(view("\"forEach\": \"component.\"")));
        assertEquals("column 'x': 'path' must be a FHIRPath string", problem(view("\"column\": [{\"name\": \"x\"}]")));
        assertEquals("unionAll branches differ: select[0].unionAll[1] has columns [b] but unionAll[0] has [a] (names and order must match)",
                problem(view("\"unionAll\": [{\"column\": [{\"name\": \"a\", \"path\": \"id\"}]}, {\"column\": [{\"name\": \"b\", \"path\": \"id\"}]}]")));
        assertEquals("unionAll branches differ: column 'a' is string in unionAll[0] but integer in unionAll[1] of select[0]",
                problem(view("\"unionAll\": [{\"column\": [{\"name\": \"a\", \"path\": \"id\", \"type\": \"string\"}]}, {\"column\": [{\"name\": \"a\", \"path\": \"id\", \"type\": \"integer\"}]}]")));
        assertEquals("'resource' is required and must be a FHIR resource type such as Patient", problem(json("{\"select\": [{}]}")));
        assertEquals("'select' is required and must be a non-empty array", problem(json("{\"resource\": \"Patient\"}")));
        assertEquals("where 'name.': unexpected end of expression", problem(json("{\"resource\": \"Patient\", \"select\": [{}], \"where\": [{\"path\": \"name.\"}]}")));
        assertEquals("constant 'c' has no value (one value[x] such as valueString is required)",
                problem(json("{\"resource\": \"Patient\", \"select\": [{}], \"constant\": [{\"name\": \"c\"}]}")));
        assertEquals("constant 'c': the value is not a valid integer",
                problem(json("{\"resource\": \"Patient\", \"select\": [{}], \"constant\": [{\"name\": \"c\", \"valueInteger\": \"1\"}]}")));
    }

    @Test
    void columnsHaveTheSpecOrderAndTheirDeclaredAttributes()
    {
        ViewDefinition view = ViewDefinition.parse(json("""
                {"resource": "Observation", "name": "obs", "select": [
                  {"column": [{"name": "a", "path": "id", "type": "id"}],
                   "unionAll": [{"column": [{"name": "u", "path": "status"}]}, {"column": [{"name": "u", "path": "id"}]}],
                   "select": [{"column": [{"name": "b", "path": "effective.ofType(dateTime)", "type": "dateTime",
                                           "tag": [{"name": "ansi/type", "value": "TIMESTAMP WITH TIME ZONE"}]}]}]},
                  {"column": [{"name": "c", "path": "code.coding.code", "collection": true}]}]}"""));
        assertEquals("obs", view.name());
        assertEquals("Observation", view.resource());
        assertEquals(List.of(
                new ViewColumn("a", "id", false, Map.of()),
                new ViewColumn("b", "dateTime", false, Map.of("ansi/type", "TIMESTAMP WITH TIME ZONE")),
                new ViewColumn("u", null, false, Map.of()),
                new ViewColumn("c", null, true, Map.of())), view.columns());
        assertEquals(List.of(
                List.of("o1", "2024-01-02T03:04:05Z", "final", List.of("8867-4", "364075005")),
                List.of("o1", "2024-01-02T03:04:05Z", "o1", List.of("8867-4", "364075005"))), rows(view, OBSERVATION));
    }

    @Test
    void valuesHaveJavaTypesByFhirKind()
    {
        ViewDefinition view = ViewDefinition.parse(view("""
                "column": [
                  {"name": "subject", "path": "subject.getReferenceKey(Patient)"},
                  {"name": "value", "path": "value.ofType(Quantity).value"},
                  {"name": "component_count", "path": "component.count()"},
                  {"name": "has_value", "path": "value.exists()"},
                  {"name": "quantity", "path": "value.ofType(Quantity)"},
                  {"name": "missing", "path": "note.text"},
                  {"name": "missing_list", "path": "note.text", "collection": true}]"""));
        List<Object> row = rows(view, OBSERVATION).get(0);
        assertEquals("p1", row.get(0));
        assertEquals(new BigDecimal("72.5"), row.get(1));
        assertEquals(2L, row.get(2));
        assertEquals(true, row.get(3));
        assertEquals("{\"value\":72.5,\"code\":\"/min\"}", row.get(4));
        assertNull(row.get(5));
        assertEquals(List.of(), row.get(6));
    }

    @Test
    void forEachGivesOneRowPerItemWithItsRowIndex()
    {
        ViewDefinition view = ViewDefinition.parse(view("""
                "column": [{"name": "id", "path": "getResourceKey()"}],
                "select": [{"forEach": "component", "column": [
                  {"name": "i", "path": "%rowIndex"}, {"name": "code", "path": "code.text"}, {"name": "value", "path": "value.ofType(integer)"}]}]"""));
        assertEquals(List.of(List.of("o1", 0L, "a", 1L), List.of("o1", 1L, "b", 2L)), rows(view, OBSERVATION));
    }

    @Test
    void otherResourceTypesAndFailedWhereClausesGiveNoRows()
    {
        ViewDefinition view = ViewDefinition.parse(json("""
                {"resource": "Observation", "select": [{"column": [{"name": "id", "path": "id"}]}],
                 "where": [{"path": "status = 'final'"}, {"path": "value.ofType(Quantity).value > 70"}]}"""));
        assertEquals(List.of(List.of("o1")), rows(view, OBSERVATION));
        assertEquals(List.of(), rows(view, "{\"resourceType\": \"Patient\", \"id\": \"o1\"}"));
        assertEquals(List.of(), rows(view, OBSERVATION.replace("72.5", "7.5")));
        assertEquals(List.of(), rows(view, OBSERVATION.replace("\"status\": \"final\",", "")));
    }

    @Test
    void evaluationErrorsNameTheColumnOrClause()
    {
        ViewDefinition multiple = ViewDefinition.parse(view("\"column\": [{\"name\": \"code\", \"path\": \"code.coding.code\"}]"));
        ViewEvaluationException e = assertThrows(ViewEvaluationException.class, () -> rows(multiple, OBSERVATION));
        assertEquals("column 'code': 2 values found but the column is not a collection (set collection: true, or pick one with first() or where())", e.getMessage());

        ViewDefinition notBoolean = ViewDefinition.parse(json("{\"resource\": \"Observation\", \"select\": [{}], \"where\": [{\"path\": \"status\"}]}"));
        e = assertThrows(ViewEvaluationException.class, () -> rows(notBoolean, OBSERVATION));
        assertEquals("where 'status': must give a single boolean but gave a string", e.getMessage());

        ViewDefinition badOperand = ViewDefinition.parse(view("\"column\": [{\"name\": \"x\", \"path\": \"code.coding.code + 1\"}]"));
        e = assertThrows(ViewEvaluationException.class, () -> rows(badOperand, OBSERVATION));
        assertEquals("column 'x': operator '+' expects a single value but got 2", e.getMessage());
    }
}
