package uk.nhs.fhirmesh.trino;

import com.sun.net.httpserver.HttpServer;
import io.trino.spi.connector.ColumnHandle;
import io.trino.spi.connector.ConnectorSplit;
import io.trino.spi.connector.ConnectorSplitSource;
import io.trino.spi.connector.Constraint;
import io.trino.spi.connector.DynamicFilter;
import io.trino.spi.connector.SchemaTableName;
import io.trino.spi.predicate.Domain;
import io.trino.spi.predicate.Range;
import io.trino.spi.predicate.TupleDomain;
import io.trino.spi.predicate.ValueSet;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import uk.nhs.fhirmesh.client.FhirSearchClient;
import uk.nhs.fhirmesh.client.HttpSettings;
import uk.nhs.fhirmesh.mapping.TableMapping;
import uk.nhs.fhirmesh.search.FhirSearch;
import uk.nhs.fhirmesh.search.SearchTranslator;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static io.trino.spi.type.DateTimeEncoding.packDateTimeWithZone;
import static io.trino.spi.type.TimeZoneKey.UTC_KEY;
import static io.trino.spi.type.TimestampWithTimeZoneType.TIMESTAMP_TZ_MILLIS;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * A domain with more matches than one split should read is cut into disjoint _lastUpdated slices; a
 * last_updated filter already in the search must not leave two bounds in one direction, which HAPI refuses.
 */
class TestSplitSlicing
{
    @TempDir
    Path mappings;
    private HttpServer server;
    private FhirSearchClient client;
    private FhirCatalog catalog;
    private volatile String highestLastUpdated = "2024-01-05T00:00:00Z";

