package uk.nhs.fhirmesh.trino;

import io.airlift.slice.Slice;
import io.airlift.slice.Slices;
import io.trino.spi.TrinoException;
import io.trino.spi.connector.ConnectorSession;
import io.trino.spi.function.Description;
import io.trino.spi.function.ScalarFunction;
import io.trino.spi.function.SqlType;
import io.trino.spi.type.StandardTypes;
import uk.nhs.fhirmesh.pseudonym.Pseudonymizer;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import static io.trino.spi.StandardErrorCode.PERMISSION_DENIED;

/**
 * {@code mesh_pseudonym(varchar) -> varchar}: the project's keyed pseudonym of an identifier, which the gateway
 * puts in place of identity columns. The key comes from the extra credential {@value #KEY_CREDENTIAL} that
 * the gateway adds to each request: Trino keeps extra credentials out of the SQL, EXPLAIN and query info, and
 * hands them to workers beside the session, so the key is never in Trino's files or plans.
 * <p>
 * NULL gives NULL (Trino does not call the method). Deterministic within a query, whose key is fixed.
 */
public final class PseudonymFunction
{
    public static final String NAME = "mesh_pseudonym";
    public static final String KEY_CREDENTIAL = "mesh.pseudonym-key";

    private static final String GATEWAY_ONLY = NAME + " is only available to queries sent through the FHIR mesh gateway: ";
    /** Keys are per project, so few are live at once; past this many the cache starts over. */
    private static final int MAX_CACHED_KEYS = 64;
    /** Parsing a key and keying a Mac per row would cost more than the HMAC itself. */
    private static final Map<String, Pseudonymizer> PSEUDONYMIZERS = new ConcurrentHashMap<>();

    private PseudonymFunction() {}

    @ScalarFunction(NAME)
    @Description("Keyed pseudonym of an identifier (32 hex characters of HMAC-SHA256 under the project key the FHIR mesh gateway supplies)")
    @SqlType(StandardTypes.VARCHAR)
    public static Slice meshPseudonym(ConnectorSession session, @SqlType(StandardTypes.VARCHAR) Slice value)
    {
        Pseudonymizer pseudonymizer = pseudonymizer(session);
        return Slices.utf8Slice(pseudonymizer.pseudonym(value.byteArray(), value.byteArrayOffset(), value.length()));
    }

    private static Pseudonymizer pseudonymizer(ConnectorSession session)
    {
        String keyHex = session.getIdentity().getExtraCredentials().get(KEY_CREDENTIAL);
        if (keyHex == null) {
            throw new TrinoException(PERMISSION_DENIED, GATEWAY_ONLY + "this session has no pseudonym key");
        }
        Pseudonymizer cached = PSEUDONYMIZERS.get(keyHex);
        if (cached != null) {
            return cached;
        }
        Pseudonymizer parsed;
        try {
            parsed = Pseudonymizer.fromHexKey(keyHex);
        }
        catch (IllegalArgumentException e) {
            // The message names what is wrong with the key, never the key; no cause, so no stack trace carries it.
            throw new TrinoException(PERMISSION_DENIED, GATEWAY_ONLY + "this session's " + e.getMessage());
        }
        if (PSEUDONYMIZERS.size() >= MAX_CACHED_KEYS) {
            PSEUDONYMIZERS.clear();
        }
        PSEUDONYMIZERS.put(keyHex, parsed);
        return parsed;
    }
}
