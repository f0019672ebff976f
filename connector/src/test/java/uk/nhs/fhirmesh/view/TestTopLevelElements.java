package uk.nhs.fhirmesh.view;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;
import java.util.Optional;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class TestTopLevelElements
{
    private static final ObjectMapper JSON = new ObjectMapper();

    private static ViewDefinition view(String json)
    {
        try {
            return ViewDefinition.parse(JSON.readTree(json));
        }
        catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A Condition view with one column per path, named c0, c1, ... */
    private static ViewDefinition columns(String... paths)
    {
        StringBuilder columns = new StringBuilder();
        for (int i = 0; i < paths.length; i++) {
            columns.append(i == 0 ? "" : ",").append("{\"name\": \"c").append(i).append("\", \"path\": ").append(JSON.valueToTree(paths[i]).toString()).append("}");
        }
        return view("{\"resource\": \"Condition\", \"select\": [{\"column\": [" + columns + "]}]}");
    }

    private static Optional<Set<String>> elements(String path)
    {
        return columns(path).topLevelElements(List.of("c0"));
    }

    @Test
    void pathsAreReducedToTheirFirstElement()
    {
        assertEquals(Optional.of(Set.of("code")), elements("code.coding.where(system = 'http://snomed.info/sct').code.first()"));
        assertEquals(Optional.of(Set.of("onset")), elements("onset.ofType(dateTime)"));
        assertEquals(Optional.of(Set.of("id")), elements("getResourceKey()"));
        assertEquals(Optional.of(Set.of("subject")), elements("subject.getReferenceKey(Patient)"));
        assertEquals(Optional.of(Set.of("extension")), elements("extension('http://x').value.ofType(Coding).code"));
        assertEquals(Optional.of(Set.of("note", "code")), elements("note.text | code.text"));
        assertEquals(Optional.of(Set.of("recordedDate", "onset")), elements("recordedDate > onset.ofType(dateTime)"));
        assertEquals(Optional.of(Set.of()), elements("'constant' & %rowIndex"));
    }

    @Test
    void expressionsOnTheResourceItselfAreFollowed()
    {
        assertEquals(Optional.of(Set.of("verificationStatus", "id")), elements("where(verificationStatus.exists()).id"));
        assertEquals(Optional.of(Set.of("code")), elements("Condition.code.text"));
        assertEquals(Optional.of(Set.of("stage")), elements("select(stage).summary"));
        assertEquals(Optional.of(Set.of("evidence")), elements("first().evidence"));
        assertEquals(Optional.of(Set.of("code")), elements("code.where($this.text.exists())"));
    }

    @Test
    void whatCannotBeFollowedGivesNoAnswer()
    {
        assertEquals(Optional.empty(), elements("%resource.code"));
        assertEquals(Optional.empty(), elements("$this"));
    }

    @Test
    void rowDecidingPathsAreAlwaysIncluded()
    {
        ViewDefinition view = view("""
                {"resource": "Observation",
                 "where": [{"path": "status = 'final'"}],
                 "select": [
                   {"column": [{"name": "id", "path": "getResourceKey()"}, {"name": "subject", "path": "subject.reference"}]},
                   {"forEach": "component", "column": [{"name": "code", "path": "code.text"}, {"name": "key", "path": "getResourceKey()"}],
                    "select": [{"forEachOrNull": "interpretation", "column": [{"name": "flag", "path": "coding.code"}]}]},
                   {"unionAll": [
                     {"forEach": "note", "column": [{"name": "text", "path": "text"}]},
                     {"repeat": ["hasMember"], "column": [{"name": "text", "path": "display"}]}]}]}""");
        assertEquals(Optional.of(Set.of("id", "status", "component", "note", "hasMember")), view.topLevelElements(List.of("id")));
        assertEquals(Optional.of(Set.of("status", "component", "note", "hasMember")), view.topLevelElements(List.of("code", "flag", "key", "text")));
        assertEquals(Optional.of(Set.of("status", "subject", "component", "note", "hasMember")), view.topLevelElements(List.of("subject")));
        assertEquals(Optional.of(Set.of("status", "component", "note", "hasMember")), view.topLevelElements(List.of()));
    }

    @Test
    void aTypicalObservationTableNeedsOnlyWhatItsColumnsRead()
    {
        ViewDefinition view = view("""
                {"resource": "Observation", "select": [{"column": [
                  {"name": "id", "path": "getResourceKey()"},
                  {"name": "patient_id", "path": "subject.getReferenceKey(Patient)"},
                  {"name": "code", "path": "code.coding.where(system='http://loinc.org').code.first()"},
                  {"name": "effective", "path": "effective.ofType(dateTime)"},
                  {"name": "value", "path": "value.ofType(Quantity).value"},
                  {"name": "unit", "path": "value.ofType(Quantity).code"},
                  {"name": "security_labels", "path": "meta.security.code", "collection": true}]}]}""");
        assertEquals(Optional.of(Set.of("id", "subject", "code", "value")), view.topLevelElements(List.of("id", "patient_id", "code", "value", "unit")));
        assertEquals(Optional.of(Set.of("effective", "meta")), view.topLevelElements(List.of("effective", "security_labels")));
    }

    @Test
    void unknownColumnsAreAnError()
    {
        ViewDefinition view = columns("code");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> view.topLevelElements(List.of("nope")));
        assertEquals("the view has no column 'nope'", e.getMessage());
    }
}
