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
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TestTableMapping
{
    private static final Path SHIPPED = Path.of("..", "sql-mappings");
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Path SCHEMA = Path.of("..", "connector-spec", "mapping.schema.json");

    @Test
    void everyShippedMappingIsServed()
    {
        MappingRepository repository = new MappingRepository(SHIPPED);
        assertEquals(Set.of("patient", "encounter", "condition", "observation", "observation_component", "medication_request", "procedure", "consent"), repository.tables().keySet());
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
    void domainsAreOptionalAndUpperCasedLikeTheCatalogs()
            throws IOException
    {
        assertEquals(Optional.empty(), TableMapping.parse(condition(), "condition.json").domains(), "absent means every domain");
        ObjectNode owned = condition();
        owned.putArray("domains").add("rx1").add("RTH");
        assertEquals(Optional.of(List.of("RX1", "RTH")), TableMapping.parse(owned, "condition.json").domains());
    }

    @Test
    void badDomainsAreRejectedNamingTableAndField()
            throws IOException
    {
        ObjectNode notArray = condition().put("domains", "RX1");
        assertTrue(problem(notArray).startsWith("broken.json: 'domains' of table 'condition' must be a non-empty array"), problem(notArray));

        ObjectNode nullValue = condition().putNull("domains");
        assertTrue(problem(nullValue).contains("'domains' of table 'condition' must be a non-empty array"), problem(nullValue));

        ObjectNode empty = condition();
        empty.putArray("domains");
        assertTrue(problem(empty).contains("'domains' of table 'condition' must be a non-empty array"), problem(empty));

        ObjectNode notString = condition();
        notString.putArray("domains").add("RX1").add(42);
        assertTrue(problem(notString).contains("'domains' of table 'condition': 42 is not a domain code"), problem(notString));

        ObjectNode notCode = condition();
        notCode.putArray("domains").add("RX-1");
        assertTrue(problem(notCode).contains("'domains' of table 'condition': \"RX-1\" is not a domain code"), problem(notCode));

        ObjectNode duplicate = condition();
        duplicate.putArray("domains").add("RX1").add("rx1");
        assertTrue(problem(duplicate).contains("'domains' of table 'condition': domain RX1 is listed twice"), problem(duplicate));
    }

    @Test
    void knowsExactlyTheTopLevelKeysTheSchemaDocuments()
            throws IOException
    {
        JsonNode schema = JSON.readTree(SCHEMA.toFile());
        Set<String> documented = new TreeSet<>();
        schema.get("properties").fieldNames().forEachRemaining(documented::add);
        assertEquals(documented, new TreeSet<>(TableMapping.TOP_LEVEL_KEYS));
        assertEquals("^" + TableMapping.DOMAIN_CODE.pattern() + "$", schema.at("/properties/domains/items/pattern").asText());
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
