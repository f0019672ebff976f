package uk.nhs.fhirmesh.exclusion;

import uk.nhs.fhirmesh.client.FhirRequestException;
import uk.nhs.fhirmesh.client.TraceContext;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.function.LongSupplier;

/**
 * The current {@link PatientExclusions} of one catalog, read again once the last read is older than the time to
 * live (counted from when that read started) or the domains to read have changed (a mapping was published). So exclusions are at most {@code ttl} plus one read's duration behind
 * the domains, and while queries run a Trino node reads the domains' Patients and active Consents about once per
 * half {@code ttl}, however many splits and queries ask: callers arriving during a read wait for that read. A read runs
 * on its own thread, so a caller's cancellation does not fail the others waiting for it; a failed read is not kept,
 * the next caller starts a new one.
 * <p>
 * Refresh ahead: the first caller to find the last read older than half the time to live starts the next read in the
 * background and goes on with the last one, so while queries keep coming none waits for a read (with many domains a read
 * takes a while). A read older than the time to live is never used: its callers wait for the next read, as at
 * the start. A failed refresh changes nothing for the callers using the last read; the next caller starts another.
 * <p>
 * A domain the query skips ({@code skip_domains}: its endpoint is failing) is answered from its records of the last
 * successful read when that read started less than {@code maxStaleness} ago, and otherwise read live; if that read
 * fails, its opt-outs are unknown and the caller fails closed ({@link OptOutsUnknownException}). A domain that is not
 * skipped is always read as above, never answered from older records.
 * <p>
 * A read's requests carry the trace of the query whose call started it (a refresh ahead too), so a FHIR server's
 * access log names the query that caused them.
 */
public final class PatientExclusionCache
{
    /** Reads the patients of the given domains, every request in the given trace. */
    @FunctionalInterface
    public interface Reader
    {
        PatientExclusions read(List<String> domains, TraceContext trace);
    }

    private record Read(List<String> domains, CompletableFuture<PatientExclusions> result, long startedNanos) {}

    /** The reads of one list of domains: the newest that succeeded, and the one under way (a first read, or a refresh). */
    private static final class Reads
    {
        private Read succeeded;
        private Read underWay;
    }

    /** One domain's records from the newest successful read that included it, and when that read started. */
    private record LastRead(DomainRecords records, Instant readAt, long startedNanos) {}

    /** Live records combined with skipped domains' last ones, kept while neither part changes (rules' ids are worked out once). */
    private record Combined(Read live, Map<String, LastRead> lastReads, PatientExclusions exclusions) {}

    private final Reader reader;
    private final long ttlNanos;
    private final Duration maxStaleness;
    private final LongSupplier nanoTime;
    /** By the domains read: a query skipping domains reads a different list from one skipping none. */
    private final Map<List<String>, Reads> reads = new HashMap<>();
    private final Map<String, LastRead> lastReads = new HashMap<>();
    private Combined combined;

    /**
     * @param reader reads the patients of the domains it is given
     * @param maxStaleness how old a skipped domain's last records may be (counted from when their read started)
     */
    public PatientExclusionCache(Reader reader, Duration ttl, Duration maxStaleness)
    {
        this(reader, ttl, maxStaleness, System::nanoTime);
    }

    PatientExclusionCache(Reader reader, Duration ttl, Duration maxStaleness, LongSupplier nanoTime)
    {
        this.reader = reader;
        this.ttlNanos = ttl.toNanos();
        this.maxStaleness = maxStaleness;
        this.nanoTime = nanoTime;
    }

    /**
     * The exclusions worked out from the patients of {@code domains}, all read live.
     *
     * @throws RuntimeException what the read threw (a {@link FhirRequestException} naming the domain)
     */
    public PatientExclusions current(List<String> domains)
    {
        return current(domains, Set.of(), TraceContext.random());
    }

    /**
     * The exclusions worked out from the patients of {@code domains}, those in {@code skipped} from their last
     * records where fresh enough.
     *
     * @throws OptOutsUnknownException for a skipped domain without fresh records that could not be read now
     * @throws RuntimeException what the read threw for a domain not skipped (a {@link FhirRequestException} naming the domain)
     */
    public PatientExclusions current(List<String> domains, Set<String> skipped)
    {
        return current(domains, skipped, TraceContext.random());
    }

