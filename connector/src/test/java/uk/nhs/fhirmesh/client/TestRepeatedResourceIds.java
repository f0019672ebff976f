package uk.nhs.fhirmesh.client;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import uk.nhs.fhirmesh.exclusion.PatientRegisterReader;
import uk.nhs.fhirmesh.search.FhirSearch;

import java.io.IOException;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static uk.nhs.fhirmesh.client.Bundles.bundle;
import static uk.nhs.fhirmesh.client.Bundles.condition;
import static uk.nhs.fhirmesh.client.Bundles.entry;
import static uk.nhs.fhirmesh.client.Bundles.page;
import static uk.nhs.fhirmesh.client.Bundles.resource;
import static uk.nhs.fhirmesh.client.FhirRequestException.Kind.MALFORMED_RESPONSE;
import static uk.nhs.fhirmesh.client.FhirTestServer.send;

/** A server that repeats entries, within a page or across the pages of one search, fails the search: read twice, rows would count twice. */
class TestRepeatedResourceIds
{
    /** Ids may be sensitive (some servers use NHS numbers): no message may carry one. */
    private static final String REPEATED = "9434765919-sensitive";
    private static final FhirSearch CONDITIONS = FhirSearch.of("Condition").with("code", "http://snomed.info/sct|44054006");

    private final List<AutoCloseable> closeAfterTest = new ArrayList<>();

    @AfterEach
    void closeAll()
            throws Exception
    {
        for (AutoCloseable closeable : closeAfterTest.reversed()) {
            closeable.close();
        }
    }

    private ResourceStream search(FhirTestServer.Handler handler, int pageSize)
            throws IOException
    {
        return searcher(handler, pageSize).open("RX1", CONDITIONS, TraceContext.random());
    }

    /** The client's searches against a server stand-in, as the connector hands them to the patient register too. */
    private PatientRegisterReader.DomainSearch searcher(FhirTestServer.Handler handler, int pageSize)
            throws IOException
    {
        FhirTestServer server = new FhirTestServer(handler);
        closeAfterTest.add(server);
        FhirSearchClient client = new FhirSearchClient(new HttpSettings(Duration.ofSeconds(2), Duration.ofSeconds(10), 3, Duration.ofSeconds(5), 4, 64L << 20));
        closeAfterTest.add(client);
        return (domain, search, trace) -> client.search(new FhirEndpoint(domain, server.base(), null), search, pageSize, trace);
    }

    /** Reads {@code stream} until it fails; the ids read before are added to {@code read}. */
    private static FhirRequestException failure(ResourceStream stream, List<String> read)
    {
        try (stream) {
            return assertThrows(FhirRequestException.class, () -> {
                while (stream.hasNext()) {
                    read.add(stream.next().path("id").asText());
                }
            });
        }
    }

    private static void assertNoId(FhirRequestException e)
    {
        assertFalse(e.getMessage().contains(REPEATED), e.getMessage());
        assertFalse(e.getMessage().contains("9434765919"), e.getMessage());
    }

    @Test
    void failsOnAnIdRepeatedWithinAPage()
            throws IOException
    {
        ResourceStream stream = search((exchange, _) -> send(exchange, 200, page(null, condition(REPEATED), condition("c2"), condition(REPEATED))), 10);
        List<String> read = new ArrayList<>();
        FhirRequestException e = failure(stream, read);

        assertEquals(MALFORMED_RESPONSE, e.kind());
        assertEquals("RX1", e.domain());
        assertEquals("Condition", e.resourceType());
        assertEquals("FHIR domain RX1: Condition search failed: Bundle.entry[2] of page 1 repeats the id of a resource this search has already returned "
                + "(the server repeats entries; its rows would be counted twice)", e.getMessage());
        assertNoId(e);
        assertEquals(List.of(REPEATED, "c2"), read, "the repeat itself is never handed out");
    }

    @Test
    void failsOnAnIdRepeatedOnALaterPage()
            throws IOException
    {
        ResourceStream stream = search((exchange, number) -> {
            String base = FhirTestServer.base(exchange);
            switch (number) {
                case 1 -> send(exchange, 200, page(base + "?_getpages=p&_getpagesoffset=2", condition("c1"), condition(REPEATED)));
                case 2 -> send(exchange, 200, page(base + "?_getpages=p&_getpagesoffset=4", condition("c3"), condition("c4")));
                default -> send(exchange, 200, page(null, condition("c5"), condition(REPEATED)));
            }
        }, 2);
        List<String> read = new ArrayList<>();
        FhirRequestException e = failure(stream, read);

        assertEquals(MALFORMED_RESPONSE, e.kind());
        assertEquals("FHIR domain RX1: Condition search failed on page 3: Bundle.entry[1] repeats the id of a resource this search has already returned "
                + "(the server repeats entries; its rows would be counted twice)", e.getMessage());
        assertNoId(e);
        assertEquals(List.of("c1", REPEATED, "c3", "c4", "c5"), read);
    }

    @Test
    void aNextLinkLoopingBackIsNamedAsTheCauseOfItsRepeatedEntries()
            throws IOException
    {
        // Each page's next link points at the page itself, spelt as the server rewrote the first request (another _count):
        // the first link looks new, so page 1 is served again as page 2, and only page 2's link shows the loop.
        ResourceStream stream = search((exchange, _) -> {
            String itself = FhirTestServer.base(exchange) + "/Condition?_count=5";
            send(exchange, 200, page(itself, condition("c1"), condition("c2")));
        }, 2);
        List<String> read = new ArrayList<>();
        FhirRequestException e = failure(stream, read);

        assertEquals(FhirRequestException.Kind.PAGING, e.kind());
        assertEquals("FHIR domain RX1: Condition search failed on page 2: the next link repeats an earlier page after 2 pages (paging loop)", e.getMessage());
        assertEquals(List.of("c1", "c2"), read);
    }

