package uk.nhs.fhirmesh.client;

import java.time.Duration;
import java.time.Instant;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;

/**
 * When to try a failed request again: exponential backoff with jitter, or the server's {@code Retry-After},
 * bounded by a number of attempts and a time budget per request.
 */
final class RetryPolicy
{
    private static final Duration BASE_DELAY = Duration.ofMillis(200);
    private static final Duration MAX_DELAY = Duration.ofSeconds(10);

    sealed interface Verdict {}

    record Retry(Duration delay)
            implements Verdict {}

    /** @param reason why there is no further attempt, or {@code null} when the request was tried only once as configured */
    record GiveUp(String reason)
            implements Verdict {}

    private final int maxAttempts;
    private final Duration maxRetryTime;

    RetryPolicy(int maxAttempts, Duration maxRetryTime)
    {
        this.maxAttempts = maxAttempts;
        this.maxRetryTime = maxRetryTime;
    }

    /** The attempts of one request; call {@link Attempts#started()} before each. */
    Attempts start()
    {
        return new Attempts(System.nanoTime());
    }

    final class Attempts
    {
        private final long startNanos;
        private int made;

        private Attempts(long startNanos)
        {
            this.startNanos = startNanos;
        }

        void started()
        {
            made++;
        }

        /** Whether any attempt reached the point of sending: a request that never did says nothing about the endpoint. */
        boolean anyStarted()
        {
            return made > 0;
        }

        Verdict afterFailure(Optional<Duration> retryAfter)
        {
            if (made >= maxAttempts) {
                return new GiveUp(made == 1 ? null : "gave up after " + made + " attempts");
            }
            Duration remaining = maxRetryTime.minusNanos(System.nanoTime() - startNanos);
            if (retryAfter.isPresent()) {
                if (retryAfter.get().compareTo(remaining) > 0) {
                    return new GiveUp("not retried: the server asked to retry after %s, beyond the remaining retry budget of %s"
                            .formatted(Texts.duration(retryAfter.get()), Texts.duration(remaining.isNegative() ? Duration.ZERO : remaining)));
                }
                return new Retry(retryAfter.get());
            }
            if (!remaining.isPositive()) {
                return new GiveUp("retry budget of %s used up after %d attempts".formatted(Texts.duration(maxRetryTime), made));
            }
            return new Retry(min(backoff(made), remaining));
        }
    }

    /** Half of the exponential delay is fixed, half random, so that clients failing together do not retry together. */
    private static Duration backoff(int attemptsMade)
    {
        Duration exponential = min(BASE_DELAY.multipliedBy(1L << Math.min(attemptsMade - 1, 16)), MAX_DELAY);
        long half = exponential.toMillis() / 2;
        return Duration.ofMillis(half + ThreadLocalRandom.current().nextLong(half + 1));
    }

    private static Duration min(Duration a, Duration b)
    {
        return a.compareTo(b) <= 0 ? a : b;
    }

    /** {@code Retry-After} as delay-seconds or an HTTP-date; empty when absent or unreadable. */
    static Optional<Duration> parseRetryAfter(Optional<String> header, Instant now)
    {
        if (header.isEmpty()) {
            return Optional.empty();
        }
        String value = header.get().strip();
        if (value.matches("\\d{1,9}")) {
            return Optional.of(Duration.ofSeconds(Long.parseLong(value)));
        }
        try {
            Duration until = Duration.between(now, ZonedDateTime.parse(value, DateTimeFormatter.RFC_1123_DATE_TIME).toInstant());
            return Optional.of(until.isNegative() ? Duration.ZERO : until);
        }
        catch (DateTimeParseException e) {
            return Optional.empty();
        }
    }
}