    /**
     * {@link #current(List, Set)} for a query of trace {@code trace}: a read this call starts (a first read, or a
     * refresh ahead) sends its requests in that trace.
     */
    public PatientExclusions current(List<String> domains, Set<String> skipped, TraceContext trace)
    {
        Map<String, LastRead> fromLastRead = new LinkedHashMap<>();
        synchronized (this) {
            long now = nanoTime.getAsLong();
            for (String domain : domains) {
                LastRead last = lastReads.get(domain);
                if (skipped.contains(domain) && last != null && now - last.startedNanos() < maxStaleness.toNanos()) {
                    fromLastRead.put(domain, last);
                }
            }
        }
        List<String> live = domains.stream().filter(domain -> !fromLastRead.containsKey(domain)).toList();
        Read read = live.isEmpty() ? null : read(live, trace);
        PatientExclusions liveExclusions;
        try {
            liveExclusions = read == null ? new PatientExclusions(List.of(), Instant.MAX) : await(read);
        }
        catch (FhirRequestException e) {
            if (e.domain() != null && skipped.contains(e.domain())) {
                throw new OptOutsUnknownException(e.domain(), "FHIR domain %s: skipped (skip_domains), and its opt-outs are unknown: %s, and reading them now failed (%s)"
                        .formatted(e.domain(), lastReadText(e.domain()), e.getMessage()), e);
            }
            throw e;
        }
        if (fromLastRead.isEmpty()) {
            return liveExclusions;
        }
        synchronized (this) {
            if (combined == null || combined.live() != read || !combined.lastReads().equals(fromLastRead)) {
                List<DomainRecords> records = new ArrayList<>();
                Instant readAt = liveExclusions.readAt();
                for (String domain : domains) {
                    LastRead last = fromLastRead.get(domain);
                    records.add(last != null ? last.records() : liveExclusions.records(domain).orElseThrow());
                    if (last != null && last.readAt().isBefore(readAt)) {
                        readAt = last.readAt();
                    }
                }
                combined = new Combined(read, Map.copyOf(fromLastRead), new PatientExclusions(records, readAt));
            }
            return combined.exclusions();
        }
    }

    private synchronized Read read(List<String> domains, TraceContext trace)
    {
        List<String> wanted = List.copyOf(domains);
        long now = nanoTime.getAsLong();
        Reads entry = reads.get(wanted);
        if (entry == null) {
            // Lists no query asks any more (their last read past its time to live, none under way) are dropped, so they do not pile up.
            reads.values().removeIf(old -> old.underWay == null && (old.succeeded == null || now - old.succeeded.startedNanos() >= ttlNanos));
            entry = new Reads();
            reads.put(wanted, entry);
        }
        Read succeeded = entry.succeeded;
        if (succeeded != null && now - succeeded.startedNanos() < ttlNanos) {
            if (entry.underWay == null && now - succeeded.startedNanos() >= ttlNanos / 2) {
                entry.underWay = start(wanted, entry, now, trace);
            }
            return succeeded;
        }
        if (entry.underWay == null) {
            entry.underWay = start(wanted, entry, now, trace);
        }
        return entry.underWay;
    }

    private Read start(List<String> domains, Reads entry, long now, TraceContext trace)
    {
        Read read = new Read(domains, new CompletableFuture<>(), now);
        Thread.ofVirtual().name("fhir-patient-exclusions").start(() -> {
            PatientExclusions exclusions;
            try {
                exclusions = reader.read(domains, trace);
            }
            catch (Throwable e) {
                finished(entry, read, null);
                read.result().completeExceptionally(e);
                return;
            }
            finished(entry, read, exclusions);
            read.result().complete(exclusions);
        });
        return read;
    }

    /** Before the read's callers are told: a caller arriving after them must not be handed the read again if it failed. */
    private synchronized void finished(Reads entry, Read read, PatientExclusions exclusions)
    {
        if (entry.underWay == read) {
            entry.underWay = null;
        }
        if (exclusions != null) {
            remember(exclusions, read.startedNanos());
            if (entry.succeeded == null || read.startedNanos() - entry.succeeded.startedNanos() >= 0) {
                entry.succeeded = read;
            }
        }
    }

    /** Keeps each domain's records of a successful read, unless a read started later already gave newer ones. */
    private synchronized void remember(PatientExclusions exclusions, long startedNanos)
    {
        for (String domain : exclusions.domains()) {
            LastRead last = new LastRead(exclusions.records(domain).orElseThrow(), exclusions.readAt(), startedNanos);
            lastReads.merge(domain, last, (old, next) -> next.startedNanos() - old.startedNanos() >= 0 ? next : old);
        }
    }

    private synchronized String lastReadText(String domain)
    {
        LastRead last = lastReads.get(domain);
        if (last == null) {
            return "its patients have not been read successfully on this Trino node";
        }
        return "its patients were last read %s ago, longer than fhir.patient-exclusion.max-staleness (%s)"
                .formatted(text(Duration.ofNanos(nanoTime.getAsLong() - last.startedNanos())), text(maxStaleness));
    }

    private static String text(Duration duration)
    {
        long seconds = duration.toSeconds();
        if (seconds < 60) {
            return seconds + "s";
        }
        if (seconds < 3600) {
            return seconds / 60 + "m";
        }
        return seconds / 3600 + "h" + (seconds % 3600 / 60 == 0 ? "" : " " + seconds % 3600 / 60 + "m");
    }

    private static PatientExclusions await(Read read)
    {
        try {
            return read.result().get();
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
