package uk.nhs.fhirmesh.exclusion;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import uk.nhs.fhirmesh.client.FhirRequestException;
import uk.nhs.fhirmesh.client.ResourceStream;
import uk.nhs.fhirmesh.client.TraceContext;

import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.OptionalInt;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TestPatientRegisterReader
{
    private static final String NDOP = "https://digital.nhs.uk/services/national-data-opt-out/operational-policy-guidance-document";
    private static final Clock CLOCK = Clock.fixed(Instant.parse("2026-06-01T12:00:00Z"), ZoneOffset.UTC);

    private static JsonNode json(String text)
    {
        try {
            return new ObjectMapper().readTree(text.replace('\'', '"'));
        }
        catch (Exception e) {
            throw new IllegalArgumentException(e);
        }
    }

    private static JsonNode patient(String id, String nhsNumber)
    {
        return json("{'resourceType':'Patient','id':'%s','identifier':[{'system':'https://fhir.nhs.uk/Id/nhs-number','value':'%s'}]}".formatted(id, nhsNumber));
    }

    private static JsonNode optOut(String patientId, String status)
    {
        return json("{'resourceType':'Consent','status':'%s','patient':{'reference':'Patient/%s'},'policy':[{'uri':'%s'}],'provision':{'type':'deny'}}".formatted(status, patientId, NDOP));
    }

    private static ResourceStream stream(List<JsonNode> resources)
    {
        Iterator<JsonNode> iterator = resources.iterator();
        return new ResourceStream()
        {
            @Override
            public boolean hasNext()
            {
                return iterator.hasNext();
            }

            @Override
            public JsonNode next()
            {
                return iterator.next();
            }

            @Override
            public long resourcesRead()
            {
                return 0;
            }

            @Override
            public long pagesRead()
            {
                return 0;
            }

            @Override
            public void close() {}
        };
    }

    @Test
    void readsEveryDomainsPatientsAndActiveConsentsAndMatchesAcrossThem()
    {
        Map<String, List<JsonNode>> patients = Map.of(
                "RX1", List.of(patient("a1", "9991000003"), patient("a2", "9991000011")),
                "RTH", List.of(patient("b1", "9991000011"), patient("b2", "9991000003")));
        Map<String, List<JsonNode>> consents = Map.of(
                // A server ignoring status=active still has its inactive Consents re-checked.
                "RX1", List.of(optOut("a1", "active"), optOut("a2", "inactive")),
                "RTH", List.of());
        ConcurrentLinkedQueue<String> requests = new ConcurrentLinkedQueue<>();
        PatientExclusions exclusions = new PatientRegisterReader((domain, search, _) -> {
            requests.add(domain + " " + search.relativeUrl());
            return stream((search.resourceType().equals("Patient") ? patients : consents).get(domain));
        }, NDOP, CLOCK).read(List.of("RX1", "RTH"), TraceContext.random());
        assertEquals(Set.of("a1"), exclusions.excludedIds("RX1", ExclusionRules.strictest()));
        assertEquals(Set.of("b2"), exclusions.excludedIds("RTH", ExclusionRules.strictest()));
        assertEquals(CLOCK.instant(), exclusions.readAt());
        assertEquals(Set.of(
                "RX1 Patient?_elements=identifier,meta", "RX1 Consent?status=active&_elements=status,patient,policy,provision",
                "RTH Patient?_elements=identifier,meta", "RTH Consent?status=active&_elements=status,patient,policy,provision"), Set.copyOf(requests));
        assertEquals(4, requests.size());
    }

    @Test
    void aDomainThatCannotBeReadFailsTheWholeReadNamingIt()
    {
        FhirRequestException down = new FhirRequestException(FhirRequestException.Kind.UNREACHABLE, "RTH", "Consent", OptionalInt.empty(),
                "FHIR domain RTH: Consent search failed: connection refused", null);
        PatientRegisterReader reader = new PatientRegisterReader((domain, search, _) -> {
            if (domain.equals("RTH") && search.resourceType().equals("Consent")) {
                throw down;
            }
            return stream(List.of());
        }, NDOP, CLOCK);
        assertSame(down, assertThrows(FhirRequestException.class, () -> reader.read(List.of("RX1", "RTH"), TraceContext.random())));
    }

    @Test
    void readsManyDomainsConcurrentlyButNeverMoreSearchesAtOnceThanTheBound()
    {
        int domains = 40;
        int bound = 6;
        long delayMillis = 50;
        AtomicInteger inFlight = new AtomicInteger();
        AtomicInteger mostInFlight = new AtomicInteger();
        List<String> codes = IntStream.rangeClosed(1, domains).mapToObj(i -> "D" + i).toList();
        long started = System.nanoTime();
        PatientExclusions exclusions = new PatientRegisterReader((domain, search, _) -> {
            // In flight from the search's first request until its stream is closed (its last page read).
            mostInFlight.accumulateAndGet(inFlight.incrementAndGet(), Math::max);
            try {
                Thread.sleep(delayMillis);
            }
            catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
            ResourceStream resources = stream(search.resourceType().equals("Patient") ? List.of(patient(domain.toLowerCase(Locale.ROOT), "9991000003")) : List.of());
            return new ResourceStream()
            {
                @Override
                public boolean hasNext()
                {
                    return resources.hasNext();
                }

                @Override
                public JsonNode next()
                {
                    return resources.next();
                }

                @Override
                public long resourcesRead()
                {
                    return 0;
                }

                @Override
                public long pagesRead()
                {
                    return 0;
                }

                @Override
                public void close()
                {
                    inFlight.decrementAndGet();
                }
            };
        }, NDOP, CLOCK, bound).read(codes, TraceContext.random());
        long millis = (System.nanoTime() - started) / 1_000_000;
        assertEquals(codes, exclusions.domains());
        assertEquals(bound, mostInFlight.get(), "searches in flight at once");
        // ceil(80 / 6) * 50 ms = 700 ms at the bound; 4000 ms one search after another.
        assertTrue(millis < 2L * domains * delayMillis / 2, "read " + domains + " domains in " + millis + " ms");
    }
}