    @Test
    void includedEntriesNeitherCountNorTrip()
            throws IOException
    {
        // An included resource is not a row: the same id as an include and as a match is no repeat; entry indexes count includes.
        ResourceStream stream = search((exchange, _) -> send(exchange, 200, bundle(null, true, List.of(
                entry(condition("c1"), "match"),
                entry(condition("c1"), "include"),
                entry(condition("c2"), "match"),
                entry(condition("c1"), "match")))), 10);
        List<String> read = new ArrayList<>();
        FhirRequestException e = failure(stream, read);

        assertEquals(List.of("c1", "c2"), read);
        assertTrue(e.getMessage().contains(": Bundle.entry[3] of page 1 repeats the id"), e.getMessage());
    }

    @Test
    void failsOnAResourceWithoutAnId()
            throws IOException
    {
        String noId = "{\"resourceType\":\"Condition\",\"meta\":{\"lastUpdated\":\"2024-05-01T10:00:00.000+00:00\"}}";
        String emptyId = "{\"resourceType\":\"Condition\",\"id\":\"\"}";
        for (String resource : List.of(noId, emptyId)) {
            ResourceStream stream = search((exchange, _) -> send(exchange, 200, page(null, condition("c1"), resource)), 10);
            FhirRequestException e = failure(stream, new ArrayList<>());
            assertEquals(MALFORMED_RESPONSE, e.kind());
            assertEquals("FHIR domain RX1: Condition search failed: Bundle.entry[1] of page 1 has a resource without an id", e.getMessage());
        }
    }

    @Test
    void patientRegisterReadsFailOnARepeatedPatient()
            throws IOException
    {
        // The register of opted-out and known patients (exclusion) reads Patient and Consent through the same streams.
        PatientRegisterReader.DomainSearch searcher = searcher((exchange, _) -> {
            String base = FhirTestServer.base(exchange);
            String path = exchange.getRequestURI().getRawPath();
            if (path.endsWith("/Consent")) {
                send(exchange, 200, page(null));
            }
            else if (path.endsWith("/Patient")) {
                send(exchange, 200, page(base + "?_getpages=p&_getpagesoffset=2", resource("Patient", "p1"), resource("Patient", REPEATED)));
            }
            else {
                send(exchange, 200, page(null, resource("Patient", REPEATED)));
            }
        }, 2);
        FhirRequestException e = assertThrows(FhirRequestException.class,
                () -> new PatientRegisterReader(searcher, "https://example/opt-out-policy", Clock.systemUTC()).read(List.of("RX1"), TraceContext.random()));

        assertEquals(MALFORMED_RESPONSE, e.kind());
        assertEquals("FHIR domain RX1: Patient search failed on page 2: Bundle.entry[0] repeats the id of a resource this search has already returned "
                + "(the server repeats entries; its rows would be counted twice)", e.getMessage());
        assertNoId(e);
    }

    @Test
    void noFalseRepeatAcrossTwoHundredThousandDistinctIds()
            throws IOException
    {
        int pages = 200;
        int perPage = 1000;
        ResourceStream stream = search((exchange, number) -> {
            String[] resources = new String[perPage];
            for (int i = 0; i < perPage; i++) {
                resources[i] = condition("c-%d-%d".formatted(number, i));
            }
            String next = number < pages ? FhirTestServer.base(exchange) + "?_getpages=p&_getpagesoffset=" + number * perPage : null;
            send(exchange, 200, page(next, resources));
        }, perPage);
        long started = System.nanoTime();
        long read = 0;
        try (stream) {
            while (stream.hasNext()) {
                stream.next();
                read++;
            }
        }
        long millis = (System.nanoTime() - started) / 1_000_000;
        System.out.printf("repeat_check_stream_resources: %d%nrepeat_check_stream_ms: %d%n", read, millis);
        assertEquals((long) pages * perPage, read);
        assertEquals(pages, stream.pagesRead());
    }

    @Test
    void setRemembersEveryIdAcrossGrowth()
    {
        int count = 200_000;
        ResourceIdSet ids = new ResourceIdSet();
        long started = System.nanoTime();
        for (int i = 0; i < count; i++) {
            assertTrue(ids.add("Patient-" + i), "a distinct id taken for a repeat: " + i);
        }
        long addNanos = System.nanoTime() - started;
        for (int i = 0; i < count; i++) {
            assertFalse(ids.add("Patient-" + i), "a repeat missed: " + i);
        }
        assertEquals(count, ids.size());
        System.out.printf("repeat_check_set_ids: %d%nrepeat_check_set_ns_per_id: %d%nrepeat_check_set_table_bytes: %d%n",
                count, addNanos / count, ids.tableBytes());
        // 200,000 ids fit in 2^19 slots (at most 3/4 full): 4 MiB, 21 bytes per id.
        assertEquals(8L << 19, ids.tableBytes());
    }

    @Test
    void setHoldsAMillionIdsInSixteenMebibytes()
    {
        ResourceIdSet ids = new ResourceIdSet();
        for (int i = 0; i < 1_000_000; i++) {
            assertTrue(ids.add(Integer.toHexString(i * 31 + 7)), "a distinct id taken for a repeat: " + i);
        }
        System.out.printf("repeat_check_set_bytes_per_million_ids: %d%n", ids.tableBytes());
        assertEquals(16L << 20, ids.tableBytes());
    }
}
