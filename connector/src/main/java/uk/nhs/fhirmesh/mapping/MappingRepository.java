package uk.nhs.fhirmesh.mapping;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.logging.Logger;
import java.util.stream.Stream;

import static java.util.Objects.requireNonNull;

/**
 * The mapping files of one catalog, re-read whenever the directory changes, so that a table the control
 * plane publishes appears without restarting Trino. A broken file does not hide the other tables: it is
 * kept as an error, listed nowhere, and reported by name when a query asks for its table.
 */
public final class MappingRepository
{
    private static final Logger LOG = Logger.getLogger(MappingRepository.class.getName());

    private final Path directory;
    private final ObjectMapper json = new ObjectMapper();
    private Snapshot snapshot = new Snapshot(Map.of(), Map.of(), Map.of(), Map.of());

    /** Tables by name, the text each was parsed from, broken files by table name (file stem), and what they were read from. */
    private record Snapshot(Map<String, TableMapping> tables, Map<String, MappingSnapshot> texts, Map<String, MappingException> broken, Map<Path, FileTime> files) {}

    /** A table as published, with the text it was parsed from (the same read of the file). */
    public record Published(TableMapping mapping, MappingSnapshot snapshot) {}

    public MappingRepository(Path directory)
    {
        this.directory = requireNonNull(directory, "directory");
        if (!Files.isDirectory(directory)) {
            throw new MappingException("fhir.mappings.dir " + directory + " is not a directory");
        }
    }

    public Map<String, TableMapping> tables()
    {
        return current().tables();
    }

    /** Empty when there is no such table; an exception naming the file when its mapping is broken. */
    public Optional<TableMapping> table(String name)
    {
        return published(name).map(Published::mapping);
    }

    /** Empty when there is no such table; an exception naming the file when its mapping is broken. */
    public Optional<Published> published(String name)
    {
        Snapshot current = current();
        MappingException broken = current.broken().get(name);
        if (broken != null) {
            throw broken;
        }
        return Optional.ofNullable(current.tables().get(name)).map(mapping -> new Published(mapping, current.texts().get(name)));
    }

    private synchronized Snapshot current()
    {
        Map<Path, FileTime> files = listFiles();
        if (!files.equals(snapshot.files())) {
            snapshot = load(files);
        }
        return snapshot;
    }

    private Map<Path, FileTime> listFiles()
    {
        Map<Path, FileTime> files = new TreeMap<>();
        try (Stream<Path> entries = Files.list(directory)) {
            for (Path file : (Iterable<Path>) entries.filter(p -> p.getFileName().toString().endsWith(".json"))::iterator) {
                try {
                    files.put(file, Files.getLastModifiedTime(file));
                }
                catch (NoSuchFileException e) {
                    // Removed between listing and reading (the control plane retires a table): it is simply gone.
                }
            }
        }
        catch (IOException e) {
            throw new MappingException("cannot list mapping directory " + directory + ": " + e.getMessage(), e);
        }
        return files;
    }

    private Snapshot load(Map<Path, FileTime> files)
    {
        Map<String, TableMapping> tables = new TreeMap<>();
        Map<String, MappingSnapshot> texts = new TreeMap<>();
        Map<String, MappingException> broken = new TreeMap<>();
        for (Path file : files.keySet()) {
            String source = file.getFileName().toString();
            String stem = source.substring(0, source.length() - ".json".length());
            try {
                MappingSnapshot text = MappingSnapshot.of(source, readText(file, source));
                TableMapping mapping = TableMapping.parse(readJson(text.json(), source), source);
                if (tables.containsKey(mapping.table())) {
                    throw new MappingException(source + ": table '" + mapping.table() + "' is defined by another mapping file too");
                }
                tables.put(mapping.table(), mapping);
                texts.put(mapping.table(), text);
            }
            catch (MappingException e) {
                LOG.warning("fhir mapping not served: " + e.getMessage());
                broken.put(stem, e);
            }
        }
        return new Snapshot(tables, texts, broken, files);
    }

    /** The file's text, kept as read: its hash is the version a query's table handle names. */
    private static String readText(Path file, String source)
    {
        try {
            return Files.readString(file);
        }
        catch (IOException e) {
            throw new MappingException(source + ": cannot read: " + e.getMessage(), e);
        }
    }

    private com.fasterxml.jackson.databind.JsonNode readJson(String text, String source)
    {
        try {
            return json.readTree(text);
        }
        catch (JsonProcessingException e) {
            throw new MappingException(source + ": not valid JSON at line " + e.getLocation().getLineNr() + ", column " + e.getLocation().getColumnNr() + ": " + e.getOriginalMessage());
        }
    }
}
