package uk.nhs.fhirmesh.pseudonym;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.IntStream;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The pseudonym contract shared with the control plane, key validation that never echoes the key, and threads. */
class TestPseudonymizer
{
    static final Path VECTORS = Path.of("..", "connector-spec", "pseudonym-vectors.json");
    private static final String KEY = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";

    static JsonNode vectors()
            throws IOException
    {
        return new ObjectMapper().readTree(VECTORS.toFile());
    }

    @Test
    void fixedVector()
    {
        // Node: createHmac('sha256', Buffer.from(KEY, 'hex')).update('9434765919', 'utf8').digest('hex').slice(0, 32)
        assertEquals("dd5c602eeb31d60c7c0d662c897231dd", Pseudonymizer.fromHexKey(KEY).pseudonym("9434765919"));
    }

    @Test
    void matchesEverySharedVector()
            throws IOException
    {
        JsonNode vectors = vectors().get("vectors");
        assertTrue(vectors.size() >= 5, "vectors: " + vectors.size());
        for (JsonNode vector : vectors) {
            String value = vector.get("value").asText();
            String about = vector.get("about").asText();
            // The file pins the bytes too, so an editor that normalises Unicode cannot silently change a vector.
            assertEquals(vector.get("valueUtf8Hex").asText(), HexFormat.of().formatHex(value.getBytes(UTF_8)), about);
            assertEquals(vector.get("pseudonym").asText(), Pseudonymizer.fromHexKey(vector.get("key").asText()).pseudonym(value), about);
        }
    }

    @Test
    void sameValueUnderAnotherKeyOrInAnotherNormalisationIsUnrelated()
    {
        String other = "8f3c5a1e9b7d2f4a6c0e8b1d3f5a7c9e2b4d6f8a0c1e3b5d7f9a2c4e6b8d0f1a";
        assertNotEquals(Pseudonymizer.fromHexKey(KEY).pseudonym("9434765919"), Pseudonymizer.fromHexKey(other).pseudonym("9434765919"));
        Pseudonymizer pseudonymizer = Pseudonymizer.fromHexKey(KEY);
        assertNotEquals(pseudonymizer.pseudonym("Zo\u00eb"), pseudonymizer.pseudonym("Zoe\u0308"));
    }

    @Test
    void hashesOnlyTheGivenByteRange()
    {
        Pseudonymizer pseudonymizer = Pseudonymizer.fromHexKey(KEY);
        byte[] buffer = "xx9434765919yyy".getBytes(UTF_8);
        assertEquals("dd5c602eeb31d60c7c0d662c897231dd", pseudonymizer.pseudonym(buffer, 2, 10));
    }

    @Test
    void refusesEveryInvalidSharedKeyWithoutEchoingIt()
            throws IOException
    {
        for (JsonNode invalid : vectors().get("invalidKeys")) {
            String key = invalid.get("key").asText();
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Pseudonymizer.fromHexKey(key), invalid.get("about").asText());
            assertTrue(e.getMessage().startsWith("pseudonym key must be 64 lowercase hexadecimal characters (32 bytes)"), e.getMessage());
            if (!key.isEmpty()) {
                assertFalse(e.getMessage().contains(key.strip()), e.getMessage());
                // Nor a telling part of it: no run of 8 key characters.
                for (int i = 0; i + 8 <= key.length(); i++) {
                    assertFalse(e.getMessage().contains(key.substring(i, i + 8)), e.getMessage());
                }
            }
        }
        assertEquals("pseudonym key must be 64 lowercase hexadecimal characters (32 bytes), not 63 characters",
                assertThrows(IllegalArgumentException.class, () -> Pseudonymizer.fromHexKey(KEY.substring(1))).getMessage());
        assertEquals("pseudonym key must be 64 lowercase hexadecimal characters (32 bytes): character 64 is not one",
                assertThrows(IllegalArgumentException.class, () -> Pseudonymizer.fromHexKey(KEY.substring(0, 63) + "G")).getMessage());
        assertEquals("pseudonym key is missing", assertThrows(IllegalArgumentException.class, () -> Pseudonymizer.fromHexKey(null)).getMessage());
    }

    @Test
    void toStringHidesTheKey()
    {
        String text = Pseudonymizer.fromHexKey(KEY).toString();
        assertFalse(text.contains(KEY.substring(0, 8)) || text.contains("0001020304"), text);
    }

    @Test
    void threadsSharingOnePseudonymizerGetTheRightPseudonyms()
            throws Exception
    {
        // One shared Mac would mix the bytes of concurrent values; the expected values come from a fresh Mac each.
        Pseudonymizer shared = Pseudonymizer.fromHexKey(KEY);
        List<String> values = IntStream.range(0, 4000).mapToObj(i -> String.valueOf(9_000_000_000L + i * 7919L)).toList();
        List<String> expected = new ArrayList<>();
        for (String value : values) {
            expected.add(independentPseudonym(value));
        }
        try (ExecutorService pool = Executors.newFixedThreadPool(4)) {
            List<Future<List<String>>> runs = new ArrayList<>();
            for (int t = 0; t < 4; t++) {
                runs.add(pool.submit(() -> values.stream().map(shared::pseudonym).toList()));
            }
            for (Future<List<String>> run : runs) {
                assertEquals(expected, run.get());
            }
        }
    }

    private static String independentPseudonym(String value)
            throws Exception
    {
        Mac mac = Mac.getInstance("HmacSHA256");
        mac.init(new SecretKeySpec(HexFormat.of().parseHex(KEY), "HmacSHA256"));
        return HexFormat.of().formatHex(mac.doFinal(value.getBytes(UTF_8))).substring(0, 32);
    }
}
