package uk.nhs.fhirmesh.trino;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TestFhirConfig
{
    private static final Path SCHEMA = Path.of("..", "connector-spec", "catalog-properties.schema.json");

    private static Map<String, String> minimal()
    {
        Map<String, String> properties = new HashMap<>();
        properties.put("connector.name", "fhir");
        properties.put("fhir.domains", "RX1,rth");
        properties.put("fhir.domain.RX1.base-url", "http://127.0.0.1:8190/fhir/rx1/");
        properties.put("fhir.domain.rth.base-url", "https://fhir.example.nhs.uk/R4");
        properties.put("fhir.domain.rth.auth.bearer-token-env", "FHIR_MESH_TOKEN_RTH");
        properties.put("fhir.mappings.dir", "/tmp");
        return properties;
    }

    @Test
    void defaultsMatchTheSchema()
            throws IOException
    {
        JsonNode schema = new ObjectMapper().readTree(SCHEMA.toFile());
        FhirConfig config = FhirConfig.parse(minimal());
        JsonNode properties = schema.get("properties");
        assertEquals(Integer.parseInt(properties.get("fhir.page-size").get("default").asText()), config.pageSize());
        assertEquals(FhirConfig.duration(new HashMap<>(), "x", properties.get("fhir.http.request-timeout").get("default").asText()), config.requestTimeout());
        assertEquals(FhirConfig.duration(new HashMap<>(), "x", properties.get("fhir.http.connect-timeout").get("default").asText()), config.connectTimeout());
        assertEquals(FhirConfig.duration(new HashMap<>(), "x", properties.get("fhir.retry.max-time").get("default").asText()), config.retryMaxTime());
        assertEquals(FhirConfig.dataSize(new HashMap<>(), "x", properties.get("fhir.http.max-response-size").get("default").asText()), config.maxResponseBytes());
        assertEquals(1L << 30, config.maxResponseBytes());
        assertEquals(Integer.parseInt(properties.get("fhir.retry.max-attempts").get("default").asText()), config.retryMaxAttempts());
        assertEquals(Integer.parseInt(properties.get("fhir.max-concurrent-requests-per-endpoint").get("default").asText()), config.maxConcurrentRequestsPerEndpoint());
        assertEquals(Integer.parseInt(properties.get("fhir.max-concurrent-requests").get("default").asText()), config.maxConcurrentRequests());
        assertEquals(Integer.parseInt(properties.get("fhir.split.planning-concurrency").get("default").asText()), config.splitPlanningConcurrency());
        assertEquals(Integer.parseInt(properties.get("fhir.circuit.failure-threshold").get("default").asText()), config.circuitFailureThreshold());
        assertEquals(FhirConfig.duration(new HashMap<>(), "x", properties.get("fhir.circuit.open-duration").get("default").asText()), config.circuitOpenDuration());
        assertEquals(Long.parseLong(properties.get("fhir.split.resources-per-split").get("default").asText()), config.resourcesPerSplit());
        assertEquals(Integer.parseInt(properties.get("fhir.split.max-per-domain").get("default").asText()), config.maxSplitsPerDomain());
        assertTrue(config.pushdownEnabled());
        assertEquals(Integer.parseInt(properties.get("fhir.search.max-url-length").get("default").asText()), config.maxSearchUrlLength());
        assertEquals(properties.get("fhir.opt-out.policy-uri").get("default").asText(), config.optOutPolicyUri());
        assertEquals(FhirConfig.duration(new HashMap<>(), "x", properties.get("fhir.patient-exclusion.cache-ttl").get("default").asText()), config.patientExclusionCacheTtl());
        assertEquals(FhirConfig.duration(new HashMap<>(), "x", properties.get("fhir.dynamic-filtering.wait-timeout").get("default").asText()), config.dynamicFilteringWaitTimeout());
    }

    @Test
    void readsTheDomainsDescriptionTrimmedAndAbsentAsNull()
    {
        Map<String, String> properties = minimal();
        properties.put("fhir.domain.RX1.name", "  Nottingham University Hospitals NHS Trust ");
        properties.put("fhir.domain.RX1.kind", "trust");
        properties.put("fhir.domain.rx1.region", "Midlands");
        properties.put("fhir.domain.rth.region", "   ");
        FhirConfig config = FhirConfig.parse(properties);
        FhirConfig.DomainConfig rx1 = config.domains().get("RX1");
        assertEquals(List.of("Nottingham University Hospitals NHS Trust", "trust", "Midlands"), List.of(rx1.name(), rx1.kind(), rx1.region()));
        FhirConfig.DomainConfig rth = config.domains().get("RTH");
        assertNull(rth.name());
        assertNull(rth.kind());
        assertNull(rth.region(), "a blank value is no value");
    }

    @Test
    void refusesADomainDescriptionTooLongOrWithControlCharacters()
    {
        Map<String, String> properties = minimal();
        properties.put("fhir.domain.RX1.region", " " + "x".repeat(200) + " ");
        assertEquals("x".repeat(200), FhirConfig.parse(properties).domains().get("RX1").region());
        properties.put("fhir.domain.RX1.region", "x".repeat(201));
        assertEquals("fhir catalog property fhir.domain.RX1.region: is 201 characters long; at most 200 are allowed",
                assertThrows(IllegalArgumentException.class, () -> FhirConfig.parse(properties)).getMessage());
        for (String name : List.of("Nottingham\nfhir.domain.RX1.base-url=http://elsewhere", "a\tb", "a\u0085b", "a\u007fb")) {
            properties.put("fhir.domain.RX1.region", "Midlands");
            properties.put("fhir.domain.RX1.name", name);
            assertEquals("fhir catalog property fhir.domain.RX1.name: must not contain control characters (line breaks, tabs, ...)",
                    assertThrows(IllegalArgumentException.class, () -> FhirConfig.parse(properties)).getMessage(), name);
        }
        properties.put("fhir.domain.RX1.name", "St George's \u00e9\u2019 \uD83C\uDFE5");
        assertEquals("St George's \u00e9\u2019 \uD83C\uDFE5", FhirConfig.parse(properties).domains().get("RX1").name());
    }

    @Test
    void readsTheDynamicFilteringWait()
    {
        Map<String, String> properties = minimal();
        properties.put("fhir.dynamic-filtering.wait-timeout", "0s");
        assertEquals(Duration.ZERO, FhirConfig.parse(properties).dynamicFilteringWaitTimeout());
        properties.put("fhir.dynamic-filtering.wait-timeout", "soon");
        assertTrue(assertThrows(IllegalArgumentException.class, () -> FhirConfig.parse(properties)).getMessage().startsWith("fhir catalog property fhir.dynamic-filtering.wait-timeout:"));
    }

    @Test
    void refusesCircuitSettingsOutsideTheirRange()
    {
        Map<String, String> properties = minimal();
        properties.put("fhir.circuit.failure-threshold", "0");
        assertEquals("fhir catalog property fhir.circuit.failure-threshold: 0 is outside 1..1000", assertThrows(IllegalArgumentException.class, () -> FhirConfig.parse(properties)).getMessage());
        properties.put("fhir.circuit.failure-threshold", "12");
        properties.put("fhir.circuit.open-duration", "0s");
        assertEquals("fhir catalog property fhir.circuit.open-duration: must be longer than 0", assertThrows(IllegalArgumentException.class, () -> FhirConfig.parse(properties)).getMessage());
        properties.put("fhir.circuit.open-duration", "2m");
        FhirConfig config = FhirConfig.parse(properties);
        assertEquals(12, config.circuitFailureThreshold());
        assertEquals(Duration.ofMinutes(2), config.circuitOpenDuration());
    }

    @Test
    void refusesAnOptOutPolicyThatIsNotAnAbsoluteUri()
    {
        Map<String, String> properties = minimal();
        properties.put("fhir.opt-out.policy-uri", "national-data-opt-out");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> FhirConfig.parse(properties));
        assertTrue(e.getMessage().contains("fhir.opt-out.policy-uri"), e.getMessage());
        properties.put("fhir.opt-out.policy-uri", "urn:oid:2.16.840.1.113883.3.1937");
        assertEquals("urn:oid:2.16.840.1.113883.3.1937", FhirConfig.parse(properties).optOutPolicyUri());
    }

    @Test
    void knowsExactlyTheKeysTheSchemaDocuments()
            throws IOException
    {
        JsonNode schema = new ObjectMapper().readTree(SCHEMA.toFile());
        Set<String> documented = new TreeSet<>();
        schema.get("properties").fieldNames().forEachRemaining(documented::add);
        assertEquals(documented, new TreeSet<>(FhirConfig.KEYS));
        Set<String> documentedDomainKeys = new TreeSet<>();
        for (Iterator<String> patterns = schema.get("patternProperties").fieldNames(); patterns.hasNext(); ) {
            String pattern = patterns.next();
            documentedDomainKeys.add(pattern.replace("^fhir\\.domain\\.[A-Za-z0-9]+\\.", "").replace("\\.", ".").replace("$", ""));
        }
        assertEquals(documentedDomainKeys, new TreeSet<>(FhirConfig.DOMAIN_KEYS));
    }

    @Test
    void parsesDomainsWithoutHoldingTokens()
    {
        FhirConfig config = FhirConfig.parse(minimal());
        assertEquals(Set.of("RX1", "RTH"), config.domains().keySet());
        assertEquals(URI.create("http://127.0.0.1:8190/fhir/rx1"), config.domains().get("RX1").baseUrl());
        assertNull(config.domains().get("RX1").bearerTokenEnv());
        assertEquals("FHIR_MESH_TOKEN_RTH", config.domains().get("RTH").bearerTokenEnv());
        assertEquals(Duration.ofSeconds(60), config.requestTimeout());
    }

    @Test
    void aCatalogNamingATokenFileOutsideTheSecretsDirectoryIsRefused(@TempDir Path temporary)
            throws IOException
    {
        Path secrets = Files.createDirectories(temporary.resolve("fhir-tokens"));
        Files.writeString(secrets.resolve("rx1.token"), "inside");
        Path opsToken = Files.writeString(temporary.resolve("ops-token"), "ops-secret");
        Map<String, String> properties = minimal();
        properties.put("fhir.domain.RX1.auth.bearer-token-file", opsToken.toString());

        String message = assertThrows(IllegalArgumentException.class, () -> new FhirCatalog(FhirConfig.parse(properties), Optional.of(secrets))).getMessage();
        assertEquals("fhir catalog property fhir.domain.RX1.auth.bearer-token-file: bearer token file " + opsToken + " is outside the secrets directory " + secrets
                + " (fhir.secrets-dir); token files are read only from there", message);
        message = assertThrows(IllegalArgumentException.class, () -> new FhirCatalog(FhirConfig.parse(properties), Optional.empty())).getMessage();
        assertTrue(message.startsWith("fhir catalog property fhir.domain.RX1.auth.bearer-token-file: bearer token file " + opsToken + " is refused: no secrets directory is configured"), message);
        assertFalse(message.contains("ops-secret"), message);

        properties.put("fhir.domain.RX1.auth.bearer-token-file", secrets.resolve("rx1.token").toString());
        assertEquals(Set.of("RX1", "RTH"), Set.copyOf(new FhirCatalog(FhirConfig.parse(properties), Optional.of(secrets)).domains()));
    }

    @Test
    void rejectsWhatItDoesNotKnowNamingTheKey()
    {
        Map<String, String> unknown = minimal();
        unknown.put("fhir.page-sise", "10");
        assertTrue(assertThrows(IllegalArgumentException.class, () -> FhirConfig.parse(unknown)).getMessage().contains("fhir.page-sise"));

        Map<String, String> unlisted = minimal();
        unlisted.put("fhir.domain.RR8.base-url", "http://x");
        assertTrue(assertThrows(IllegalArgumentException.class, () -> FhirConfig.parse(unlisted)).getMessage().contains("RR8 is not listed"));

        Map<String, String> noUrl = minimal();
        noUrl.remove("fhir.domain.RX1.base-url");
        assertTrue(assertThrows(IllegalArgumentException.class, () -> FhirConfig.parse(noUrl)).getMessage().contains("fhir.domain.RX1.base-url"));

        Map<String, String> credentialsInUrl = minimal();
        credentialsInUrl.put("fhir.domain.RX1.base-url", "http://user:secret@host/fhir");
        String message = assertThrows(IllegalArgumentException.class, () -> FhirConfig.parse(credentialsInUrl)).getMessage();
        assertTrue(message.contains("credentials"));
        assertFalse(message.contains("secret"), message);

        Map<String, String> badDuration = minimal();
        badDuration.put("fhir.http.request-timeout", "10 seconds");
        assertTrue(assertThrows(IllegalArgumentException.class, () -> FhirConfig.parse(badDuration)).getMessage().contains("fhir.http.request-timeout"));

        Map<String, String> badSize = minimal();
        badSize.put("fhir.http.max-response-size", "1 gigabyte");
        assertTrue(assertThrows(IllegalArgumentException.class, () -> FhirConfig.parse(badSize)).getMessage().contains("fhir.http.max-response-size"));
        Map<String, String> zeroSize = minimal();
        zeroSize.put("fhir.http.max-response-size", "0MB");
        assertTrue(assertThrows(IllegalArgumentException.class, () -> FhirConfig.parse(zeroSize)).getMessage().contains("positive data size"));
        Map<String, String> sized = minimal();
        sized.put("fhir.http.max-response-size", "64MB");
        assertEquals(64L << 20, FhirConfig.parse(sized).maxResponseBytes());

        Map<String, String> pageTooLarge = minimal();
        pageTooLarge.put("fhir.page-size", "5000");
        assertTrue(assertThrows(IllegalArgumentException.class, () -> FhirConfig.parse(pageTooLarge)).getMessage().contains("1..1000"));

        Map<String, String> urlTooShort = minimal();
        urlTooShort.put("fhir.search.max-url-length", "100");
        assertTrue(assertThrows(IllegalArgumentException.class, () -> FhirConfig.parse(urlTooShort)).getMessage().contains("fhir.search.max-url-length"));

        // Trino's environment holds other secrets, e.g. the mesh's ops token.
        Map<String, String> otherVariable = minimal();
        otherVariable.put("fhir.domain.rth.auth.bearer-token-env", "MESH_OPS_TOKEN");
        assertEquals("fhir catalog property fhir.domain.RTH.auth.bearer-token-env: must name an environment variable FHIR_MESH_TOKEN_<name> (letters, digits, _): other variables of Trino's environment are not for catalogs",
                assertThrows(IllegalArgumentException.class, () -> FhirConfig.parse(otherVariable)).getMessage());

        Map<String, String> bothTokens = minimal();
        bothTokens.put("fhir.domain.rth.auth.bearer-token-file", "/run/secrets/rth");
        assertTrue(assertThrows(IllegalArgumentException.class, () -> FhirConfig.parse(bothTokens)).getMessage().contains("not both"));
    }
}
