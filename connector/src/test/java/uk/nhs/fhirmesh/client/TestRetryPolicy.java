package uk.nhs.fhirmesh.client;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TestRetryPolicy
{
    @Test
    void readsRetryAfterAsSecondsOrHttpDate()
    {
        Instant now = Instant.parse("2025-03-01T12:00:00Z");
        String inThirtySeconds = DateTimeFormatter.RFC_1123_DATE_TIME.withZone(ZoneOffset.UTC).format(now.plusSeconds(30));

        assertEquals(Optional.of(Duration.ofSeconds(120)), RetryPolicy.parseRetryAfter(Optional.of(" 120 "), now));
        assertEquals(Optional.of(Duration.ofSeconds(30)), RetryPolicy.parseRetryAfter(Optional.of(inThirtySeconds), now));
        assertEquals(Optional.of(Duration.ZERO), RetryPolicy.parseRetryAfter(Optional.of("Sat, 01 Mar 2025 11:00:00 GMT"), now));
        assertEquals(Optional.empty(), RetryPolicy.parseRetryAfter(Optional.of("soon"), now));
        assertEquals(Optional.empty(), RetryPolicy.parseRetryAfter(Optional.empty(), now));
    }

    @Test
    void backsOffExponentiallyWithJitterWithinTheBudget()
    {
        RetryPolicy.Attempts attempts = new RetryPolicy(10, Duration.ofSeconds(60)).start();
        for (int made = 1; made <= 4; made++) {
            attempts.started();
            Duration delay = assertInstanceOf(RetryPolicy.Retry.class, attempts.afterFailure(Optional.empty())).delay();
            long full = 200L << (made - 1);
            assertTrue(delay.toMillis() >= full / 2 && delay.toMillis() <= full, made + ": " + delay);
        }
    }

    @Test
    void stopsAtMaxAttempts()
    {
        RetryPolicy.Attempts once = new RetryPolicy(1, Duration.ofSeconds(60)).start();
        once.started();
        assertEquals(new RetryPolicy.GiveUp(null), once.afterFailure(Optional.empty()));

        RetryPolicy.Attempts twice = new RetryPolicy(2, Duration.ofSeconds(60)).start();
        twice.started();
        assertInstanceOf(RetryPolicy.Retry.class, twice.afterFailure(Optional.empty()));
        twice.started();
        assertEquals(new RetryPolicy.GiveUp("gave up after 2 attempts"), twice.afterFailure(Optional.empty()));
    }

    @Test
    void honoursRetryAfterOnlyWithinTheBudget()
    {
        RetryPolicy.Attempts attempts = new RetryPolicy(5, Duration.ofSeconds(10)).start();
        attempts.started();

        assertEquals(new RetryPolicy.Retry(Duration.ofSeconds(3)), attempts.afterFailure(Optional.of(Duration.ofSeconds(3))));
        RetryPolicy.GiveUp giveUp = assertInstanceOf(RetryPolicy.GiveUp.class, attempts.afterFailure(Optional.of(Duration.ofSeconds(30))));
        assertTrue(giveUp.reason().startsWith("not retried: the server asked to retry after 30s, beyond the remaining retry budget of "), giveUp.reason());
    }

    @Test
    void stopsWhenTheBudgetIsUsedUp()
    {
        RetryPolicy.Attempts attempts = new RetryPolicy(5, Duration.ZERO).start();
        attempts.started();

        assertEquals(new RetryPolicy.GiveUp("retry budget of 0ms used up after 1 attempts"), attempts.afterFailure(Optional.empty()));
    }
}
