package uk.nhs.fhirmesh.trino;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpServer;
import io.trino.spi.connector.ConnectorSplit;
import io.trino.spi.connector.ConnectorSplitSource;
import io.trino.spi.connector.Constraint;
import io.trino.spi.connector.DynamicFilter;
import io.trino.spi.connector.SchemaTableName;
import io.trino.spi.connector.SortOrder;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import uk.nhs.fhirmesh.client.FhirSearchClient;
import uk.nhs.fhirmesh.client.HttpSettings;
import uk.nhs.fhirmesh.client.ResourceStream;
import uk.nhs.fhirmesh.mapping.TableMapping;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.OptionalLong;
import java.util.concurrent.ConcurrentLinkedQueue;

import static io.trino.spi.type.VarcharType.VARCHAR;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * ORDER BY last_updated LIMIT n as FHIR _sort: which columns and orders qualify, what the splits ask for
 * when the server applies the sort and when it ignores it, and how rows without a value are counted.
 */
class TestTopNPushdown
{
    private static final Path SHIPPED = Path.of("..", "sql-mappings");
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path mappings;
    private HttpServer server;
    private final ConcurrentLinkedQueue<String> queries = new ConcurrentLinkedQueue<>();
    private volatile boolean serverSorts = true;
    private FhirSearchClient client;
    private FhirCatalog catalog;