    @BeforeEach
    void start()
            throws IOException
    {
        Files.copy(Path.of("..", "sql-mappings", "condition.json"), mappings.resolve("condition.json"));
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/", exchange -> {
            String query = exchange.getRequestURI().getQuery();
            String body;
            if (query.contains("_summary=count")) {
                body = "{\"resourceType\":\"Bundle\",\"type\":\"searchset\",\"total\":10}";
            }
            else {
                // The lowest and highest meta.lastUpdated lookups: four days apart.
                String lastUpdated = query.contains("_sort=-_lastUpdated") ? highestLastUpdated : "2024-01-01T00:00:00Z";
                body = "{\"resourceType\":\"Bundle\",\"type\":\"searchset\",\"entry\":[{\"resource\":{\"resourceType\":\"Condition\",\"id\":\"c1\",\"meta\":{\"lastUpdated\":\"" + lastUpdated + "\"}}}]}";
            }
            byte[] bytes = body.getBytes(UTF_8);
            exchange.getResponseHeaders().set("Content-Type", "application/fhir+json");
            exchange.sendResponseHeaders(200, bytes.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(bytes);
            }
        });
        server.start();
        catalog = new FhirCatalog(FhirConfig.parse(Map.of(
                "connector.name", "fhir",
                "fhir.domains", "RX1",
                "fhir.domain.RX1.base-url", "http://127.0.0.1:" + server.getAddress().getPort() + "/fhir/rx1",
                "fhir.mappings.dir", mappings.toString(),
                "fhir.split.resources-per-split", "3",
                "fhir.split.max-per-domain", "4")), Optional.empty());
        client = new FhirSearchClient(new HttpSettings(Duration.ofSeconds(5), Duration.ofSeconds(5), 1, Duration.ZERO, 4, 1L << 20));
    }

    @AfterEach
    void stop()
    {
        client.close();
        server.stop(0);
    }

    private List<String> sliceSearches(Domain lastUpdated)
            throws Exception
    {
        TableMapping mapping = catalog.mapping(new SchemaTableName(FhirCatalog.SCHEMA, "condition"));
        FhirColumnHandle column = FhirMetadata.columns(mapping).stream().filter(handle -> handle.name().equals("last_updated")).findFirst().orElseThrow();
        TupleDomain<ColumnHandle> constraint = TupleDomain.withColumnDomains(Map.of(column, lastUpdated));
        FhirSearch search = SearchTranslator.translate(mapping, TupleDomain.withColumnDomains(Map.of("last_updated", lastUpdated)), Map.of("last_updated", TIMESTAMP_TZ_MILLIS), List.of());
        FhirTableHandle handle = FhirTableHandle.scanAll(new SchemaTableName(FhirCatalog.SCHEMA, "condition"),
                catalog.findPublished(new SchemaTableName(FhirCatalog.SCHEMA, "condition")).orElseThrow().snapshot(), List.of("RX1"), List.of(), List.of(), "Condition").withFilter(List.of("RX1"), constraint, List.of(), search);
        try (ConnectorSplitSource source = new FhirSplitManager(catalog, client).getSplits(null, Sessions.session(catalog.config()), handle, DynamicFilter.EMPTY, Constraint.alwaysTrue())) {
            List<ConnectorSplit> splits = source.getNextBatch(1000).get().getSplits();
            return splits.stream().map(split -> ((FhirSplit) split).search().toString()).toList();
        }
    }

    private static long instant(String text)
    {
        return packDateTimeWithZone(Instant.parse(text).toEpochMilli(), UTC_KEY);
    }

    @Test
    void sliceBoundsReplaceAFilterBoundInTheirDirection()
            throws Exception
    {
        Domain between = Domain.create(ValueSet.ofRanges(Range.range(TIMESTAMP_TZ_MILLIS, instant("2023-06-01T00:00:00Z"), true, instant("2025-01-01T00:00:00Z"), true)), false);
        assertEquals(List.of(
                "Condition?_lastUpdated=ge2023-06-01T00:00:00Z&_lastUpdated=lt2024-01-02T00:00:00Z",
                "Condition?_lastUpdated=ge2024-01-02T00:00:00Z&_lastUpdated=lt2024-01-03T00:00:00Z",
                "Condition?_lastUpdated=ge2024-01-03T00:00:00Z&_lastUpdated=lt2024-01-04T00:00:00Z",
                "Condition?_lastUpdated=le2025-01-01T00:00:00Z&_lastUpdated=ge2024-01-04T00:00:00Z"), sliceSearches(between));
    }

    @Test
    void withoutAFilterTheOuterSlicesAreOpenEnded()
            throws Exception
    {
        assertEquals(List.of(
                "Condition?_lastUpdated=lt2024-01-02T00:00:00Z",
                "Condition?_lastUpdated=ge2024-01-02T00:00:00Z&_lastUpdated=lt2024-01-03T00:00:00Z",
                "Condition?_lastUpdated=ge2024-01-03T00:00:00Z&_lastUpdated=lt2024-01-04T00:00:00Z",
                "Condition?_lastUpdated=ge2024-01-04T00:00:00Z"), sliceSearches(Domain.all(TIMESTAMP_TZ_MILLIS)));
    }

    @Test
    void aBoundBeforeYearOneIsNotSentAndSlicingIsAsWithoutIt()
            throws Exception
    {
        // Year-of-era once sent -3000 as ge3001-..., which the first slice kept: it matched nothing.
        long minus3000 = packDateTimeWithZone(LocalDateTime.of(-3000, 1, 1, 0, 0).toInstant(ZoneOffset.UTC).toEpochMilli(), UTC_KEY);
        assertEquals(sliceSearches(Domain.all(TIMESTAMP_TZ_MILLIS)), sliceSearches(Domain.create(ValueSet.ofRanges(Range.greaterThan(TIMESTAMP_TZ_MILLIS, minus3000)), false)));
    }

    @Test
    void aServerInstantBeyondYear9999IsReadInOneSplit()
            throws Exception
    {
        // Slice bounds between such instants would have no FHIR spelling ("+10000-...").
        highestLastUpdated = "+10000-01-05T00:00:00Z";
        assertEquals(List.of("Condition"), sliceSearches(Domain.all(TIMESTAMP_TZ_MILLIS)));
    }
}
