package uk.nhs.fhirmesh.trino;

import io.airlift.slice.Slice;
import io.trino.spi.TrinoException;
import io.trino.spi.connector.ConnectorSession;
import io.trino.spi.function.ScalarFunction;
import io.trino.spi.security.ConnectorIdentity;
import org.junit.jupiter.api.Test;

import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.util.Map;

import static io.airlift.slice.Slices.utf8Slice;
import static io.trino.spi.StandardErrorCode.PERMISSION_DENIED;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * mesh_pseudonym as Trino calls it: with the session's extra credentials, on VARCHAR slices that are views
 * into a larger buffer. The end-to-end run through a real Trino is e2e/test/pseudonym-function.e2e.ts.
 */
class TestPseudonymFunction
{
    private static final String KEY = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
    private static final String OTHER_KEY = "8f3c5a1e9b7d2f4a6c0e8b1d3f5a7c9e2b4d6f8a0c1e3b5d7f9a2c4e6b8d0f1a";

    /** A session whose identity carries these extra credentials; nothing else is read by the function. */
    private static ConnectorSession session(Map<String, String> extraCredentials)
    {
        ConnectorIdentity identity = ConnectorIdentity.forUser("alice").withExtraCredentials(extraCredentials).build();
        return (ConnectorSession) Proxy.newProxyInstance(TestPseudonymFunction.class.getClassLoader(), new Class<?>[] {ConnectorSession.class},
                (proxy, method, args) -> {
                    if (method.getName().equals("getIdentity")) {
                        return identity;
                    }
                    throw new UnsupportedOperationException(method.getName());
                });
    }

    private static String pseudonym(ConnectorSession session, Slice value)
    {
        return PseudonymFunction.meshPseudonym(session, value).toStringUtf8();
    }

    @Test
    void pseudonymUnderTheSessionKey()
    {
        ConnectorSession session = session(Map.of(PseudonymFunction.KEY_CREDENTIAL, KEY, "purpose", "research"));
        assertEquals("dd5c602eeb31d60c7c0d662c897231dd", pseudonym(session, utf8Slice("9434765919")));
        assertEquals("3a130bf0ff46f3b632d2bdbd8af9fad3", pseudonym(session, utf8Slice("Si\u00e2n Ll\u0177r")));
        assertEquals("ed76bf77392a7a510953fd594708452e", pseudonym(session, utf8Slice("\u5468 \ud83d\ude00")));
        // Trino hands a VARCHAR as a view into its block's buffer: only the view's bytes count.
        assertEquals("dd5c602eeb31d60c7c0d662c897231dd", pseudonym(session, utf8Slice("xx9434765919yyy").slice(2, 10)));
    }

    @Test
    void eachSessionGetsItsOwnKeysPseudonyms()
    {
        ConnectorSession project = session(Map.of(PseudonymFunction.KEY_CREDENTIAL, KEY));
        ConnectorSession otherProject = session(Map.of(PseudonymFunction.KEY_CREDENTIAL, OTHER_KEY));
        for (int i = 0; i < 3; i++) {
            assertEquals("dd5c602eeb31d60c7c0d662c897231dd", pseudonym(project, utf8Slice("9434765919")));
            assertEquals("1bd83931d1ab5f6fe2cd4d12265467c1", pseudonym(otherProject, utf8Slice("9434765919")));
        }
    }

    @Test
    void refusesASessionWithoutAKey()
    {
        TrinoException e = assertThrows(TrinoException.class, () -> pseudonym(session(Map.of("purpose", "research")), utf8Slice("9434765919")));
        assertEquals(PERMISSION_DENIED.toErrorCode(), e.getErrorCode());
        assertEquals("mesh_pseudonym is only available to queries sent through the FHIR mesh gateway: this session has no pseudonym key", e.getMessage());
    }

    @Test
    void refusesAMalformedKeyWithoutEchoingIt()
    {
        for (String malformed : new String[] {KEY.toUpperCase(), KEY.substring(2), KEY + "00", KEY.substring(0, 63) + "z"}) {
            TrinoException e = assertThrows(TrinoException.class, () -> pseudonym(session(Map.of(PseudonymFunction.KEY_CREDENTIAL, malformed)), utf8Slice("9434765919")));
            assertEquals(PERMISSION_DENIED.toErrorCode(), e.getErrorCode());
            assertTrue(e.getMessage().startsWith("mesh_pseudonym is only available to queries sent through the FHIR mesh gateway: this session's pseudonym key must be 64 lowercase hexadecimal characters"), e.getMessage());
            assertFalse(e.getMessage().contains(malformed.substring(4, 20)), e.getMessage());
            assertEquals(null, e.getCause());
        }
    }

    @Test
    void isADeterministicScalarFunctionOfTheFhirPlugin()
            throws NoSuchMethodException
    {
        Method method = PseudonymFunction.class.getMethod("meshPseudonym", ConnectorSession.class, Slice.class);
        ScalarFunction annotation = method.getAnnotation(ScalarFunction.class);
        assertEquals("mesh_pseudonym", annotation.value());
        assertTrue(annotation.deterministic());
        assertTrue(new FhirPlugin().getFunctions().contains(PseudonymFunction.class));
    }
}
