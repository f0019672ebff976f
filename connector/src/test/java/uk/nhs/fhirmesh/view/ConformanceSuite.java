package uk.nhs.fhirmesh.view;

import com.fasterxml.jackson.core.util.DefaultIndenter;
import com.fasterxml.jackson.core.util.DefaultPrettyPrinter;
import com.fasterxml.jackson.core.util.Separators;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.ObjectWriter;
import com.fasterxml.jackson.databind.cfg.JsonNodeFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigDecimal;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * Reads the SQL-on-FHIR conformance suite (one JSON file of resources and test cases per feature) and runs a
 * case against {@link ViewDefinition}, judging it the way the reference runner does: rows as an unordered
 * multiset, numbers by value (1 = 1.0), arrays element by element, every row with exactly the expected keys
 * (explicit nulls), and {@code expectColumns} as the exact column order.
 */
final class ConformanceSuite
{
    /** Decimals exactly as written (1.0 stays 1.0), which lowBoundary()/highBoundary() depend on. */
    static final ObjectMapper JSON = JsonMapper.builder()
            .enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS)
            .disable(JsonNodeFeature.STRIP_TRAILING_BIGDECIMAL_ZEROES)
            .build();

    /** Reports and the baseline as reviewable JSON: one array element per line, {@code "key": value}. */
    static final ObjectWriter PRETTY = JSON.writer(new DefaultPrettyPrinter()
            .withSeparators(Separators.createDefaultInstance().withObjectFieldValueSpacing(Separators.Spacing.AFTER))
            .withArrayIndenter(DefaultIndenter.SYSTEM_LINEFEED_INSTANCE));

    record Case(String file, String title, List<String> tags, JsonNode test, List<JsonNode> resources)
    {
        String key()
        {
            return file + " / " + title;
        }
    }

    record Outcome(Case testCase, boolean passed, String error) {}

    private ConformanceSuite() {}

    static List<Path> files(Path directory)
    {
        try (Stream<Path> files = Files.list(directory)) {
            return files.filter(file -> file.getFileName().toString().endsWith(".json")).sorted().toList();
        }
        catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static List<Case> cases(Path file)
    {
        JsonNode suite;
        try {
            suite = JSON.readTree(file.toFile());
        }
        catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file, e);
        }
        List<JsonNode> resources = new ArrayList<>();
        suite.path("resources").forEach(resources::add);
        List<Case> cases = new ArrayList<>();
        for (JsonNode test : suite.path("tests")) {
            List<String> tags = new ArrayList<>();
            test.path("tags").forEach(tag -> tags.add(tag.asText()));
            cases.add(new Case(file.getFileName().toString(), test.path("title").asText(), tags, test, resources));
        }
        return cases;
    }

    static Outcome run(Case testCase)
    {
        JsonNode test = testCase.test();
        boolean expectError = test.path("expectError").asBoolean(false);
        ViewDefinition view;
        List<Map<String, Object>> rows = new ArrayList<>();
        try {
            view = ViewDefinition.parse(test.get("view"));
            for (JsonNode resource : testCase.resources()) {
                view.evaluate(resource, row -> rows.add(named(view, row)));
            }
        }
        catch (ViewDefinitionException | ViewEvaluationException e) {
            return expectError
                    ? new Outcome(testCase, true, null)
                    : new Outcome(testCase, false, e.getClass().getSimpleName() + ": " + e.getMessage());
        }
        catch (RuntimeException e) {
            return new Outcome(testCase, false, "unexpected " + e);
        }
        if (expectError) {
            return new Outcome(testCase, false, "expected an error, but the view gave " + rows.size() + " rows");
        }
        String problem = columnsProblem(test, view);
        if (problem == null) {
            problem = test.has("expectCount") ? countProblem(test.get("expectCount").asInt(), rows) : rowsProblem(test.path("expect"), rows);
        }
        return new Outcome(testCase, problem == null, problem);
    }

    private static Map<String, Object> named(ViewDefinition view, Object[] row)
    {
        Map<String, Object> named = new LinkedHashMap<>();
        for (int i = 0; i < row.length; i++) {
            named.put(view.columns().get(i).name(), row[i]);
        }
        return named;
    }

    private static String columnsProblem(JsonNode test, ViewDefinition view)
    {
        if (!test.has("expectColumns")) {
            return null;
        }
        List<String> expected = new ArrayList<>();
        test.get("expectColumns").forEach(column -> expected.add(column.asText()));
        List<String> actual = view.columns().stream().map(ViewColumn::name).toList();
        return expected.equals(actual) ? null : "expected columns " + expected + " but got " + actual;
    }

    private static String countProblem(int expected, List<Map<String, Object>> rows)
    {
        return rows.size() == expected ? null : "expected " + expected + " rows but got " + rows.size();
    }

    private static String rowsProblem(JsonNode expect, List<Map<String, Object>> rows)
    {
        List<String> expected = new ArrayList<>();
        expect.forEach(row -> expected.add(canonical(row)));
        List<String> actual = new ArrayList<>();
        rows.forEach(row -> actual.add(canonical(row)));
        Collections.sort(expected);
        Collections.sort(actual);
        if (expected.equals(actual)) {
            return null;
        }
        List<String> missing = new ArrayList<>(expected);
        actual.forEach(missing::remove);
        List<String> unexpected = new ArrayList<>(actual);
        expected.forEach(unexpected::remove);
        return "expected " + expected.size() + " rows, got " + actual.size() + "; missing " + missing + "; unexpected " + unexpected;
    }

    /** A value in a form where equal values are equal strings: numbers by value, object keys sorted. */
    static String canonical(Object value)
    {
        return switch (value) {
            case null -> "null";
            case JsonNode node when node.isNull() -> "null";
            case JsonNode node when node.isNumber() -> number(node.decimalValue());
            case JsonNode node when node.isTextual() -> quote(node.textValue());
            case JsonNode node when node.isBoolean() -> Boolean.toString(node.booleanValue());
            case JsonNode node when node.isArray() -> {
                List<Object> items = new ArrayList<>();
                node.forEach(items::add);
                yield canonical(items);
            }
            case JsonNode node -> {
                Map<String, Object> fields = new LinkedHashMap<>();
                for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
                    Map.Entry<String, JsonNode> field = it.next();
                    fields.put(field.getKey(), field.getValue());
                }
                yield canonical(fields);
            }
            case Long number -> number(BigDecimal.valueOf(number));
            case BigDecimal number -> number(number);
            case Boolean bool -> bool.toString();
            case String text -> quote(text);
            case List<?> list -> {
                List<String> items = new ArrayList<>();
                list.forEach(item -> items.add(canonical(item)));
                yield "[" + String.join(",", items) + "]";
            }
            case Map<?, ?> map -> {
                Map<String, String> sorted = new TreeMap<>();
                map.forEach((key, item) -> sorted.put(key.toString(), canonical(item)));
                List<String> fields = new ArrayList<>();
                sorted.forEach((key, item) -> fields.add(quote(key) + ":" + item));
                yield "{" + String.join(",", fields) + "}";
            }
            default -> "?" + value.getClass().getSimpleName() + ":" + value;
        };
    }

    private static String number(BigDecimal number)
    {
        return number.signum() == 0 ? "0" : number.stripTrailingZeros().toPlainString();
    }

    private static String quote(String text)
    {
        try {
            return JSON.writeValueAsString(text);
        }
        catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
