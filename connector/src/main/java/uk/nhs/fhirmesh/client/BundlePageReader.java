package uk.nhs.fhirmesh.client;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.exc.StreamConstraintsException;
import com.fasterxml.jackson.core.io.JsonEOFException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;

import java.io.IOException;
import java.io.InputStream;
import java.util.OptionalLong;
import java.util.regex.Pattern;

import static uk.nhs.fhirmesh.client.FhirRequestException.Kind.MALFORMED_RESPONSE;
import static uk.nhs.fhirmesh.client.FhirRequestException.Kind.OPERATION_OUTCOME;

/**
 * Reads one searchset Bundle page straight from a response body with Jackson's streaming parser,
 * materialising one entry at a time, so memory stays flat whatever the page size. The Bundle's
 * {@code link} may come before or after {@code entry}: the next link and total are known once
 * {@link #nextResource()} has returned {@code null}.
 */
final class BundlePageReader
        implements AutoCloseable
{
    /** Decimals as BigDecimal with their exact text: {@code 516.93} must not become {@code 516.9299999}. */
    static final ObjectMapper MAPPER = JsonMapper.builder()
            .enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS)
            .nodeFactory(JsonNodeFactory.withExactBigDecimals(true))
            .build();

    private static final Pattern RESOURCE_TYPE = Pattern.compile("[A-Za-z]{1,64}");

    /** The body is not the expected Bundle; {@code detail} is safe to show. */
    static final class ContentException
            extends RuntimeException
    {
        private final FhirRequestException.Kind kind;

        ContentException(FhirRequestException.Kind kind, String detail)
        {
            super(detail);
            this.kind = kind;
        }

        FhirRequestException.Kind kind()
        {
            return kind;
        }
    }

    private final JsonParser parser;
    private final String resourceType;
    private final Redactor redactor;

    private boolean started;
    private boolean inEntries;
    private boolean finished;
    private int entryIndex = -1;
    private String bodyType;
    private String nextLink;
    private String selfLink;
    private Long total;
    private JsonNode issues;

    BundlePageReader(InputStream body, String resourceType, Redactor redactor)
            throws IOException
    {
        this.parser = MAPPER.createParser(body);
        this.resourceType = resourceType;
        this.redactor = redactor;
    }

    /**
     * The next entry resource of the requested type, skipping {@code include} and {@code outcome}
     * entries, or {@code null} once the page has been read to its end.
     *
     * @throws ContentException when the body is not a Bundle of the requested resources, or not JSON
     * @throws IOException when reading the body fails
     */
    JsonNode nextResource()
            throws IOException
    {
        try {
            return advance();
        }
        catch (JsonProcessingException e) {
            // Jackson's messages may quote body content, which may be patient data: only say where.
            String what = switch (e) {
                case JsonEOFException _ -> "truncated JSON, unexpected end of input";
                case StreamConstraintsException limit -> "JSON beyond the parser's limits (" + limit.getOriginalMessage() + ")";
                default -> "malformed JSON";
            };
            JsonLocation location = e.getLocation() == null ? parser.currentLocation() : e.getLocation();
            throw new ContentException(MALFORMED_RESPONSE, "%s at line %d, column %d".formatted(what, location.getLineNr(), location.getColumnNr()));
        }
    }

    private JsonNode advance()
            throws IOException
    {
        if (finished) {
            return null;
        }
        if (!started) {
            started = true;
            JsonToken first = parser.nextToken();
            if (first != JsonToken.START_OBJECT) {
                throw new ContentException(MALFORMED_RESPONSE, first == null ? "empty response body" : "response body is not a JSON object");
            }
        }
        while (true) {
            if (inEntries) {
                JsonNode resource = nextEntryResource();
                if (resource != null) {
                    return resource;
                }
                continue;
            }
            if (parser.nextToken() == JsonToken.END_OBJECT) {
                finish();
                return null;
            }
            String field = parser.currentName();
            JsonToken value = parser.nextToken();
            switch (field) {
                case "resourceType" -> bodyType(parser.getValueAsString());
                case "total" -> total = value == JsonToken.VALUE_NUMBER_INT ? parser.getLongValue() : malformed("Bundle.total is not an integer");
                case "link" -> {
                    JsonNode links = parser.readValueAsTree();
                    nextLink = link(links, "next");
                    selfLink = link(links, "self");
                }
                case "entry" -> inEntries = entries(value);
                case "issue" -> issues = outcomeIssues();
                default -> parser.skipChildren();
            }
        }
    }

    /** The next accepted resource of the entry array, {@code null} for a skipped entry or at the array's end. */
    private JsonNode nextEntryResource()
            throws IOException
    {
        JsonToken token = parser.nextToken();
        if (token == JsonToken.END_ARRAY) {
            inEntries = false;
            return null;
        }
        entryIndex++;
        if (token != JsonToken.START_OBJECT) {
            return malformed("Bundle.entry[%d] is not an object".formatted(entryIndex));
        }
        JsonNode entry = parser.readValueAsTree();
        String mode = entry.path("search").path("mode").asText("match");
        if (mode.equals("include") || mode.equals("outcome")) {
            return null;
        }
        JsonNode resource = entry.path("resource");
        if (!resource.isObject()) {
            return malformed("Bundle.entry[%d] has no resource".formatted(entryIndex));
        }
        String type = resource.path("resourceType").asText("");
        if (!type.equals(resourceType)) {
            return malformed("Bundle.entry[%d] is %s, not a %s".formatted(entryIndex, describeType(type), resourceType));
        }
        return resource;
    }

    /** An OperationOutcome's issues, for the error message; a Bundle has none worth keeping in memory. */
    private JsonNode outcomeIssues()
            throws IOException
    {
        if ("Bundle".equals(bodyType)) {
            parser.skipChildren();
            return null;
        }
        return parser.readValueAsTree();
    }

    private void bodyType(String type)
    {
        bodyType = type == null ? "" : type;
        if (!bodyType.equals("Bundle") && !bodyType.equals("OperationOutcome")) {
            malformed("the response is %s, not a Bundle".formatted(describeType(bodyType)));
        }
    }

    private boolean entries(JsonToken value)
    {
        if (value == JsonToken.VALUE_NULL) {
            return false;
        }
        if (value != JsonToken.START_ARRAY) {
            malformed("Bundle.entry is not an array");
        }
        return true;
    }

    private static String link(JsonNode links, String relation)
    {
        if (!links.isArray()) {
            return malformed("Bundle.link is not an array");
        }
        for (JsonNode link : links) {
            if (relation.equals(link.path("relation").asText()) && link.path("url").isTextual()) {
                return link.path("url").asText();
            }
        }
        return null;
    }

    private void finish()
            throws IOException
    {
        // Read to the end of the body, so that trailing garbage is noticed and the connection can be reused.
        if (parser.nextToken() != null) {
            malformed("unexpected content after the Bundle");
        }
        finished = true;
        if (bodyType == null) {
            malformed("the response has no resourceType");
        }
        if (bodyType.equals("OperationOutcome")) {
            String summary = issues == null ? "" : OperationOutcomes.summary(issues, redactor);
            throw new ContentException(OPERATION_OUTCOME, "the server answered with an OperationOutcome instead of a Bundle" + (summary.isEmpty() ? "" : ": " + summary));
        }
    }

    /** The index in {@code Bundle.entry} of the resource {@link #nextResource()} returned last (included entries count too). */
    int entryIndex()
    {
        return entryIndex;
    }

    /** The Bundle's next link; valid once the page has been read to its end. */
    String nextLink()
    {
        return nextLink;
    }

    /** The Bundle's self link: the search as the server ran it; valid once the page has been read to its end. */
    String selfLink()
    {
        return selfLink;
    }

    /** {@code Bundle.total}; valid once the page has been read to its end. */
    OptionalLong total()
    {
        return total == null ? OptionalLong.empty() : OptionalLong.of(total);
    }

    private static String describeType(String type)
    {
        if (type.isEmpty()) {
            return "a resource without resourceType";
        }
        return RESOURCE_TYPE.matcher(type).matches() ? "a " + type : "an unknown resource type";
    }

    private static <T> T malformed(String detail)
    {
        throw new ContentException(MALFORMED_RESPONSE, detail);
    }

    /** Closes the parser and its body; before the end of the page, that aborts the response. */
    @Override
    public void close()
            throws IOException
    {
        parser.close();
    }
}
