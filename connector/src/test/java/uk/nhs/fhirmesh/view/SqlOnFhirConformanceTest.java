package uk.nhs.fhirmesh.view;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Test;
import uk.nhs.fhirmesh.view.ConformanceSuite.Outcome;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Runs every case of the official SQL-on-FHIR suite ({@code -Dsof.tests.dir}, by default the shared copy beside
 * the project), writes the report in the suite's format to {@code target/sql-on-fhir/}, and fails if a
 * shareable case listed in {@code connector-spec/conformance/passing-shareable.json} no longer passes.
 * {@code -Dsof.baseline.update=true} rewrites that baseline and the committed copy of the report from this run.
 */
class SqlOnFhirConformanceTest
{
    private static final Path CONNECTOR = Path.of(System.getProperty("user.dir"));
    private static final Path OUTPUT = CONNECTOR.resolve("target/sql-on-fhir");
    private static final Path SPEC = CONNECTOR.resolve("../connector-spec/conformance").normalize();
    private static final Path BASELINE = SPEC.resolve("passing-shareable.json");

    @Test
    void shareableCasesKeepPassing()
            throws IOException
    {
        Path suite = Path.of(System.getProperty("sof.tests.dir", CONNECTOR.resolve("../../shared/conformance/sql-on-fhir/tests").toString())).normalize();
        if (!Files.isDirectory(suite)) {
            fail("SQL-on-FHIR test suite not found at " + suite + "; point -Dsof.tests.dir at the suite's tests/ folder");
        }
        List<Outcome> outcomes = new ArrayList<>();
        for (Path file : ConformanceSuite.files(suite)) {
            ConformanceSuite.cases(file).forEach(testCase -> outcomes.add(ConformanceSuite.run(testCase)));
        }
        assertTrue(!outcomes.isEmpty(), "no test cases in " + suite);

        Files.createDirectories(OUTPUT);
        Path report = OUTPUT.resolve("test-report.json");
        writeJson(report, report(outcomes));
        String summary = "shareable: " + tally(outcomes, "shareable") + "\nexperimental: " + tally(outcomes, "experimental") + "\n";
        Files.writeString(OUTPUT.resolve("summary.txt"), summary);
        System.out.print(summary);
        outcomes.stream().filter(outcome -> !outcome.passed())
                .forEach(outcome -> System.out.println("FAILED " + outcome.testCase().key() + ": " + outcome.error()));

        Set<String> passingShareable = new TreeSet<>();
        outcomes.stream().filter(outcome -> outcome.passed() && outcome.testCase().tags().contains("shareable"))
                .forEach(outcome -> passingShareable.add(outcome.testCase().key()));
        if (Boolean.getBoolean("sof.baseline.update")) {
            Files.createDirectories(SPEC);
            writeJson(BASELINE, passingShareable);
            Files.copy(report, SPEC.resolve("test-report.json"), StandardCopyOption.REPLACE_EXISTING);
        }
        checkBaseline(passingShareable);
    }

    private static void writeJson(Path file, Object value)
            throws IOException
    {
        Files.writeString(file, ConformanceSuite.PRETTY.writeValueAsString(value) + "\n");
    }

    private static void checkBaseline(Set<String> passingShareable)
            throws IOException
    {
        if (!Files.exists(BASELINE)) {
            fail("baseline " + BASELINE + " is missing; create it with -Dsof.baseline.update=true");
        }
        Set<String> baseline = ConformanceSuite.JSON.readValue(BASELINE.toFile(), new TypeReference<TreeSet<String>>() {});
        Set<String> regressed = new TreeSet<>(baseline);
        regressed.removeAll(passingShareable);
        Set<String> newlyPassing = new TreeSet<>(passingShareable);
        newlyPassing.removeAll(baseline);
        if (!newlyPassing.isEmpty()) {
            System.out.println("Note: shareable cases now passing that are not in " + BASELINE.getFileName() + " (add them with -Dsof.baseline.update=true): " + newlyPassing);
        }
        assertTrue(regressed.isEmpty(), "shareable SQL-on-FHIR cases that passed before now fail: " + regressed);
    }

    /** {@code {"file.json": {"tests": [{"name": ..., "result": {"passed": ..., "error": ...}}]}}} (test-report.schema.json). */
    private static ObjectNode report(List<Outcome> outcomes)
    {
        ObjectNode report = ConformanceSuite.JSON.createObjectNode();
        for (Outcome outcome : outcomes) {
            ObjectNode file = (ObjectNode) report.get(outcome.testCase().file());
            if (file == null) {
                file = report.putObject(outcome.testCase().file());
                file.putArray("tests");
            }
            ObjectNode test = ((ArrayNode) file.get("tests")).addObject();
            test.put("name", outcome.testCase().title());
            ObjectNode result = test.putObject("result").put("passed", outcome.passed());
            if (outcome.error() != null) {
                result.put("error", outcome.error());
            }
        }
        return report;
    }

    private static String tally(List<Outcome> outcomes, String tag)
    {
        List<Outcome> tagged = outcomes.stream().filter(outcome -> outcome.testCase().tags().contains(tag)).toList();
        long passed = tagged.stream().filter(Outcome::passed).count();
        return passed + "/" + tagged.size() + " passed";
    }
}
