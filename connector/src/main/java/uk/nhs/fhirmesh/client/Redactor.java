package uk.nhs.fhirmesh.client;

import uk.nhs.fhirmesh.search.FhirSearch;

import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * Masks the values a request carried (search parameter values, the bearer token) in text a server
 * echoes back, such as OperationOutcome diagnostics like {@code Invalid identifier: 9434765919}.
 */
final class Redactor
{
    /** Shorter values would mask ordinary words; NHS numbers, dates, codes and tokens are longer. */
    private static final int MIN_LENGTH = 3;
    private static final Pattern COMPARATOR = Pattern.compile("^(?:eq|ne|gt|lt|ge|le|sa|eb|ap)(?=[0-9-])");
    private static final Pattern SEPARATORS = Pattern.compile("[,|$]");

    private final Set<String> secrets;
    private final Pattern pattern;

    private Redactor(Set<String> secrets)
    {
        this.secrets = secrets;
        this.pattern = secrets.isEmpty() ? null : Pattern.compile(secrets.stream()
                .sorted(Comparator.comparingInt(String::length).reversed())
                .map(Pattern::quote)
                .collect(Collectors.joining("|")), Pattern.CASE_INSENSITIVE);
    }

    /** Masks each parameter value, its comma/pipe-separated parts, and those parts without a comparator prefix. */
    static Redactor of(FhirSearch search)
    {
        Set<String> secrets = new LinkedHashSet<>();
        for (FhirSearch.Parameter parameter : search.parameters()) {
            add(secrets, parameter.value());
            for (String part : SEPARATORS.split(parameter.value())) {
                add(secrets, part);
                add(secrets, COMPARATOR.matcher(part).replaceFirst(""));
            }
        }
        return new Redactor(secrets);
    }

    Redactor with(String secret)
    {
        Set<String> more = new LinkedHashSet<>(secrets);
        add(more, secret);
        return new Redactor(more);
    }

    String apply(String text)
    {
        return pattern == null ? text : pattern.matcher(text).replaceAll(Matcher.quoteReplacement("…"));
    }

    private static void add(Set<String> secrets, String value)
    {
        if (value != null && value.strip().length() >= MIN_LENGTH) {
            secrets.add(value.strip());
        }
    }
}
