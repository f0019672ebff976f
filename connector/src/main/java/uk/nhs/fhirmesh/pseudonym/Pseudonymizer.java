package uk.nhs.fhirmesh.pseudonym;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

import java.security.GeneralSecurityException;
import java.util.Arrays;
import java.util.HexFormat;

import static java.nio.charset.StandardCharsets.UTF_8;
import static java.util.Objects.requireNonNull;

/**
 * Keyed pseudonyms of identifiers under one project's key: the first {@value #PSEUDONYM_BYTES} bytes of
 * HMAC-SHA256(key, UTF-8 bytes of the value), as lowercase hex. One key gives the same pseudonym for the same
 * value at every trust, so joins still work; another project's key gives unrelated ones. Values are hashed
 * exactly as given (no trimming, case folding or Unicode normalisation). The control plane computes the same
 * function; both sides test against {@code connector-spec/pseudonym-vectors.json}.
 * <p>
 * Thread-safe: {@link Mac} is not, so each thread keeps its own, keyed once. The key is never printed.
 */
public final class Pseudonymizer
{
    /** 32 bytes, written as lowercase hex: the form the gateway sends. */
    public static final int KEY_HEX_LENGTH = 64;
    public static final int PSEUDONYM_BYTES = 16;

    private static final String ALGORITHM = "HmacSHA256";
    private static final HexFormat HEX = HexFormat.of();

    private final ThreadLocal<Mac> macs;

    private Pseudonymizer(SecretKeySpec key)
    {
        // Keying a Mac costs two SHA-256 blocks plus a provider look-up; per row that would dominate.
        this.macs = ThreadLocal.withInitial(() -> keyedMac(key));
        macs.get();
    }

    /**
     * @param keyHex exactly {@value #KEY_HEX_LENGTH} lowercase hexadecimal characters
     * @throws IllegalArgumentException naming what is wrong with the key, never echoing it
     */
    public static Pseudonymizer fromHexKey(String keyHex)
    {
        if (keyHex == null) {
            throw new IllegalArgumentException("pseudonym key is missing");
        }
        if (keyHex.length() != KEY_HEX_LENGTH) {
            throw new IllegalArgumentException("pseudonym key must be " + KEY_HEX_LENGTH + " lowercase hexadecimal characters (32 bytes), not " + keyHex.length() + " characters");
        }
        for (int i = 0; i < keyHex.length(); i++) {
            char c = keyHex.charAt(i);
            if (!(c >= '0' && c <= '9') && !(c >= 'a' && c <= 'f')) {
                throw new IllegalArgumentException("pseudonym key must be " + KEY_HEX_LENGTH + " lowercase hexadecimal characters (32 bytes): character " + (i + 1) + " is not one");
            }
        }
        byte[] key = HEX.parseHex(keyHex);
        try {
            return new Pseudonymizer(new SecretKeySpec(key, ALGORITHM));
        }
        finally {
            Arrays.fill(key, (byte) 0); // SecretKeySpec keeps its own copy
        }
    }

    /** The pseudonym of {@code value}: {@value #PSEUDONYM_BYTES} bytes as 32 lowercase hex characters. */
    public String pseudonym(String value)
    {
        byte[] utf8 = requireNonNull(value, "value").getBytes(UTF_8);
        return pseudonym(utf8, 0, utf8.length);
    }

    /** The pseudonym of the UTF-8 text in {@code utf8[offset, offset + length)}, e.g. a Trino VARCHAR's bytes. */
    public String pseudonym(byte[] utf8, int offset, int length)
    {
        Mac mac = macs.get();
        mac.update(utf8, offset, length);
        // doFinal also resets the Mac to its keyed state, ready for the next value.
        return HEX.formatHex(mac.doFinal(), 0, PSEUDONYM_BYTES);
    }

    @Override
    public String toString()
    {
        return "Pseudonymizer[HMAC-SHA256, key hidden]";
    }

    private static Mac keyedMac(SecretKeySpec key)
    {
        try {
            Mac mac = Mac.getInstance(ALGORITHM);
            mac.init(key);
            return mac;
        }
        catch (GeneralSecurityException e) {
            // Every Java SE runtime must provide HmacSHA256; reaching this means a broken JDK.
            throw new IllegalStateException(ALGORITHM + " is not available", e);
        }
    }
}
