package uk.nhs.fhirmesh.bench;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import uk.nhs.fhirmesh.mapping.MappingRepository;
import uk.nhs.fhirmesh.mapping.TableMapping;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Flattening throughput of the ViewDefinition evaluator on one thread (= one core): each shipped table
 * over its resource type's synthetic NDJSON, repeated until the set is large, parsing each line as the
 * connector parses a Bundle entry. Prints {@code name: value} lines for {@code npm run bench:connector}.
 * Usage: FlattenBenchmark <synthetic dir> <mappings dir> [target resources per table]
 */
public final class FlattenBenchmark
{
    private FlattenBenchmark() {}

    public static void main(String[] args)
            throws IOException
    {
        Path synthetic = Path.of(args[0]);
        Map<String, TableMapping> tables = new MappingRepository(Path.of(args[1])).tables();
        int target = args.length > 2 ? Integer.parseInt(args[2]) : 200_000;
        ObjectMapper json = new ObjectMapper()
                .enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS)
                .setNodeFactory(JsonNodeFactory.withExactBigDecimals(true));

        long totalRows = 0;
        long totalNanos = 0;
        long totalResources = 0;
        for (TableMapping table : tables.values()) {
            List<byte[]> lines = ndjson(synthetic, table.view().resource());
            if (lines.isEmpty()) {
                continue;
            }
            // Warm-up pass so the JIT has compiled the evaluator before timing.
            run(table, lines, json, Math.min(target / 4, 50_000));
            long start = System.nanoTime();
            long[] rows = run(table, lines, json, target);
            long nanos = System.nanoTime() - start;
            totalRows += rows[0];
            totalResources += rows[1];
            totalNanos += nanos;
            System.out.printf("flatten_%s_rows_per_second: %.0f%n", table.table(), rows[0] / (nanos / 1e9));
        }
        System.out.printf("flatten_resources: %d%n", totalResources);
        System.out.printf("flatten_rows: %d%n", totalRows);
        System.out.printf("flatten_rows_per_second_per_core: %.0f%n", totalRows / (totalNanos / 1e9));
    }

    /** Returns {rows, resources}. */
    private static long[] run(TableMapping table, List<byte[]> lines, ObjectMapper json, int resources)
            throws IOException
    {
        long[] rows = new long[1];
        for (int i = 0; i < resources; i++) {
            JsonNode resource = json.readTree(lines.get(i % lines.size()));
            table.view().evaluate(resource, row -> rows[0]++);
        }
        return new long[] {rows[0], resources};
    }

    private static List<byte[]> ndjson(Path synthetic, String resourceType)
            throws IOException
    {
        List<byte[]> lines = new ArrayList<>();
        try (var domains = Files.list(synthetic)) {
            for (Path domain : domains.filter(Files::isDirectory).sorted().toList()) {
                Path file = domain.resolve(resourceType + ".ndjson");
                if (Files.exists(file)) {
                    for (String line : Files.readAllLines(file)) {
                        if (!line.isBlank()) {
                            lines.add(line.getBytes(java.nio.charset.StandardCharsets.UTF_8));
                        }
                    }
                }
            }
        }
        return lines;
    }
}
