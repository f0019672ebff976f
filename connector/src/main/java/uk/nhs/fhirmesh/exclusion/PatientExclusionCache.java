package uk.nhs.fhirmesh.exclusion;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.function.Function;
import java.util.function.LongSupplier;

/**
 * The current {@link PatientExclusions} of one catalog, read again once the last read is older than the time to
 * live (counted from when that read started) or the domains to read have changed (a mapping was published). So exclusions are at most {@code ttl} plus one read's duration behind
 * the domains, and while queries run a Trino node reads the domains' Patients and active Consents at most once per
 * {@code ttl}, however many splits and queries ask: callers arriving during a read wait for that read. A read runs
 * on its own thread, so a caller's cancellation does not fail the others waiting for it; a failed read is not kept,
 * the next caller starts a new one.
 */
public final class PatientExclusionCache
{
    private record Read(List<String> domains, CompletableFuture<PatientExclusions> result, long startedNanos) {}

    private final Function<List<String>, PatientExclusions> reader;
    private final long ttlNanos;
    private final LongSupplier nanoTime;
    private Read latest;

    /** @param reader reads the patients of the domains it is given */
    public PatientExclusionCache(Function<List<String>, PatientExclusions> reader, Duration ttl)
    {
        this(reader, ttl, System::nanoTime);
    }

    PatientExclusionCache(Function<List<String>, PatientExclusions> reader, Duration ttl, LongSupplier nanoTime)
    {
        this.reader = reader;
        this.ttlNanos = ttl.toNanos();
        this.nanoTime = nanoTime;
    }

    /**
     * The exclusions worked out from the patients of {@code domains}.
     *
     * @throws RuntimeException what the read threw (a {@link uk.nhs.fhirmesh.client.FhirRequestException} naming the domain)
     */
    public PatientExclusions current(List<String> domains)
    {
        List<String> wanted = List.copyOf(domains);
        CompletableFuture<PatientExclusions> result;
        synchronized (this) {
            boolean stale = latest == null || !latest.domains().equals(wanted)
                    || (latest.result().isDone() && (latest.result().isCompletedExceptionally() || nanoTime.getAsLong() - latest.startedNanos() >= ttlNanos));
            if (stale) {
                CompletableFuture<PatientExclusions> read = new CompletableFuture<>();
                latest = new Read(wanted, read, nanoTime.getAsLong());
                Thread.ofVirtual().name("fhir-patient-exclusions").start(() -> {
                    try {
                        read.complete(reader.apply(wanted));
                    }
                    catch (Throwable e) {
                        read.completeExceptionally(e);
                    }
                });
            }
            result = latest.result();
        }
        try {
            return result.get();
        }
        catch (ExecutionException e) {
            if (e.getCause() instanceof RuntimeException runtime) {
                throw runtime;
            }
            throw new IllegalStateException("patients could not be read for exclusion: " + e.getCause(), e.getCause());
        }
        catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for patients to be read for exclusion", e);
        }
    }
}
