package uk.nhs.fhirmesh.exclusion;

import org.junit.jupiter.api.Test;
import uk.nhs.fhirmesh.client.FhirRequestException;
import uk.nhs.fhirmesh.client.TraceContext;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalInt;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CopyOnWriteArraySet;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TestPatientExclusionCache
{
    private static final List<String> DOMAINS = List.of("RX1");
    private static final Duration MAX_STALENESS = Duration.ofHours(24);
    private static final List<String> TWO = List.of("RX1", "RTH");

    /** RX1 holds an opt-out for NHS number 9000000009; RTH holds that person's record (p-rth) and another (q-rth). */
    private static PatientExclusions records(List<String> domains)
    {
        List<DomainRecords> records = new ArrayList<>();
        for (String domain : domains) {
            records.add(domain.equals("RX1")
                    ? new DomainRecords("RX1", List.of(new PatientRecord("p-rx1", List.of("9000000009"), Set.of())), List.of(new OptOutConsent("p-rx1", "9000000009")))
                    : new DomainRecords(domain, List.of(new PatientRecord("p-rth", List.of("9000000009"), Set.of()), new PatientRecord("q-rth", List.of("9000000017"), Set.of())), List.of()));
        }
        return new PatientExclusions(records, Instant.EPOCH);
    }

    /** A reader of {@link #records}: every list it is asked for is noted; a domain in {@code failing} fails the read, naming it. */
    private static PatientExclusionCache.Reader reader(List<List<String>> asked, Set<String> failing)
    {
        return (domains, _) -> {
            asked.add(domains);
            for (String domain : domains) {
                if (failing.contains(domain)) {
                    throw new FhirRequestException(FhirRequestException.Kind.UNREACHABLE, domain, "Patient", OptionalInt.empty(), "FHIR domain " + domain + ": Patient search failed: connection refused", null);
                }
            }
            return records(domains);
        };
    }

    private static PatientExclusions empty(List<String> domains)
    {
        return new PatientExclusions(domains.stream().map(domain -> new DomainRecords(domain, List.of(), List.of())).toList(), Instant.EPOCH);
    }

    @Test
    void callersDuringOneReadShareItAndTheResultIsReusedUntilItIsOlderThanTheTtl()
            throws Exception
    {
        AtomicInteger reads = new AtomicInteger();
        CountDownLatch release = new CountDownLatch(1);
        AtomicLong now = new AtomicLong();
        PatientExclusionCache cache = new PatientExclusionCache((domains, _) -> {
            reads.incrementAndGet();
            try {
                release.await();
            }
            catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
            return empty(domains);
        }, Duration.ofSeconds(10), MAX_STALENESS, now::get);
        List<Future<PatientExclusions>> callers = new ArrayList<>();
        try (ExecutorService executor = Executors.newVirtualThreadPerTaskExecutor()) {
            for (int i = 0; i < 8; i++) {
                callers.add(executor.submit(() -> cache.current(DOMAINS)));
            }
            Thread.sleep(100);
            release.countDown();
            PatientExclusions first = callers.getFirst().get(5, TimeUnit.SECONDS);
            for (Future<PatientExclusions> caller : callers) {
                assertSame(first, caller.get(5, TimeUnit.SECONDS));
            }
            assertEquals(1, reads.get());
            // Younger than half the time to live: reused, and not refreshed yet (refresh ahead: see below).
            now.set(Duration.ofSeconds(5).toNanos() - 1);
            assertSame(first, cache.current(DOMAINS));
            // A mapping published for another domain: its patients are read at once.
            assertEquals(Set.of(), cache.current(List.of("RX1", "RTH")).excludedIds("RTH", ExclusionRules.strictest()));
            assertEquals(2, reads.get());
            now.set(Duration.ofSeconds(20).toNanos());
            cache.current(List.of("RX1", "RTH"));
            assertEquals(3, reads.get());
        }
    }

    @Test
    void aFailedReadFailsItsCallersAndIsNotKept()
    {
        AtomicInteger reads = new AtomicInteger();
        PatientExclusionCache cache = new PatientExclusionCache((domains, _) -> {
            if (reads.incrementAndGet() == 1) {
                throw new IllegalStateException("FHIR domain RX1: Patient search failed: connection refused");
            }
            return empty(domains);
        }, Duration.ofSeconds(10), MAX_STALENESS, () -> 0);
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> cache.current(DOMAINS));
        assertEquals("FHIR domain RX1: Patient search failed: connection refused", e.getMessage());
        cache.current(DOMAINS);
        assertEquals(2, reads.get());
    }

    @Test
    void aSkippedDomainIsAnsweredFromItsFreshLastRecordsAndItsOptOutsStillApplyElsewhere()
    {
        List<List<String>> asked = new CopyOnWriteArrayList<>();
        Set<String> failing = new CopyOnWriteArraySet<>();
        AtomicLong now = new AtomicLong();
        PatientExclusionCache cache = new PatientExclusionCache(reader(asked, failing), Duration.ofSeconds(10), MAX_STALENESS, now::get);
        assertEquals(Set.of("p-rth"), cache.current(TWO).excludedIds("RTH", ExclusionRules.strictest()));
        failing.add("RX1");
        now.set(Duration.ofHours(24).toNanos() - 1);
        PatientExclusions exclusions = cache.current(TWO, Set.of("RX1"));
        assertEquals(List.of(TWO, List.of("RTH")), asked, "the skipped domain is not asked while its last records are fresh");
        assertEquals(Set.of("p-rth"), exclusions.excludedIds("RTH", ExclusionRules.strictest()), "RX1's opt-out still excludes the person at RTH");
        assertEquals(Set.of("p-rx1"), exclusions.excludedIds("RX1", ExclusionRules.strictest()));
        assertSame(exclusions, cache.current(TWO, Set.of("RX1")), "the combination is worked out once while neither part changes");
    }

    @Test
    void aSkippedDomainWhoseLastRecordsAreStaleIsReadAndFailsClosedNamingIt()
    {
        List<List<String>> asked = new CopyOnWriteArrayList<>();
        Set<String> failing = new CopyOnWriteArraySet<>();
        AtomicLong now = new AtomicLong();
        PatientExclusionCache cache = new PatientExclusionCache(reader(asked, failing), Duration.ofSeconds(10), MAX_STALENESS, now::get);
        cache.current(TWO);
        failing.add("RX1");
        now.set(Duration.ofHours(25).plusMinutes(30).toNanos());
        OptOutsUnknownException e = assertThrows(OptOutsUnknownException.class, () -> cache.current(TWO, Set.of("RX1")));
        assertEquals("RX1", e.domain());
        assertEquals("FHIR domain RX1: skipped (skip_domains), and its opt-outs are unknown: its patients were last read 25h 30m ago, longer than "
                + "fhir.patient-exclusion.max-staleness (24h), and reading them now failed (FHIR domain RX1: Patient search failed: connection refused)", e.getMessage());
        assertEquals(List.of(TWO, TWO), asked, "a stale skipped domain is read live, in case it answers");
        failing.clear();
        assertEquals(Set.of("p-rth"), cache.current(TWO, Set.of("RX1")).excludedIds("RTH", ExclusionRules.strictest()), "read live when it answers again");
    }

    @Test
    void aSkippedDomainNeverReadFailsClosedNamingIt()
    {
        PatientExclusionCache cache = new PatientExclusionCache(reader(new CopyOnWriteArrayList<>(), Set.of("RX1")), Duration.ofSeconds(10), MAX_STALENESS, () -> 0);
        OptOutsUnknownException e = assertThrows(OptOutsUnknownException.class, () -> cache.current(TWO, Set.of("RX1")));
        assertTrue(e.getMessage().startsWith("FHIR domain RX1: skipped (skip_domains), and its opt-outs are unknown: its patients have not been read successfully on this Trino node"), e.getMessage());
        assertEquals("RX1", e.readFailure().domain());
    }

    @Test
    void aDomainNotSkippedIsAlwaysReadLiveAndFailsAsItDid()
    {
        List<List<String>> asked = new CopyOnWriteArrayList<>();
        Set<String> failing = new CopyOnWriteArraySet<>();
        AtomicLong now = new AtomicLong();
        PatientExclusionCache cache = new PatientExclusionCache(reader(asked, failing), Duration.ofSeconds(10), MAX_STALENESS, now::get);
        cache.current(TWO);
        failing.add("RX1");
        now.set(Duration.ofMinutes(1).toNanos());
        // Skipping RTH does not let RX1 (not skipped) be answered from its fresh last records.
        FhirRequestException e = assertThrows(FhirRequestException.class, () -> cache.current(TWO, Set.of("RTH")));
        assertEquals("FHIR domain RX1: Patient search failed: connection refused", e.getMessage());
        assertThrows(FhirRequestException.class, () -> cache.current(TWO));
        assertEquals(List.of(TWO, List.of("RX1"), TWO), asked);
    }

    @Test
    void pastHalfTheTtlTheNextReadStartsInTheBackgroundWhileTheLastIsServedButNeverPastTheTtl()
            throws Exception
    {
        AtomicInteger reads = new AtomicInteger();
        CountDownLatch releaseRefresh = new CountDownLatch(1);
        Set<Integer> failingReads = new CopyOnWriteArraySet<>();
        AtomicLong now = new AtomicLong();
        PatientExclusionCache cache = new PatientExclusionCache((domains, _) -> {
            int number = reads.incrementAndGet();
            if (number == 2) {
                try {
                    releaseRefresh.await();
                }
                catch (InterruptedException e) {
                    throw new IllegalStateException(e);
                }
            }
            if (failingReads.contains(number)) {
                throw new IllegalStateException("FHIR domain RX1: Patient search failed: connection refused");
            }
            return empty(domains);
        }, Duration.ofSeconds(10), MAX_STALENESS, now::get);
        PatientExclusions first = cache.current(DOMAINS);

        now.set(Duration.ofSeconds(6).toNanos());
        assertSame(first, cache.current(DOMAINS), "the last read is served at once while the next one is under way");
        waitFor(() -> reads.get() == 2);
        now.set(Duration.ofSeconds(9).toNanos());
        assertSame(first, cache.current(DOMAINS));
        assertEquals(2, reads.get(), "one refresh under way at a time");

        // At the time to live the last read is not used any more, even though the refresh has not finished.
        now.set(Duration.ofSeconds(10).toNanos());
        try (ExecutorService executor = Executors.newVirtualThreadPerTaskExecutor()) {
            Future<PatientExclusions> waiting = executor.submit(() -> cache.current(DOMAINS));
            Thread.sleep(200);
            assertFalse(waiting.isDone(), "a caller past the time to live waits for the refresh");
            releaseRefresh.countDown();
            PatientExclusions refreshed = waiting.get(5, TimeUnit.SECONDS);
            assertNotSame(first, refreshed);
            // The refresh started at 6 s: at 10 s it is 4 s old, under half the time to live.
            assertSame(refreshed, cache.current(DOMAINS));
            assertEquals(2, reads.get());

            // A failed refresh leaves the callers with the last read; the next caller starts another.
            failingReads.add(3);
            now.set(Duration.ofSeconds(11).toNanos());
            assertSame(refreshed, cache.current(DOMAINS));
            waitFor(() -> reads.get() == 3);
            Thread.sleep(50);
            assertSame(refreshed, cache.current(DOMAINS));
            waitFor(() -> reads.get() == 4);
            now.set(Duration.ofSeconds(16).toNanos());
            assertNotSame(refreshed, cache.current(DOMAINS), "the fourth read, started at 11 s, is served");
        }
    }

    @Test
    void aReadSendsItsRequestsInTheTraceOfTheQueryThatStartedItARefreshAheadToo()
            throws Exception
    {
        TraceContext first = new TraceContext("4bf92f3577b34da6a3ce929d0e0e4736");
        TraceContext second = new TraceContext("0af7651916cd43dd8448eb211c80319c");
        List<TraceContext> traces = new CopyOnWriteArrayList<>();
        AtomicLong now = new AtomicLong();
        PatientExclusionCache cache = new PatientExclusionCache((domains, trace) -> {
            traces.add(trace);
            return empty(domains);
        }, Duration.ofSeconds(10), MAX_STALENESS, now::get);
        cache.current(DOMAINS, Set.of(), first);
        cache.current(DOMAINS, Set.of(), second);
        assertEquals(List.of(first), traces, "the second query is served from the first one's read");

        now.set(Duration.ofSeconds(6).toNanos());
        cache.current(DOMAINS, Set.of(), second);
        waitFor(() -> traces.size() == 2);
        assertEquals(List.of(first, second), traces, "the refresh ahead is the second query's");
    }

    private static void waitFor(java.util.function.BooleanSupplier condition)
            throws InterruptedException
    {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (!condition.getAsBoolean()) {
            assertTrue(System.nanoTime() < deadline, "timed out");
            Thread.sleep(10);
        }
    }
}
