package uk.nhs.fhirmesh.client;

import org.junit.jupiter.api.Test;

import java.util.HashSet;
import java.util.Optional;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TestTraceContext
{
    private static final String QUERY_ID = "20261206_055000_00001_abcde";
    /** The first 32 hex digits of SHA-256("20261206_055000_00001_abcde"), worked out outside Java. */
    private static final String QUERY_ID_TRACE = "232ac8171edcc5e728fd7f3501d957ff";
    private static final String GATEWAY_TRACE = "4bf92f3577b34da6a3ce929d0e0e4736";

    @Test
    void takesTheTraceIdTheGatewaySetsAsTraceToken()
    {
        assertEquals(GATEWAY_TRACE, TraceContext.of(Optional.of(GATEWAY_TRACE), QUERY_ID).traceId());
        assertEquals(GATEWAY_TRACE, TraceContext.of(Optional.of(GATEWAY_TRACE.toUpperCase()), QUERY_ID).traceId(), "hex case does not matter");
        assertEquals(GATEWAY_TRACE, TraceContext.of(Optional.of("00-" + GATEWAY_TRACE + "-00f067aa0ba902b7-01"), QUERY_ID).traceId(), "a whole traceparent");
    }

    @Test
    void derivesTheTraceIdFromTheQueryIdWithoutAUsableToken()
    {
        assertEquals(QUERY_ID_TRACE, TraceContext.of(Optional.empty(), QUERY_ID).traceId());
        for (String token : new String[] {"", "not a trace", "0".repeat(32), GATEWAY_TRACE.substring(1), GATEWAY_TRACE + "0", "g" + GATEWAY_TRACE.substring(1),
                "01-" + GATEWAY_TRACE + "-00f067aa0ba902b7-01", "00-" + GATEWAY_TRACE + "-00f067aa0ba902b-01", "00-" + "0".repeat(32) + "-00f067aa0ba902b7-01",
                GATEWAY_TRACE + "\r\nX-Injected: 1"}) {
            assertEquals(QUERY_ID_TRACE, TraceContext.of(Optional.of(token), QUERY_ID).traceId(), token);
        }
        assertNotEquals(QUERY_ID_TRACE, TraceContext.of(Optional.empty(), QUERY_ID + "x").traceId());
    }

    @Test
    void everyTraceparentHasAFreshSpanOfTheSameTrace()
    {
        TraceContext trace = new TraceContext(GATEWAY_TRACE);
        Set<String> spans = new HashSet<>();
        for (int i = 0; i < 100; i++) {
            String traceparent = trace.traceparent();
            assertTrue(traceparent.matches("00-" + GATEWAY_TRACE + "-[0-9a-f]{16}-01"), traceparent);
            assertNotEquals("0".repeat(16), traceparent.substring(36, 52));
            spans.add(traceparent.substring(36, 52));
        }
        assertEquals(100, spans.size());
        assertNotEquals(TraceContext.random().traceId(), TraceContext.random().traceId());
    }

    @Test
    void refusesAnInvalidTraceId()
    {
        assertThrows(IllegalArgumentException.class, () -> new TraceContext("0".repeat(32)));
        assertThrows(IllegalArgumentException.class, () -> new TraceContext(GATEWAY_TRACE.toUpperCase()));
        assertThrows(IllegalArgumentException.class, () -> new TraceContext(null));
    }
}
