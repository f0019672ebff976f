package uk.nhs.fhirmesh.client;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

import static java.nio.charset.StandardCharsets.UTF_8;

/**
 * The resource ids one search has returned so far, kept as 64-bit hashes (the first 8 bytes of the id's
 * SHA-256) in an open-addressing table of {@code long}s with linear probing, grown by doubling at 3/4 full.
 * Memory: 8 bytes per slot and 4/3 to 8/3 slots per id, so about 11 to 21 MB per million ids (16 MiB for exactly
 * one million), plus the old table while it doubles; 512 bytes for a search that returns none.
 * <p>
 * Two different ids with the same hash would be taken for a repeated id: the search then fails loudly, it never
 * gives a wrong answer. With SHA-256 the chance of that, over n ids, is about n^2/2^65: 3e-8 for a million ids.
 * SHA-256 because the JDK has it (this package uses nothing of Trino's or airlift's) and a server cannot cheaply
 * make ids collide (and if it did, its searches would only fail); about 0.3 microseconds per id, little beside parsing.
 * Not thread-safe: one search stream, one reading thread.
 */
final class ResourceIdSet
{
    private static final int INITIAL_SLOTS = 64;
    /** The empty slot; a hash that happens to be 0 is stored as {@link #ZERO_HASH} (one more way to collide, as likely as any). */
    private static final long EMPTY = 0L;
    private static final long ZERO_HASH = 1L;

    private final MessageDigest sha256;
    private long[] slots = new long[INITIAL_SLOTS];
    private int size;

    ResourceIdSet()
    {
        try {
            sha256 = MessageDigest.getInstance("SHA-256");
        }
        catch (NoSuchAlgorithmException e) {
            // Every Java platform must provide SHA-256 (MessageDigest's Javadoc).
            throw new IllegalStateException(e);
        }
    }

    /** Adds {@code id}; {@code false} when it (or an id with the same hash) was added before. */
    boolean add(String id)
    {
        long hash = hash(id);
        int mask = slots.length - 1;
        // The hash's low bits are as random as its high ones: they pick the slot directly.
        for (int slot = (int) hash & mask; ; slot = (slot + 1) & mask) {
            long stored = slots[slot];
            if (stored == hash) {
                return false;
            }
            if (stored == EMPTY) {
                slots[slot] = hash;
                size++;
                if (size * 4L >= slots.length * 3L) {
                    grow();
                }
                return true;
            }
        }
    }

    int size()
    {
        return size;
    }

    /** Bytes held by the table now. */
    long tableBytes()
    {
        return slots.length * (long) Long.BYTES;
    }

    private long hash(String id)
    {
        byte[] digest = sha256.digest(id.getBytes(UTF_8));
        long hash = 0;
        for (int i = 0; i < Long.BYTES; i++) {
            hash = (hash << 8) | (digest[i] & 0xFF);
        }
        return hash == EMPTY ? ZERO_HASH : hash;
    }

    private void grow()
    {
        long[] old = slots;
        long[] grown = new long[old.length * 2];
        int mask = grown.length - 1;
        for (long hash : old) {
            if (hash != EMPTY) {
                int slot = (int) hash & mask;
                while (grown[slot] != EMPTY) {
                    slot = (slot + 1) & mask;
                }
                grown[slot] = hash;
            }
        }
        slots = grown;
    }
}
