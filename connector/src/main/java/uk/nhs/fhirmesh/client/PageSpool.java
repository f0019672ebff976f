package uk.nhs.fhirmesh.client;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

import static java.nio.file.StandardOpenOption.DELETE_ON_CLOSE;
import static java.nio.file.StandardOpenOption.READ;
import static java.nio.file.StandardOpenOption.WRITE;

/**
 * Receives a whole Bundle page before it is parsed, so that the endpoint's request slot is freed as soon
 * as the server has sent the page, not when a (possibly blocked) consumer has read it. Small pages stay
 * in memory; a page larger than {@code memoryLimit} goes to an unlinked temporary file, so heap use stays
 * flat whatever the page size, and nothing is left on disk if the JVM dies.
 */
final class PageSpool
{
    /** Larger than a 1000-resource page of typical clinical resources, small enough for many splits at once. */
    static final int DEFAULT_MEMORY_LIMIT = 8 * 1024 * 1024;

    private static final int CHUNK = 64 * 1024;

    private final Path directory;
    private final int memoryLimit;
    private final long maxPageBytes;

    PageSpool(Path directory, int memoryLimit, long maxPageBytes)
    {
        if (memoryLimit < 1 || maxPageBytes < 1) {
            throw new IllegalArgumentException("memoryLimit and maxPageBytes must be positive");
        }
        this.directory = directory;
        this.memoryLimit = memoryLimit;
        this.maxPageBytes = maxPageBytes;
    }

    long maxPageBytes()
    {
        return maxPageBytes;
    }

    /** Thrown when a page is larger than {@code maxPageBytes}: reading it to its end would fill the disk. */
    static final class PageTooLargeException
            extends IOException
    {
        PageTooLargeException(long limit)
        {
            super("the page is larger than " + Texts.bytes(limit));
        }
    }

    /** Thrown when the spool file cannot be written; the server is not at fault, so it is never retried. */
    static final class SpoolFailedException
            extends IOException
    {
        SpoolFailedException(Path directory, IOException cause)
        {
            super("cannot spool the page to " + directory + ": " + Texts.reason(cause), cause);
        }
    }

    /**
     * Reads {@code body} to its end and returns a stream over what was read. An {@link IOException} other
     * than the two above means the connection failed while the page arrived.
     */
    InputStream receive(InputStream body)
            throws IOException
    {
        byte[] memory = new byte[Math.min(memoryLimit, CHUNK)];
        int filled = 0;
        while (true) {
            if (filled == memory.length) {
                if (filled >= memoryLimit) {
                    return spillToFile(body, memory, filled);
                }
                memory = Arrays.copyOf(memory, Math.min(memoryLimit, memory.length * 2));
            }
            int read = body.read(memory, filled, memory.length - filled);
            if (read < 0) {
                return new ByteArrayInputStream(memory, 0, filled);
            }
            filled += read;
            if (filled > maxPageBytes) {
                throw new PageTooLargeException(maxPageBytes);
            }
        }
    }

    private InputStream spillToFile(InputStream body, byte[] head, int headLength)
            throws IOException
    {
        FileChannel file = openFile();
        try {
            write(file, ByteBuffer.wrap(head, 0, headLength));
            long total = headLength;
            byte[] chunk = new byte[CHUNK];
            for (int read = body.read(chunk); read >= 0; read = body.read(chunk)) {
                total += read;
                if (total > maxPageBytes) {
                    throw new PageTooLargeException(maxPageBytes);
                }
                write(file, ByteBuffer.wrap(chunk, 0, read));
            }
            file.position(0);
            return Channels.newInputStream(file);
        }
        catch (IOException | RuntimeException e) {
            file.close();
            throw e;
        }
    }

    private FileChannel openFile()
            throws SpoolFailedException
    {
        try {
            Path path = Files.createTempFile(directory, "fhir-mesh-page-", ".json");
            FileChannel file = FileChannel.open(path, READ, WRITE, DELETE_ON_CLOSE);
            // Unlinked at once where the file system allows it: the open channel keeps the data readable,
            // and a crash leaves nothing behind. Elsewhere DELETE_ON_CLOSE removes it.
            try {
                Files.deleteIfExists(path);
            }
            catch (IOException | UncheckedIOException ignored) {
                // Still removed on close.
            }
            return file;
        }
        catch (IOException e) {
            throw new SpoolFailedException(directory, e);
        }
    }

    private void write(FileChannel file, ByteBuffer bytes)
            throws SpoolFailedException
    {
        try {
            while (bytes.hasRemaining()) {
                file.write(bytes);
            }
        }
        catch (IOException e) {
            throw new SpoolFailedException(directory, e);
        }
    }
}
