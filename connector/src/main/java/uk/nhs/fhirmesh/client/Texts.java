package uk.nhs.fhirmesh.client;

import java.net.ConnectException;
import java.net.UnknownHostException;
import java.nio.channels.UnresolvedAddressException;
import java.time.Duration;

/** Small formatting helpers for error messages. */
final class Texts
{
    private Texts() {}

    /** {@code 250ms}, {@code 1s}, {@code 1.5s}. */
    static String duration(Duration duration)
    {
        long millis = duration.toMillis();
        if (millis < 1000) {
            return millis + "ms";
        }
        return millis % 1000 == 0 ? millis / 1000 + "s" : "%.1fs".formatted(millis / 1000.0);
    }

    /** {@code 512B}, {@code 64kB}, {@code 8MB}, {@code 1GB}: the largest unit that divides exactly. */
    static String bytes(long bytes)
    {
        String[] units = {"B", "kB", "MB", "GB"};
        int unit = 0;
        while (unit < units.length - 1 && bytes >= 1024 && bytes % 1024 == 0) {
            bytes /= 1024;
            unit++;
        }
        return bytes + units[unit];
    }

    static String truncate(String text, int maxLength)
    {
        return text.length() <= maxLength ? text : text.substring(0, maxLength) + "…";
    }

    /** The most specific message in a cause chain; the JDK client's connect failures carry none, so those are named. */
    static String reason(Throwable failure)
    {
        String reason = null;
        for (Throwable cause = failure; cause != null; cause = cause.getCause()) {
            if (cause instanceof UnresolvedAddressException || cause instanceof UnknownHostException) {
                return "unknown host";
            }
            if (cause.getMessage() != null && !cause.getMessage().isBlank()) {
                reason = cause.getMessage();
            }
        }
        if (reason != null) {
            return reason;
        }
        return failure instanceof ConnectException ? "connection refused" : failure.getClass().getSimpleName();
    }
}
