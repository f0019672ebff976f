package uk.nhs.fhirmesh.trino;

import io.trino.spi.TrinoException;
import io.trino.spi.connector.SchemaTableName;
import io.trino.spi.connector.TableNotFoundException;
import uk.nhs.fhirmesh.client.BearerToken;
import uk.nhs.fhirmesh.client.FhirEndpoint;
import uk.nhs.fhirmesh.exclusion.PatientKeys;
import uk.nhs.fhirmesh.mapping.MappingException;
import uk.nhs.fhirmesh.mapping.MappingRepository;
import uk.nhs.fhirmesh.mapping.MappingSnapshot;
import uk.nhs.fhirmesh.mapping.ParsedMappings;
import uk.nhs.fhirmesh.mapping.TableMapping;
import uk.nhs.fhirmesh.search.SearchUrlLimit;

import java.nio.file.Path;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/** What one fhir catalog serves: its settings, its domains' endpoints and its tables (one schema). */
final class FhirCatalog
{
    static final String SCHEMA = "default";
    /** Schema of the connector's system tables (the catalog's domains, the endpoints' circuits). */
    static final String SYSTEM_SCHEMA = "mesh";

    private final FhirConfig config;
    private final MappingRepository mappings;
    /** The mappings of the table handles this node has seen, by version: a worker parses each once. */
    private final ParsedMappings parsed = new ParsedMappings(64);
    private final Map<String, FhirEndpoint> endpoints = new LinkedHashMap<>();

    /**
     * @param secretsDir the only directory token files are read from ({@link BearerToken#SECRETS_DIR_PROPERTY});
     * a catalog naming a file outside it is refused here, and every read checks again
     */
    FhirCatalog(FhirConfig config, Optional<Path> secretsDir)
    {
        this.config = config;
        this.mappings = new MappingRepository(config.mappingsDir());
        config.domains().forEach((code, domain) -> endpoints.put(code, new FhirEndpoint(code, domain.baseUrl(), token(domain, secretsDir))));
    }

    private static BearerToken token(FhirConfig.DomainConfig domain, Optional<Path> secretsDir)
    {
        if (domain.bearerTokenEnv() != null) {
            return BearerToken.fromEnvironment(domain.bearerTokenEnv());
        }
        if (domain.bearerTokenFile() != null) {
            BearerToken.TokenFile file = BearerToken.fromFile(domain.bearerTokenFile(), secretsDir);
            file.refusal().ifPresent(problem -> {
                throw new IllegalArgumentException("fhir catalog property fhir.domain." + domain.code() + ".auth.bearer-token-file: " + problem);
            });
            return file;
        }
        return null;
    }

    FhirConfig config()
    {
        return config;
    }

    SearchUrlLimit searchUrlLimit()
    {
        return new SearchUrlLimit(config.maxSearchUrlLength());
    }

    /** The longest base URL of the catalog's endpoints, which every planned search must fit after. */
    int longestBaseUrl()
    {
        return endpoints.values().stream().mapToInt(endpoint -> endpoint.baseUrl().toString().length()).max().orElse(0);
    }

    List<String> domains()
    {
        return List.copyOf(endpoints.keySet());
    }

    /**
     * The domains a scan of {@code name} asks, in catalog order: the mapping's own, or every domain when it
     * names none. A domain the catalog lacks fails the query: answering from the others would be silently
     * incomplete, and the mapping is then meant for another catalog.
     */
    List<String> domains(SchemaTableName name, TableMapping mapping)
    {
        if (mapping.domains().isEmpty()) {
            return domains();
        }
        for (String code : mapping.domains().get()) {
            if (!endpoints.containsKey(code)) {
                throw new TrinoException(FhirErrorCode.FHIR_INVALID_MAPPING, "table %s cannot be served: its mapping reads from domain %s, which this catalog does not configure (fhir.domains: %s)"
                        .formatted(name, code, String.join(",", endpoints.keySet())));
            }
        }
        return domains().stream().filter(mapping.domains().get()::contains).toList();
    }

    /**
     * The domains, in catalog order, that serve a table with a Patient key ({@link PatientKeys}): whose patients and
     * opt-outs decide which rows may leave the connector. A domain serving none (registered, nothing published yet)
     * holds no row to exclude, so it is not asked; the opt-out is matched across all the others.
     */
    List<String> patientDomains()
    {
        Set<String> serving = new HashSet<>();
        for (TableMapping mapping : mappings.tables().values()) {
            if (!PatientKeys.columns(mapping.view()).isEmpty()) {
                serving.addAll(mapping.domains().orElse(domains()));
            }
        }
        return domains().stream().filter(serving::contains).toList();
    }

    FhirEndpoint endpoint(String domain)
    {
        FhirEndpoint endpoint = endpoints.get(domain);
        if (endpoint == null) {
            throw new TrinoException(FhirErrorCode.FHIR_INVALID_MAPPING, "FHIR domain " + domain + " is not configured in this catalog");
        }
        return endpoint;
    }

    Map<String, TableMapping> tables()
    {
        return mappings.tables();
    }

    Optional<TableMapping> findMapping(SchemaTableName name)
    {
        return findPublished(name).map(MappingRepository.Published::mapping);
    }

    /** The table as the mapping directory holds it now, with the text a query's handle snapshots (coordinator only). */
    Optional<MappingRepository.Published> findPublished(SchemaTableName name)
    {
        if (!SCHEMA.equals(name.getSchemaName())) {
            return Optional.empty();
        }
        try {
            Optional<MappingRepository.Published> published = mappings.published(name.getTableName());
            published.ifPresent(table -> parsed.remember(table.snapshot(), table.mapping()));
            return published;
        }
        catch (MappingException e) {
            throw new TrinoException(FhirErrorCode.FHIR_INVALID_MAPPING, "table " + name + " cannot be served: " + e.getMessage(), e);
        }
    }

    /** The table as the query resolved it: from the handle's snapshot, never from this node's mapping files. */
    TableMapping mapping(FhirTableHandle handle)
    {
        MappingSnapshot snapshot = handle.mapping();
        try {
            return parsed.parse(snapshot);
        }
        catch (MappingException e) {
            throw new TrinoException(FhirErrorCode.FHIR_INVALID_MAPPING, "table " + handle.tableName() + " cannot be served: " + e.getMessage(), e);
        }
    }

    TableMapping mapping(SchemaTableName name)
    {
        return findMapping(name).orElseThrow(() -> new TableNotFoundException(name));
    }
}
