package uk.nhs.fhirmesh.mapping;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The parsed mappings of the snapshots a node saw last, by hash, so that a worker parses a query's mapping once
 * however many splits it runs. Bounded (least recently used goes first): a catalog has tens of tables and a
 * publish adds one version, so a few dozen entries hold every version running queries still use.
 */
public final class ParsedMappings
{
    private final Map<String, TableMapping> bySha256;

    public ParsedMappings(int capacity)
    {
        this.bySha256 = new LinkedHashMap<>(16, 0.75f, true)
        {
            @Override
            protected boolean removeEldestEntry(Map.Entry<String, TableMapping> eldest)
            {
                return size() > capacity;
            }
        };
    }

    /** @throws MappingException when the snapshot is not a valid mapping (or not the text its hash names) */
    public synchronized TableMapping parse(MappingSnapshot snapshot)
    {
        TableMapping mapping = bySha256.get(snapshot.sha256());
        if (mapping == null) {
            mapping = snapshot.parse();
            bySha256.put(snapshot.sha256(), mapping);
        }
        return mapping;
    }

    /** A mapping the coordinator has just parsed from this very text (MappingRepository): nothing to parse again. */
    public synchronized void remember(MappingSnapshot snapshot, TableMapping mapping)
    {
        bySha256.putIfAbsent(snapshot.sha256(), mapping);
    }

    synchronized int size()
    {
        return bySha256.size();
    }
}
