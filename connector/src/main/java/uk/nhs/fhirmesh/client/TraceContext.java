package uk.nhs.fhirmesh.client;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.Locale;
import java.util.Optional;
import java.util.regex.Pattern;

import static java.nio.charset.StandardCharsets.UTF_8;

/**
 * The W3C trace a query's FHIR requests belong to: every request carries {@code traceparent: 00-<trace id>-<span id>-01}
 * with a span id of its own, so that a FHIR server's access log ties each request to the analyst query that caused it.
 *
 * @param traceId 32 lower-case hex digits, not all zero
 */
public record TraceContext(String traceId)
{
    private static final Pattern TRACE_ID = Pattern.compile("[0-9a-f]{32}");
    private static final Pattern TRACEPARENT = Pattern.compile("00-([0-9a-f]{32})-[0-9a-f]{16}-[0-9a-f]{2}");
    private static final String INVALID_TRACE_ID = "0".repeat(32);
    private static final String INVALID_SPAN_ID = "0".repeat(16);
    private static final SecureRandom RANDOM = new SecureRandom();
    private static final HexFormat HEX = HexFormat.of();

    public TraceContext
    {
        if (!isTraceId(traceId)) {
            throw new IllegalArgumentException("a trace id is 32 lower-case hex digits, not all zero");
        }
    }

    /**
     * The trace of a query: the trace id its Trino trace token names (32 hex digits, or a whole version-00
     * {@code traceparent}), as the gateway sets it; otherwise, for a query sent to Trino directly, one derived from
     * the query id (the first 32 hex digits of its SHA-256), so that the requests of one query still share a trace.
     */
    public static TraceContext of(Optional<String> traceToken, String queryId)
    {
        Optional<String> given = traceToken.map(token -> token.strip().toLowerCase(Locale.ROOT)).flatMap(TraceContext::traceIdOf);
        return new TraceContext(given.orElseGet(() -> derived(queryId)));
    }

    /** A trace of its own, for requests outside any query (tools and tests). */
    public static TraceContext random()
    {
        while (true) {
            String id = randomHex(16);
            if (!id.equals(INVALID_TRACE_ID)) {
                return new TraceContext(id);
            }
        }
    }

    /** The header value for one more request of this trace: a fresh span id each time, sampled. */
    public String traceparent()
    {
        String span = randomHex(8);
        while (span.equals(INVALID_SPAN_ID)) {
            span = randomHex(8);
        }
        return "00-" + traceId + "-" + span + "-01";
    }

    private static Optional<String> traceIdOf(String token)
    {
        if (isTraceId(token)) {
            return Optional.of(token);
        }
        var traceparent = TRACEPARENT.matcher(token);
        if (traceparent.matches() && isTraceId(traceparent.group(1))) {
            return Optional.of(traceparent.group(1));
        }
        return Optional.empty();
    }

    private static boolean isTraceId(String id)
    {
        return id != null && TRACE_ID.matcher(id).matches() && !id.equals(INVALID_TRACE_ID);
    }

    private static String derived(String queryId)
    {
        try {
            String hash = HEX.formatHex(MessageDigest.getInstance("SHA-256").digest(queryId.getBytes(UTF_8))).substring(0, 32);
            // An all-zero prefix is not a valid trace id; SHA-256 gives one about once in 2^128 query ids.
            return hash.equals(INVALID_TRACE_ID) ? "0".repeat(31) + "1" : hash;
        }
        catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from the JVM", e);
        }
    }

    private static String randomHex(int bytes)
    {
        byte[] random = new byte[bytes];
        RANDOM.nextBytes(random);
        return HEX.formatHex(random);
    }
}
