package uk.nhs.fhirmesh.exclusion;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

class TestPatientExclusionCache
{
    private static final List<String> DOMAINS = List.of("RX1");

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
        PatientExclusionCache cache = new PatientExclusionCache(domains -> {
            reads.incrementAndGet();
            try {
                release.await();
            }
            catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
            return empty(domains);
        }, Duration.ofSeconds(10), now::get);
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
            now.set(Duration.ofSeconds(10).toNanos() - 1);
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
        PatientExclusionCache cache = new PatientExclusionCache(domains -> {
            if (reads.incrementAndGet() == 1) {
                throw new IllegalStateException("FHIR domain RX1: Patient search failed: connection refused");
            }
            return empty(domains);
        }, Duration.ofSeconds(10), () -> 0);
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> cache.current(DOMAINS));
        assertEquals("FHIR domain RX1: Patient search failed: connection refused", e.getMessage());
        cache.current(DOMAINS);
        assertEquals(2, reads.get());
    }
}
