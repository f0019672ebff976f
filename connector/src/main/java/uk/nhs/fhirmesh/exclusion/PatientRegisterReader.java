package uk.nhs.fhirmesh.exclusion;

import com.fasterxml.jackson.databind.JsonNode;
import uk.nhs.fhirmesh.client.ResourceStream;
import uk.nhs.fhirmesh.client.TraceContext;
import uk.nhs.fhirmesh.search.FhirSearch;

import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.Semaphore;
import java.util.function.Function;

/**
 * Reads what {@link PatientExclusions} is worked out from, from the given domains at once (one virtual thread per
 * search, at most {@code maxConcurrentSearches} of them reading at a time, in domain order; the client's per-endpoint
 * and overall request slots still apply): {@code Patient?_elements=identifier,meta}
 * and {@code Consent?status=active}, each paged to its end. That costs, per domain, ceil(patients / page size) +
 * ceil(active Consents / page size) requests, and holds about 200 bytes per patient. A domain that cannot be
 * read fails the whole read with the client's error, which names the domain: exclusion never goes ahead on part
 * of the mesh.
 */
public final class PatientRegisterReader
        implements PatientExclusionCache.Reader
{
    /** Opens one search against one domain, streaming its resources across pages, every request in {@code trace}. */
    @FunctionalInterface
    public interface DomainSearch
    {
        ResourceStream open(String domain, FhirSearch search, TraceContext trace);
    }

    static final FhirSearch PATIENTS = FhirSearch.of("Patient").with("_elements", "identifier,meta");
    /** Status is re-checked on every Consent: a server ignoring the parameter sends all of them. */
    static final FhirSearch ACTIVE_CONSENTS = FhirSearch.of("Consent").with("status", "active").with("_elements", "status,patient,policy,provision");

    /** Searches in flight at once when not told otherwise (fhir.split.planning-concurrency's default). */
    public static final int DEFAULT_MAX_CONCURRENT_SEARCHES = 16;

    private final DomainSearch search;
    private final String policyUri;
    private final Clock clock;
    private final int maxConcurrentSearches;

    public PatientRegisterReader(DomainSearch search, String policyUri, Clock clock)
    {
        this(search, policyUri, clock, DEFAULT_MAX_CONCURRENT_SEARCHES);
    }

    /** @param maxConcurrentSearches the most searches of one read in flight at once (each pages through one domain's Patients or Consents) */
    public PatientRegisterReader(DomainSearch search, String policyUri, Clock clock, int maxConcurrentSearches)
    {
        if (maxConcurrentSearches < 1) {
            throw new IllegalArgumentException("maxConcurrentSearches must be at least 1");
        }
        this.search = search;
        this.policyUri = policyUri;
        this.clock = clock;
        this.maxConcurrentSearches = maxConcurrentSearches;
    }

    /** @throws uk.nhs.fhirmesh.client.FhirRequestException for the first domain (in the given order) that failed */
    @Override
    public PatientExclusions read(List<String> domains, TraceContext trace)
    {
        Instant started = clock.instant();
        List<Future<List<PatientRecord>>> patients = new ArrayList<>();
        List<Future<List<OptOutConsent>>> optOuts = new ArrayList<>();
        // Fair, so searches start in domain order: with a 128-domain catalog the first domains finish first.
        Semaphore slots = new Semaphore(maxConcurrentSearches, true);
        try (ExecutorService executor = Executors.newVirtualThreadPerTaskExecutor()) {
            for (String domain : domains) {
                patients.add(executor.submit(() -> bounded(slots, () -> read(domain, PATIENTS, trace, PatientRecord::of))));
                optOuts.add(executor.submit(() -> bounded(slots, () -> read(domain, ACTIVE_CONSENTS, trace, resource -> OptOutConsent.of(resource, policyUri, started)))));
            }
        }
        List<DomainRecords> records = new ArrayList<>();
        for (int i = 0; i < domains.size(); i++) {
            records.add(new DomainRecords(domains.get(i), result(patients.get(i)), result(optOuts.get(i))));
        }
        return new PatientExclusions(records, started);
    }

    private static <T> T bounded(Semaphore slots, Callable<T> search)
            throws Exception
    {
        slots.acquire();
        try {
            return search.call();
        }
        finally {
            slots.release();
        }
    }

    private <T> List<T> read(String domain, FhirSearch query, TraceContext trace, Function<JsonNode, Optional<T>> reader)
    {
        List<T> found = new ArrayList<>();
        try (ResourceStream resources = search.open(domain, query, trace)) {
            while (resources.hasNext()) {
                reader.apply(resources.next()).ifPresent(found::add);
            }
        }
        return found;
    }

    private static <T> T result(Future<T> future)
    {
        try {
            return future.get();
        }
        catch (ExecutionException e) {
            if (e.getCause() instanceof RuntimeException runtime) {
                throw runtime;
            }
            throw new IllegalStateException(e.getCause());
        }
        catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while patients were read for exclusion", e);
        }
    }
}
