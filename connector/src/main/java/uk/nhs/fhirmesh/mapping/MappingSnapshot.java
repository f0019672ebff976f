package uk.nhs.fhirmesh.mapping;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

import static java.nio.charset.StandardCharsets.UTF_8;
import static java.util.Objects.requireNonNull;

/**
 * One mapping file's text as the coordinator read it when a query resolved the table, with its SHA-256: what a
 * table handle carries to the workers, so that they never read mapping files of their own and a publish during
 * the query cannot mix two versions of the table. The hash names the version (EXPLAIN shows {@link #shortHash()}).
 *
 * @param source the file name, which prefixes parse errors
 */
public record MappingSnapshot(String source, String json, String sha256)
{
    private static final ObjectMapper JSON = new ObjectMapper();

    @JsonCreator
    public MappingSnapshot(@JsonProperty("source") String source, @JsonProperty("json") String json, @JsonProperty("sha256") String sha256)
    {
        this.source = requireNonNull(source, "source");
        this.json = requireNonNull(json, "json");
        this.sha256 = requireNonNull(sha256, "sha256");
    }

    public static MappingSnapshot of(String source, String json)
    {
        return new MappingSnapshot(source, json, sha256(json));
    }

    /** The first 12 hex digits of the hash: enough to tell versions of one table apart in EXPLAIN and logs. */
    public String shortHash()
    {
        return sha256.substring(0, Math.min(12, sha256.length()));
    }

    /**
     * Parses and validates the mapping.
     *
     * @throws MappingException when the text is not the one the hash names (a handle altered on the way), or not a valid mapping
     */
    public TableMapping parse()
    {
        if (!sha256(json).equals(sha256)) {
            throw new MappingException(source + ": the mapping text does not match its hash " + shortHash());
        }
        try {
            return TableMapping.parse(JSON.readTree(json), source);
        }
        catch (JsonProcessingException e) {
            throw new MappingException(source + ": not valid JSON at line " + e.getLocation().getLineNr() + ", column " + e.getLocation().getColumnNr() + ": " + e.getOriginalMessage());
        }
    }

    static String sha256(String text)
    {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(text.getBytes(UTF_8)));
        }
        catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java runtime has SHA-256", e);
        }
    }

    /** The text is left out: a mapping is kilobytes, and logs and EXPLAIN want the version. */
    @Override
    public String toString()
    {
        return source + "@" + shortHash();
    }
}
