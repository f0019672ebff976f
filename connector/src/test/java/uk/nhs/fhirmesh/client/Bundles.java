package uk.nhs.fhirmesh.client;

import java.util.ArrayList;
import java.util.List;

/** Bundle JSON the way HAPI FHIR 8 writes it: {@code link} before {@code entry} unless asked otherwise. */
final class Bundles
{
    private Bundles() {}

    static String resource(String type, String id)
    {
        return "{\"resourceType\":\"%s\",\"id\":\"%s\",\"meta\":{\"lastUpdated\":\"2024-05-01T10:00:00.000+00:00\"}}".formatted(type, id);
    }

    static String condition(String id)
    {
        return resource("Condition", id);
    }

    static String entry(String resource, String mode)
    {
        return "{\"fullUrl\":\"http://example/fhir/x\",\"resource\":%s,\"search\":{\"mode\":\"%s\"}}".formatted(resource, mode);
    }

    static String page(String nextUrl, String... resources)
    {
        return page(nextUrl, true, resources);
    }

    static String page(String nextUrl, boolean linkFirst, String... resources)
    {
        List<String> entries = new ArrayList<>();
        for (String resource : resources) {
            entries.add(entry(resource, "match"));
        }
        return bundle(nextUrl, linkFirst, entries);
    }

    static String bundle(String nextUrl, boolean linkFirst, List<String> entries)
    {
        String links = "\"link\":[{\"relation\":\"self\",\"url\":\"http://example/self\"}"
                + (nextUrl == null ? "" : ",{\"relation\":\"next\",\"url\":\"" + nextUrl + "\"}") + "]";
        String entryArray = "\"entry\":[" + String.join(",", entries) + "]";
        String head = "{\"resourceType\":\"Bundle\",\"id\":\"b1\",\"meta\":{\"lastUpdated\":\"2024-05-01T10:00:00.000+00:00\"},\"type\":\"searchset\",\"total\":" + entries.size();
        return head + "," + (linkFirst ? links + "," + entryArray : entryArray + "," + links) + "}";
    }

    static String operationOutcome(String diagnostics)
    {
        return "{\"resourceType\":\"OperationOutcome\",\"issue\":[{\"severity\":\"error\",\"code\":\"processing\",\"diagnostics\":\"%s\"}]}".formatted(diagnostics);
    }
}
