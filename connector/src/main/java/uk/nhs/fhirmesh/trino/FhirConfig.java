package uk.nhs.fhirmesh.trino;

import uk.nhs.fhirmesh.client.BearerToken;

import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The catalog properties of a {@code fhir} catalog, parsed strictly: an unknown or malformed key fails
 * catalog creation with a message naming the key. The contract (keys, defaults, patterns) is
 * connector-spec/catalog-properties.schema.json; TestFhirConfig checks the two agree.
 */
public record FhirConfig(
        Map<String, DomainConfig> domains,
        Path mappingsDir,
        int pageSize,
        Duration connectTimeout,
        Duration requestTimeout,
        long maxResponseBytes,
        int retryMaxAttempts,
        Duration retryMaxTime,
        int maxConcurrentRequestsPerEndpoint,
        int circuitFailureThreshold,
        Duration circuitOpenDuration,
        long resourcesPerSplit,
        int maxSplitsPerDomain,
        boolean pushdownEnabled,
        int maxSearchUrlLength,
        String optOutPolicyUri,
        Duration patientExclusionCacheTtl,
        Duration dynamicFilteringWaitTimeout,
        Duration patientExclusionMaxStaleness,
        int maxConcurrentRequests,
        int splitPlanningConcurrency)
{
    /**
     * One endpoint. A token is referenced by environment variable or file name, never held as a value. The
     * descriptive fields (null when absent) are what {@code mesh.domains} lists, so SQL can choose domains by them.
     */
    public record DomainConfig(String code, URI baseUrl, String bearerTokenEnv, Path bearerTokenFile, String name, String kind, String region) {}

    public static final Set<String> KEYS = Set.of(
            "connector.name", "fhir.domains", "fhir.mappings.dir", "fhir.page-size", "fhir.http.connect-timeout",
            "fhir.http.request-timeout", "fhir.http.max-response-size", "fhir.retry.max-attempts", "fhir.retry.max-time",
            "fhir.max-concurrent-requests-per-endpoint", "fhir.circuit.failure-threshold", "fhir.circuit.open-duration", "fhir.split.resources-per-split", "fhir.split.max-per-domain",
            "fhir.pushdown.enabled", "fhir.search.max-url-length", "fhir.opt-out.policy-uri", "fhir.patient-exclusion.cache-ttl",
            "fhir.dynamic-filtering.wait-timeout", "fhir.patient-exclusion.max-staleness", "fhir.max-concurrent-requests",
            "fhir.split.planning-concurrency");
    /** The national data opt-out's policy, as trusts record it in Consent.policy[].uri. */
    public static final String NDOP_POLICY_URI = "https://digital.nhs.uk/services/national-data-opt-out/operational-policy-guidance-document";
    public static final List<String> DOMAIN_KEYS = List.of("base-url", "auth.bearer-token-env", "auth.bearer-token-file", "name", "kind", "region");
    /** Longest name, kind or region of a domain (characters, after trimming). */
    public static final int MAX_DESCRIPTION_LENGTH = 200;

    private static final Pattern DOMAIN_KEY = Pattern.compile("fhir\\.domain\\.([A-Za-z0-9]+)\\.(.+)");
    private static final Pattern DOMAIN_CODE = Pattern.compile("[A-Za-z0-9]+");
    private static final Pattern DURATION = Pattern.compile("([0-9]+)(ms|s|m|h)");
    private static final Pattern DATA_SIZE = Pattern.compile("([0-9]{1,12})(B|kB|MB|GB)");
    private static final Pattern ENV_NAME = Pattern.compile(BearerToken.ENVIRONMENT_PREFIX + "[A-Za-z0-9_]+");
    private static final Pattern CONTROL_CHARACTER = Pattern.compile("\\p{Cc}");

    public static FhirConfig parse(Map<String, String> properties)
    {
        Map<String, String> remaining = new HashMap<>(properties);
        remaining.remove("connector.name");
        String domainList = required(remaining, "fhir.domains");
        Map<String, Map<String, String>> perDomain = new LinkedHashMap<>();
        for (String code : domainList.split(",", -1)) {
            String trimmed = code.trim();
            if (!DOMAIN_CODE.matcher(trimmed).matches()) {
                throw invalid("fhir.domains", "'" + code + "' is not a domain code (letters and digits, e.g. RX1)");
            }
            if (perDomain.put(trimmed.toUpperCase(), new HashMap<>()) != null) {
                throw invalid("fhir.domains", "domain " + trimmed + " is listed twice");
            }
        }
        for (String key : new ArrayList<>(remaining.keySet())) {
            Matcher matcher = DOMAIN_KEY.matcher(key);
            if (!matcher.matches()) {
                continue;
            }
            Map<String, String> settings = perDomain.get(matcher.group(1).toUpperCase());
            if (settings == null) {
                throw invalid(key, "domain " + matcher.group(1) + " is not listed in fhir.domains");
            }
            if (!DOMAIN_KEYS.contains(matcher.group(2))) {
                throw invalid(key, "unknown domain setting '" + matcher.group(2) + "' (known: " + DOMAIN_KEYS + ")");
            }
            settings.put(matcher.group(2), remaining.remove(key));
        }
        Map<String, DomainConfig> domains = new LinkedHashMap<>();
        perDomain.forEach((code, settings) -> domains.put(code, domain(code, settings)));

        FhirConfig config = new FhirConfig(
                domains,
                Path.of(required(remaining, "fhir.mappings.dir")),
                integer(remaining, "fhir.page-size", 500, 1, 1000),
                duration(remaining, "fhir.http.connect-timeout", "5s"),
                duration(remaining, "fhir.http.request-timeout", "60s"),
                dataSize(remaining, "fhir.http.max-response-size", "1GB"),
                integer(remaining, "fhir.retry.max-attempts", 4, 1, 99),
                duration(remaining, "fhir.retry.max-time", "30s"),
                integer(remaining, "fhir.max-concurrent-requests-per-endpoint", 4, 1, 1024),
                integer(remaining, "fhir.circuit.failure-threshold", 5, 1, 1000),
                positiveDuration(remaining, "fhir.circuit.open-duration", "30s"),
                integer(remaining, "fhir.split.resources-per-split", 5000, 1, Integer.MAX_VALUE),
                integer(remaining, "fhir.split.max-per-domain", 8, 1, 1024),
                bool(remaining, "fhir.pushdown.enabled", true),
                integer(remaining, "fhir.search.max-url-length", 6000, 512, 1_048_576),
                policyUri(remaining, "fhir.opt-out.policy-uri", NDOP_POLICY_URI),
                duration(remaining, "fhir.patient-exclusion.cache-ttl", "10s"),
                duration(remaining, "fhir.dynamic-filtering.wait-timeout", "2s"),
                duration(remaining, "fhir.patient-exclusion.max-staleness", "24h"),
                integer(remaining, "fhir.max-concurrent-requests", 64, 1, 65_536),
                integer(remaining, "fhir.split.planning-concurrency", 16, 1, 1024));
        if (!remaining.isEmpty()) {
            throw new IllegalArgumentException("fhir catalog: unknown properties " + new TreeSet<>(remaining.keySet()) + " (see connector-spec/catalog-properties.schema.json)");
        }
        return config;
    }

    private static DomainConfig domain(String code, Map<String, String> settings)
    {
        String prefix = "fhir.domain." + code + ".";
        String baseUrl = settings.get("base-url");
        if (baseUrl == null) {
            throw invalid(prefix + "base-url", "is required for every domain in fhir.domains");
        }
        URI uri;
        try {
            uri = URI.create(baseUrl.endsWith("/") ? baseUrl.substring(0, baseUrl.length() - 1) : baseUrl);
        }
        catch (IllegalArgumentException e) {
            throw invalid(prefix + "base-url", "not a URL: " + e.getMessage());
        }
        if (!"http".equals(uri.getScheme()) && !"https".equals(uri.getScheme()) || uri.getHost() == null) {
            throw invalid(prefix + "base-url", "must be an http or https URL with a host");
        }
        if (uri.getRawQuery() != null || uri.getRawUserInfo() != null) {
            throw invalid(prefix + "base-url", "must not carry a query or credentials; use auth.bearer-token-env or -file");
        }
        String env = settings.get("auth.bearer-token-env");
        String file = settings.get("auth.bearer-token-file");
        if (env != null && file != null) {
            throw invalid(prefix + "auth", "set auth.bearer-token-env or auth.bearer-token-file, not both");
        }
        if (env != null && !ENV_NAME.matcher(env).matches()) {
            throw invalid(prefix + "auth.bearer-token-env", "must name an environment variable " + BearerToken.ENVIRONMENT_PREFIX + "<name> (letters, digits, _): other variables of Trino's environment are not for catalogs");
        }
        return new DomainConfig(code, uri, env, file == null ? null : Path.of(file),
                description(settings, prefix, "name"), description(settings, prefix, "kind"), description(settings, prefix, "region"));
    }

    /** A free-text description of a domain, trimmed; null when absent or blank. */
    private static String description(Map<String, String> settings, String prefix, String setting)
    {
        String value = settings.get(setting);
        if (value == null || value.isBlank()) {
            return null;
        }
        String trimmed = value.trim();
        if (trimmed.length() > MAX_DESCRIPTION_LENGTH) {
            throw invalid(prefix + setting, "is " + trimmed.length() + " characters long; at most " + MAX_DESCRIPTION_LENGTH + " are allowed");
        }
        // A line break or other control character would corrupt the catalog file it came from and what SQL clients show.
        if (CONTROL_CHARACTER.matcher(trimmed).find()) {
            throw invalid(prefix + setting, "must not contain control characters (line breaks, tabs, ...)");
        }
        return trimmed;
    }

    private static String policyUri(Map<String, String> properties, String key, String defaultValue)
    {
        String value = properties.remove(key);
        if (value == null) {
            return defaultValue;
        }
        URI uri;
        try {
            uri = URI.create(value.trim());
        }
        catch (IllegalArgumentException e) {
            uri = null;
        }
        // Consent.policy[].uri is compared as text, so a typo here would silently match no opt-out.
        if (uri == null || !uri.isAbsolute()) {
            throw invalid(key, "'" + value + "' is not an absolute URI");
        }
        return value.trim();
    }

    private static String required(Map<String, String> properties, String key)
    {
        String value = properties.remove(key);
        if (value == null || value.isBlank()) {
            throw invalid(key, "is required");
        }
        return value.trim();
    }

    private static int integer(Map<String, String> properties, String key, int defaultValue, int min, int max)
    {
        String value = properties.remove(key);
        if (value == null) {
            return defaultValue;
        }
        try {
            int parsed = Integer.parseInt(value.trim());
            if (parsed < min || parsed > max) {
                throw invalid(key, value + " is outside " + min + ".." + max);
            }
            return parsed;
        }
        catch (NumberFormatException e) {
            throw invalid(key, "'" + value + "' is not an integer");
        }
    }

    static Duration duration(Map<String, String> properties, String key, String defaultValue)
    {
        String value = properties.remove(key);
        Matcher matcher = DURATION.matcher(value == null ? defaultValue : value.trim());
        if (!matcher.matches()) {
            throw invalid(key, "'" + value + "' is not a duration such as 500ms, 30s, 2m or 1h");
        }
        long amount = Long.parseLong(matcher.group(1));
        return switch (matcher.group(2)) {
            case "ms" -> Duration.ofMillis(amount);
            case "s" -> Duration.ofSeconds(amount);
            case "m" -> Duration.ofMinutes(amount);
            default -> Duration.ofHours(amount);
        };
    }

    private static Duration positiveDuration(Map<String, String> properties, String key, String defaultValue)
    {
        Duration duration = duration(properties, key, defaultValue);
        if (!duration.isPositive()) {
            throw invalid(key, "must be longer than 0");
        }
        return duration;
    }

    /** Bytes of {@code 512B}, {@code 64kB}, {@code 8MB} or {@code 1GB} (binary units, as Trino's data sizes). */
    static long dataSize(Map<String, String> properties, String key, String defaultValue)
    {
        String value = properties.remove(key);
        Matcher matcher = DATA_SIZE.matcher(value == null ? defaultValue : value.trim());
        if (!matcher.matches() || Long.parseLong(matcher.group(1)) == 0) {
            throw invalid(key, "'" + value + "' is not a positive data size such as 64MB or 1GB");
        }
        int shift = switch (matcher.group(2)) {
            case "B" -> 0;
            case "kB" -> 10;
            case "MB" -> 20;
            default -> 30;
        };
        return Long.parseLong(matcher.group(1)) << shift;
    }

    private static boolean bool(Map<String, String> properties, String key, boolean defaultValue)
    {
        String value = properties.remove(key);
        if (value == null) {
            return defaultValue;
        }
        return switch (value.trim()) {
            case "true" -> true;
            case "false" -> false;
            default -> throw invalid(key, "'" + value + "' is not true or false");
        };
    }

    private static IllegalArgumentException invalid(String key, String problem)
    {
        return new IllegalArgumentException("fhir catalog property " + key + ": " + problem);
    }
}
