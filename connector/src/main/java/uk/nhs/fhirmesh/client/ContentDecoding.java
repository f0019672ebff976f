package uk.nhs.fhirmesh.client;

import java.io.EOFException;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.Locale;
import java.util.Optional;
import java.util.zip.GZIPInputStream;
import java.util.zip.ZipException;

/**
 * The response encodings the client asks for ({@code Accept-Encoding: gzip}; FHIR JSON shrinks about 8×)
 * and the decoding of a received page. Decoded bytes are capped like received ones, so that a small
 * compressed page cannot expand without bound, and a corrupt encoding is the server's fault, not a lost
 * connection to retry.
 */
final class ContentDecoding
{
    static final String ACCEPTED = "gzip";

    private ContentDecoding() {}

    /** A body whose encoding cannot be decoded. */
    static final class CorruptEncodingException
            extends IOException
    {
        CorruptEncodingException(String encoding, IOException cause)
        {
            super("the %s-encoded page cannot be decoded: %s".formatted(encoding, Texts.reason(cause)), cause);
        }
    }

    /** Whether the {@code Content-Encoding} is gzip; empty when it is an encoding the client did not ask for. */
    static Optional<Boolean> isGzip(Optional<String> contentEncoding)
    {
        String encoding = contentEncoding.map(value -> value.strip().toLowerCase(Locale.ROOT)).orElse("identity");
        return switch (encoding) {
            case "", "identity" -> Optional.of(false);
            case "gzip", "x-gzip" -> Optional.of(true);
            default -> Optional.empty();
        };
    }

    /** {@code page} (as received) decoded, failing with {@link PageSpool.PageTooLargeException} beyond {@code maxBytes}. */
    static InputStream gunzip(InputStream page, long maxBytes)
            throws IOException
    {
        GZIPInputStream gzip;
        try {
            gzip = new GZIPInputStream(page, 64 * 1024);
        }
        catch (IOException e) {
            page.close();
            throw new CorruptEncodingException("gzip", e);
        }
        return new FilterInputStream(gzip)
        {
            private long decoded;

            @Override
            public int read()
                    throws IOException
            {
                byte[] one = new byte[1];
                return read(one, 0, 1) == -1 ? -1 : one[0] & 0xff;
            }

            @Override
            public int read(byte[] buffer, int offset, int length)
                    throws IOException
            {
                int read;
                try {
                    read = super.read(buffer, offset, length);
                }
                catch (ZipException | EOFException e) {
                    throw new CorruptEncodingException("gzip", e);
                }
                if (read > 0) {
                    decoded += read;
                    if (decoded > maxBytes) {
                        throw new PageSpool.PageTooLargeException(maxBytes);
                    }
                }
                return read;
            }
        };
    }
}
