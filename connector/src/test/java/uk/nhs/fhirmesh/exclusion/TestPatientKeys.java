package uk.nhs.fhirmesh.exclusion;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import uk.nhs.fhirmesh.mapping.TableMapping;
import uk.nhs.fhirmesh.view.ViewDefinition;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;

class TestPatientKeys
{
    private static final Path MAPPINGS = Path.of("..", "sql-mappings");

    private static TableMapping mapping(String table)
            throws IOException
    {
        return TableMapping.parse(new ObjectMapper().readTree(MAPPINGS.resolve(table + ".json").toFile()), table + ".json");
    }

    private static ViewDefinition view(String json)
            throws IOException
    {
        return ViewDefinition.parse(new ObjectMapper().readTree(json.replace('\'', '"')));
    }

    @Test
    void thePublishedMappingsHaveTheGatewaysPatientKeys()
            throws IOException
    {
        assertEquals(List.of("id"), PatientKeys.columns(mapping("patient").view()));
        for (String table : List.of("encounter", "condition", "observation", "observation_component", "procedure", "medication_request")) {
            assertEquals(List.of("patient_id"), PatientKeys.columns(mapping(table).view()), table);
        }
        assertEquals(List.of("patient_id"), PatientKeys.columns(mapping("consent").view()));
    }

    @Test
    void keysAreReadFromTheElementsTheProjectionThenFetches()
            throws IOException
    {
        assertEquals(Optional.of(Set.of("subject")), mapping("encounter").view().topLevelElements(PatientKeys.columns(mapping("encounter").view())));
        TableMapping patient = mapping("patient");
        int[] slots = PatientKeys.slots(patient.view());
        assertEquals("id", patient.view().columns().get(slots[0]).name());
    }

    @Test
    void onlyColumnsWhoseEveryPathIsAPatientKeyCount()
            throws IOException
    {
        ViewDefinition observation = view("""
                {'resourceType':'ViewDefinition','name':'o','resource':'Observation','status':'active','select':[
                  {'column':[{'name':'id','path':'getResourceKey()'},{'name':'performer_id','path':'performer.getReferenceKey(Practitioner)'},
                             {'name':'subject_id','path':'subject . getReferenceKey( Patient )'},
                             {'name':'first_subject','path':'subject.getReferenceKey(Patient).first()'}]},
                  {'unionAll':[{'column':[{'name':'who','path':'subject.getReferenceKey(Patient)'}]},{'column':[{'name':'who','path':'performer.getReferenceKey(Patient)'}]}]},
                  {'unionAll':[{'column':[{'name':'mixed','path':'subject.getReferenceKey(Patient)'}]},{'column':[{'name':'mixed','path':'subject.reference'}]}]}]}
                """);
        assertEquals(List.of("subject_id", "first_subject", "who"), PatientKeys.columns(observation));
        // getResourceKey() is a Patient key only in a Patient view.
        ViewDefinition patient = view("{'resourceType':'ViewDefinition','name':'p','resource':'Patient','status':'active','select':[{'column':[{'name':'pid','path':'getResourceKey()'},{'name':'link','path':'link.other.getReferenceKey(Patient)'}]}]}");
        assertEquals(List.of("pid", "link"), PatientKeys.columns(patient));
    }
}
