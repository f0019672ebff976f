package uk.nhs.fhirmesh.mapping;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TestTableMapping
{
    private static final Path SHIPPED = Path.of("..", "sql-mappings");
    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void everyShippedMappingIsServed()
    {
        MappingRepository repository = new MappingRepository(SHIPPED);
        assertEquals(Set.of("patient", "encounter", "condition", "observation", "observation_component", "medication_request", "procedure"), repository.tables().keySet());
        TableMapping patient = repository.table("patient").orElseThrow();
        assertEquals("Patient", patient.view().resource());
        assertEquals("identifier", patient.binding("nhs_number").orElseThrow().param());
    }

    private static ObjectNode condition()
            throws IOException
    {
        return (ObjectNode) JSON.readTree(SHIPPED.resolve("condition.json").toFile());
    }

    private static String problem(JsonNode mapping)
    {
        return assertThrows(MappingException.class, () -> TableMapping.parse(mapping, "broken.json")).getMessage();
    }

    @Test
    void badMappingsAreRejectedNamingTheProblem()
            throws IOException
    {
        ObjectNode unknownColumn = condition();
        ((ObjectNode) unknownColumn.get("bindings")).putObject("no_such_column").put("param", "code").put("type", "token");
        assertTrue(problem(unknownColumn).contains("binding for unknown column 'no_such_column'"), problem(unknownColumn));

        ObjectNode wrongType = condition();
        ((ObjectNode) wrongType.get("bindings")).putObject("code").put("param", "code").put("type", "date");
        assertTrue(problem(wrongType).contains("a date binding does not fit a column of FHIR type 'code'"), problem(wrongType));

        ObjectNode badTable = condition().put("table", "Condition; DROP");
        assertTrue(problem(badTable).contains("table name"), problem(badTable));

        ObjectNode referenceWithoutTarget = condition();
        ((ObjectNode) referenceWithoutTarget.get("bindings")).putObject("patient_id").put("param", "subject").put("type", "reference");
        assertTrue(problem(referenceWithoutTarget).contains("needs 'target'"), problem(referenceWithoutTarget));

        ObjectNode badView = condition();
        ((ObjectNode) badView.get("view")).remove("resource");
        assertTrue(problem(badView).startsWith("broken.json: invalid ViewDefinition"), problem(badView));
    }

    @Test
    void repositoryPicksUpNewFilesAndReportsBrokenOnesByName(@TempDir Path directory)
            throws IOException
    {
        MappingRepository repository = new MappingRepository(directory);
        assertTrue(repository.tables().isEmpty());

        Files.copy(SHIPPED.resolve("condition.json"), directory.resolve("condition.json"));
        assertEquals(Set.of("condition"), repository.tables().keySet());

        Path broken = directory.resolve("encounter.json");
        Files.writeString(broken, "{\"table\": \"encounter\", ");
        Files.setLastModifiedTime(broken, FileTime.from(Instant.now()));
        assertEquals(Set.of("condition"), repository.tables().keySet(), "a broken file must not hide the others");
        String message = assertThrows(MappingException.class, () -> repository.table("encounter")).getMessage();
        assertTrue(message.startsWith("encounter.json: not valid JSON at line 1"), message);
    }
}
