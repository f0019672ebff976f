package uk.nhs.fhirmesh.client;

import org.junit.jupiter.api.Test;

import java.io.EOFException;
import java.io.IOException;
import java.net.ConnectException;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.UnresolvedAddressException;
import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertEquals;

class TestTexts
{
    @Test
    void namesConnectFailuresTheJdkLeavesWithoutMessage()
    {
        assertEquals("unknown host", Texts.reason(new ConnectException().initCause(new UnresolvedAddressException())));
        assertEquals("connection refused", Texts.reason(new ConnectException().initCause(new ClosedChannelException())));
        assertEquals("Connection reset", Texts.reason(new IOException(new IOException("Connection reset"))));
        assertEquals("EOFException", Texts.reason(new EOFException()));
    }

    @Test
    void formatsDurations()
    {
        assertEquals("250ms", Texts.duration(Duration.ofMillis(250)));
        assertEquals("60s", Texts.duration(Duration.ofMinutes(1)));
        assertEquals("1.5s", Texts.duration(Duration.ofMillis(1500)));
    }
}