    @BeforeEach
    void start()
            throws IOException
    {
        for (String table : List.of("condition", "observation_component")) {
            Files.copy(SHIPPED.resolve(table + ".json"), mappings.resolve(table + ".json"));
        }
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/", exchange -> {
            String query = exchange.getRequestURI().getRawQuery();
            queries.add(query);
            // The self link names the parameters the server used: a server that cannot sort leaves _sort out.
            String used = serverSorts ? query : query.replaceAll("&?_sort=[^&]*", "");
            String self = "http://127.0.0.1/fhir/rx1/Condition?" + used;
            byte[] body = ("{\"resourceType\":\"Bundle\",\"type\":\"searchset\",\"total\":1,\"link\":[{\"relation\":\"self\",\"url\":\"" + self + "\"}]}").getBytes(UTF_8);
            exchange.getResponseHeaders().set("Content-Type", "application/fhir+json");
            exchange.sendResponseHeaders(200, body.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(body);
            }
        });
        server.start();
        catalog = new FhirCatalog(FhirConfig.parse(Map.of(
                "connector.name", "fhir",
                "fhir.domains", "RX1",
                "fhir.domain.RX1.base-url", "http://127.0.0.1:" + server.getAddress().getPort() + "/fhir/rx1",
                "fhir.mappings.dir", mappings.toString())), Optional.empty());
        client = new FhirSearchClient(new HttpSettings(Duration.ofSeconds(5), Duration.ofSeconds(5), 1, Duration.ZERO, 4, 1L << 20));
    }

    @AfterEach
    void stop()
    {
        client.close();
        server.stop(0);
    }

    private TableMapping mapping(String table)
    {
        return catalog.mapping(new SchemaTableName(FhirCatalog.SCHEMA, table));
    }

    private static FhirColumnHandle column(TableMapping mapping, String name)
    {
        return FhirMetadata.columns(mapping).stream().filter(column -> column.name().equals(name)).findFirst().orElseThrow();
    }

    private static Optional<FhirSort> sort(TableMapping mapping, String column, SortOrder order)
    {
        return FhirSort.of(mapping, column(mapping, column), order);
    }

    @Test
    void onlyLastUpdatedWithNullsLastIsPushed()
    {
        TableMapping condition = mapping("condition");
        assertEquals(Optional.of(new FhirSort("last_updated", true)), sort(condition, "last_updated", SortOrder.DESC_NULLS_LAST));
        assertEquals("-_lastUpdated", sort(condition, "last_updated", SortOrder.DESC_NULLS_LAST).orElseThrow().parameter());
        assertEquals("_lastUpdated", sort(condition, "last_updated", SortOrder.ASC_NULLS_LAST).orElseThrow().parameter());
        assertEquals(Optional.empty(), sort(condition, "last_updated", SortOrder.ASC_NULLS_FIRST));
        assertEquals(Optional.empty(), sort(condition, "last_updated", SortOrder.DESC_NULLS_FIRST));
        // Bound to search parameters with _sort support in FHIR, but partial dates and several values sort by FHIR's rules.
        assertEquals(Optional.empty(), sort(condition, "onset", SortOrder.ASC_NULLS_LAST));
        assertEquals(Optional.empty(), sort(condition, "recorded_date", SortOrder.DESC_NULLS_LAST));
        assertEquals(Optional.empty(), sort(condition, "id", SortOrder.ASC_NULLS_LAST));
        assertEquals(Optional.empty(), FhirSort.of(condition, new FhirColumnHandle("domain", VARCHAR), SortOrder.ASC_NULLS_LAST));
        // Several rows per resource (forEach component) all carry the resource's last_updated: still exact.
        assertEquals(Optional.of(new FhirSort("last_updated", false)), sort(mapping("observation_component"), "last_updated", SortOrder.ASC_NULLS_LAST));
    }

    @Test
    void aColumnNotReadFromTheResourceItselfIsNotPushed()
            throws IOException
    {
        ObjectNode moved = (ObjectNode) JSON.readTree(SHIPPED.resolve("observation_component.json").toFile());
        // last_updated read inside forEach component: each row's value comes from the component, not the resource.
        JsonNode select = moved.path("view").path("select");
        ObjectNode top = (ObjectNode) select.get(0);
        ObjectNode perComponent = (ObjectNode) select.get(1);
        List<JsonNode> kept = new ArrayList<>();
        JsonNode lastUpdated = null;
        for (JsonNode column : top.get("column")) {
            if (column.path("name").asText().equals("last_updated")) {
                lastUpdated = column;
            }
            else {
                kept.add(column);
            }
        }
        top.putArray("column").addAll(kept);
        ((ArrayNode) perComponent.get("column")).add(lastUpdated);
        moved.put("table", "moved");
        JSON.writeValue(mappings.resolve("moved.json").toFile(), moved);
        assertEquals(Optional.empty(), sort(mapping("moved"), "last_updated", SortOrder.ASC_NULLS_LAST));

        ObjectNode rewritten = (ObjectNode) JSON.readTree(SHIPPED.resolve("condition.json").toFile());
        for (JsonNode column : rewritten.path("view").path("select").get(0).get("column")) {
            if (column.path("name").asText().equals("last_updated")) {
                ((ObjectNode) column).put("path", "meta.lastUpdated.first()");
            }
        }
        rewritten.put("table", "rewritten");
        JSON.writeValue(mappings.resolve("rewritten.json").toFile(), rewritten);
        assertEquals(Optional.empty(), sort(mapping("rewritten"), "last_updated", SortOrder.ASC_NULLS_LAST));
    }

    private List<FhirSplit> splits(FhirTableHandle handle)
            throws Exception
    {
        try (ConnectorSplitSource source = new FhirSplitManager(catalog, client).getSplits(null, Sessions.session(catalog.config()), handle, DynamicFilter.EMPTY, Constraint.alwaysTrue())) {
            List<ConnectorSplit> splits = source.getNextBatch(1000).get().getSplits();
            return splits.stream().map(FhirSplit.class::cast).toList();
        }
    }

    private FhirTableHandle topN()
    {
        FhirTableHandle scan = (FhirTableHandle) new FhirMetadata(catalog).getTableHandle(Sessions.session(catalog.config(), Map.of()), new SchemaTableName(FhirCatalog.SCHEMA, "condition"), Optional.empty(), Optional.empty());
        return scan.withTopN(new FhirSort("last_updated", true), 7);
    }

    @Test
    void aServerThatSortsGetsSortAndLimit()
            throws Exception
    {
        FhirTableHandle handle = topN();
        assertEquals("condition domains=RX1 search=Condition?_sort=-_lastUpdated limit=7 mapping=" + handle.mapping().shortHash(), handle.toString());
        List<FhirSplit> splits = splits(handle);
        assertEquals(1, splits.size());
        assertEquals("Condition?_sort=-_lastUpdated", splits.getFirst().search().relativeUrl());
        assertEquals(OptionalLong.of(7), splits.getFirst().rowLimit());
        assertEquals(List.of("_sort=-_lastUpdated&_count=1&_elements=id"), List.copyOf(queries), "one probe, then nothing until the split runs");
    }

    @Test
    void aServerThatIgnoresTheSortIsReadWhole()
            throws Exception
    {
        serverSorts = false;
        List<FhirSplit> splits = splits(topN());
        assertEquals(1, splits.size());
        assertEquals("Condition", splits.getFirst().search().relativeUrl());
        assertEquals(OptionalLong.empty(), splits.getFirst().rowLimit(), "its first rows are not the first in order, so all are read and Trino sorts");
    }

    @Test
    void rowsWithoutTheSortValueDoNotCountTowardsTheLimit()
            throws IOException
    {
        TableMapping condition = mapping("condition");
        List<JsonNode> resources = new ArrayList<>();
        for (String resource : List.of(
                "{\"resourceType\":\"Condition\",\"id\":\"a\",\"meta\":{\"lastUpdated\":\"2025-03-01T10:00:00Z\"}}",
                "{\"resourceType\":\"Condition\",\"id\":\"no-meta-1\"}",
                "{\"resourceType\":\"Condition\",\"id\":\"b\",\"meta\":{\"lastUpdated\":\"2025-02-01T10:00:00Z\"}}",
                "{\"resourceType\":\"Condition\",\"id\":\"no-meta-2\"}",
                "{\"resourceType\":\"Condition\",\"id\":\"c\",\"meta\":{\"lastUpdated\":\"2025-01-01T10:00:00Z\"}}")) {
            resources.add(JSON.readTree(resource));
        }
        int idSlot = indexOf(condition, "id");
        int lastUpdatedSlot = indexOf(condition, "last_updated");
        assertEquals(List.of("a", "no-meta-1", "b"), readIds(condition, resources, idSlot, OptionalInt.of(lastUpdatedSlot)));
        // A plain LIMIT counts every row.
        assertEquals(List.of("a", "no-meta-1"), readIds(condition, resources, idSlot, OptionalInt.empty()));
    }

    private static int indexOf(TableMapping mapping, String column)
    {
        List<String> names = mapping.view().columns().stream().map(c -> c.name()).toList();
        return names.indexOf(column);
    }

    private static List<String> readIds(TableMapping mapping, List<JsonNode> resources, int idSlot, OptionalInt limitKey)
    {
        FhirRecordCursor cursor = new FhirRecordCursor("condition", "RX1", mapping.view(), List.of("id"), List.of(VARCHAR), new int[] {idSlot},
                () -> new ListStream(resources), OptionalLong.of(2), limitKey, false, Optional.empty());
        List<String> ids = new ArrayList<>();
        while (cursor.advanceNextPosition()) {
            ids.add(cursor.getSlice(0).toStringUtf8());
        }
        return ids;
    }

    /** Resources already in memory, standing in for a search's pages. */
    private static final class ListStream
            implements ResourceStream
    {
        private final Iterator<JsonNode> resources;
        private long read;

        ListStream(List<JsonNode> resources)
        {
            this.resources = resources.iterator();
        }

        @Override
        public boolean hasNext()
        {
            return resources.hasNext();
        }

        @Override
        public JsonNode next()
        {
            read++;
            return resources.next();
        }

        @Override
        public long resourcesRead()
        {
            return read;
        }

        @Override
        public long pagesRead()
        {
            return 0;
        }

        @Override
        public void close() {}
    }
}
