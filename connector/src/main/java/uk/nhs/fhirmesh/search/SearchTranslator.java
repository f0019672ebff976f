package uk.nhs.fhirmesh.search;

import io.airlift.slice.Slice;
import io.trino.spi.predicate.Domain;
import io.trino.spi.predicate.Range;
import io.trino.spi.predicate.TupleDomain;
import io.trino.spi.type.DateType;
import io.trino.spi.type.DoubleType;
import io.trino.spi.type.TimestampWithTimeZoneType;
import io.trino.spi.type.Type;
import io.trino.spi.type.VarcharType;
import uk.nhs.fhirmesh.mapping.ColumnBinding;
import uk.nhs.fhirmesh.mapping.TableMapping;

import java.math.BigDecimal;
import java.time.Instant;
import java.time.LocalDate;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;

import static io.trino.spi.type.DateTimeEncoding.unpackMillisUtc;

/**
 * SQL predicate in, FHIR search out: turns the constraint Trino offers a table scan into search
 * parameters of the table's bindings. Pure (no I/O) and deliberately conservative: every parameter
 * selects a superset of the rows the predicate keeps, because FHIR search semantics are broader than
 * SQL's (any-coding token match, case-insensitive strings, date ranges and precision, missing values).
 * Trino therefore re-checks every predicate; the rules are documented in connector-spec/pushdown-rules.md.
 * Values a search cannot carry ({@link SearchValues}) are left out; the URL length is {@link SearchUrlLimit}'s.
 */
public final class SearchTranslator
{
    private static final Pattern FHIR_ID = Pattern.compile("[A-Za-z0-9\\-.]{1,64}");

    /** {@code contains(column, value)} or its negation on a collection column, from Trino's filter expression. */
    public record ElementCondition(String column, String value, boolean negated) {}

    private SearchTranslator() {}

    /**
     * @param columns the constraint by column name; nulls-allowed domains are skipped because FHIR cannot
     * select "value or missing" in one parameter
     * @param types the Trino type of each constrained column
     */
    public static FhirSearch translate(TableMapping mapping, TupleDomain<String> columns, Map<String, Type> types, List<ElementCondition> elementConditions)
    {
        FhirSearch search = FhirSearch.of(mapping.view().resource());
        Map<String, Bound> bounds = new LinkedHashMap<>();
        Optional<Map<String, Domain>> domains = columns.getDomains();
        if (domains.isPresent()) {
            for (Map.Entry<String, Domain> entry : domains.get().entrySet()) {
                Optional<ColumnBinding> binding = mapping.binding(entry.getKey());
                Type type = types.get(entry.getKey());
                if (binding.isPresent() && type != null) {
                    for (FhirSearch.Parameter parameter : parameters(binding.get(), type, entry.getValue())) {
                        search = search.with(parameter.name(), parameter.value());
                    }
                    for (Bound bound : bounds(binding.get(), type, entry.getValue())) {
                        bounds.merge(bound.param() + (bound.upper() ? " upper" : " lower"), bound, Bound::tighter);
                    }
                }
            }
        }
        for (Bound bound : bounds.values()) {
            search = search.with(bound.param(), (bound.upper() ? "le" : "ge") + bound.text());
        }
        for (ElementCondition condition : elementConditions) {
            Optional<ColumnBinding> binding = mapping.binding(condition.column());
            if (binding.isPresent() && binding.get().kind() == ColumnBinding.Kind.TOKEN && SearchValues.isText(condition.value())) {
                // The column holds every code the parameter indexes, so ":not" is exact here: a row
                // lacking the code is a resource lacking it (checked when the binding is derived).
                String name = binding.get().param() + (condition.negated() ? ":not" : "");
                search = search.with(name, token(binding.get(), condition.value()));
            }
        }
        return search;
    }

    static List<FhirSearch.Parameter> parameters(ColumnBinding binding, Type type, Domain domain)
    {
        if (domain.isNullAllowed() || domain.isNone() || domain.isAll()) {
            return List.of();
        }
        return switch (binding.kind()) {
            case TOKEN -> discrete(domain, type).map(values -> tokens(binding, values)).orElse(List.of());
            case REFERENCE -> discrete(domain, type).map(values -> references(binding, values)).orElse(List.of());
            case STRING -> discrete(domain, type).map(values -> exactStrings(binding, values)).orElse(List.of());
            case DATE, QUANTITY -> List.of();
        };
    }

    /**
     * One inclusive bound on a range parameter. Several columns may bind to one parameter (an Encounter's
     * {@code start} and {@code end} both to {@code date}), and servers refuse two lower or two upper bounds
     * on one date parameter (HAPI-1923, HAPI-1924), so bounds are merged: the tighter of two is exactly their
     * conjunction, because {@code ge}/{@code le} on one parameter are monotone in the value.
     */
    record Bound(String param, boolean upper, Comparable<?> key, String text)
    {
        Bound tighter(Bound other)
        {
            if (key.getClass() != other.key.getClass()) {
                // A DATE and a TIMESTAMP on one parameter: which is tighter depends on the server's time
                // zone, so keep the first; dropping a bound only widens the search.
                return this;
            }
            @SuppressWarnings("unchecked")
            int order = ((Comparable<Object>) key).compareTo(other.key);
            return (upper ? order <= 0 : order >= 0) ? this : other;
        }
    }

    static List<Bound> bounds(ColumnBinding binding, Type type, Domain domain)
    {
        if (domain.isNullAllowed() || domain.isNone() || domain.isAll()) {
            return List.of();
        }
        return switch (binding.kind()) {
            case DATE -> dateRange(binding, type, domain);
            case QUANTITY -> quantityRange(binding, type, domain);
            case TOKEN, REFERENCE, STRING -> List.of();
        };
    }

    private static Optional<List<String>> discrete(Domain domain, Type type)
    {
        if (!(type instanceof VarcharType) || !domain.getValues().isDiscreteSet()) {
            return Optional.empty();
        }
        List<Object> values = domain.getValues().getDiscreteSet();
        List<String> texts = new ArrayList<>(values.size());
        for (Object value : values) {
            // One value the search cannot carry leaves the whole column to Trino: the others alone would be too narrow.
            Optional<String> text = SearchValues.text((Slice) value);
            if (text.isEmpty()) {
                return Optional.empty();
            }
            texts.add(text.get());
        }
        return texts.isEmpty() ? Optional.empty() : Optional.of(texts);
    }

    private static List<FhirSearch.Parameter> tokens(ColumnBinding binding, List<String> values)
    {
        List<String> tokens = values.stream().map(value -> token(binding, value)).toList();
        return List.of(new FhirSearch.Parameter(binding.param(), String.join(",", tokens)));
    }

    private static String token(ColumnBinding binding, String code)
    {
        return binding.system() == null ? escape(code) : escape(binding.system()) + "|" + escape(code);
    }

    private static List<FhirSearch.Parameter> references(ColumnBinding binding, List<String> ids)
    {
        // A value that is not a FHIR id cannot equal any reference key; pushing the others would still
        // be a superset, but skipping the column keeps the rule simple to audit.
        if (!ids.stream().allMatch(id -> FHIR_ID.matcher(id).matches())) {
            return List.of();
        }
        List<String> references = ids.stream().map(id -> binding.target() + "/" + id).toList();
        return List.of(new FhirSearch.Parameter(binding.param(), String.join(",", references)));
    }

    private static List<FhirSearch.Parameter> exactStrings(ColumnBinding binding, List<String> values)
    {
        return List.of(new FhirSearch.Parameter(binding.param() + ":exact", String.join(",", values.stream().map(SearchTranslator::escape).toList())));
    }

    /**
     * The span of the domain as inclusive {@code ge}/{@code le} bounds. Timestamps are widened to whole
     * seconds in UTC so that server-side precision and time-zone handling can only add rows. A bound whose
     * year is outside 0001..9999 has no FHIR spelling and is dropped: below 0001 or above 9999 in its own
     * direction it excludes nothing a server can hold, and in the other it is left for Trino to apply.
     */
    private static List<Bound> dateRange(ColumnBinding binding, Type type, Domain domain)
    {
        Range span = domain.getValues().getRanges().getSpan();
        List<Bound> bounds = new ArrayList<>();
        if (!span.isLowUnbounded()) {
            dateBound(binding, type, span.getLowBoundedValue(), false).ifPresent(bounds::add);
        }
        if (!span.isHighUnbounded()) {
            dateBound(binding, type, span.getHighBoundedValue(), true).ifPresent(bounds::add);
        }
        return bounds;
    }

    private static Optional<Bound> dateBound(ColumnBinding binding, Type type, Object value, boolean upper)
    {
        if (type instanceof DateType) {
            LocalDate date = LocalDate.ofEpochDay((Long) value);
            return SearchValues.date(date).map(text -> new Bound(binding.param(), upper, date, text));
        }
        if (type instanceof TimestampWithTimeZoneType timestampType && !timestampType.isShort()) {
            return Optional.empty();
        }
        if (type instanceof TimestampWithTimeZoneType) {
            Instant instant = Instant.ofEpochMilli(unpackMillisUtc((Long) value));
            Instant truncated = instant.truncatedTo(ChronoUnit.SECONDS);
            Instant second = upper && !truncated.equals(instant) ? truncated.plusSeconds(1) : truncated;
            return SearchValues.instant(second).map(text -> new Bound(binding.param(), upper, second, text));
        }
        return Optional.empty();
    }

    private static List<Bound> quantityRange(ColumnBinding binding, Type type, Domain domain)
    {
        if (!(type instanceof DoubleType)) {
            return List.of();
        }
        Range span = domain.getValues().getRanges().getSpan();
        List<Bound> bounds = new ArrayList<>();
        if (!span.isLowUnbounded() && Double.isFinite((Double) span.getLowBoundedValue())) {
            bounds.add(quantityBound(binding, (Double) span.getLowBoundedValue(), false));
        }
        if (!span.isHighUnbounded() && Double.isFinite((Double) span.getHighBoundedValue())) {
            bounds.add(quantityBound(binding, (Double) span.getHighBoundedValue(), true));
        }
        return bounds;
    }

    private static Bound quantityBound(ColumnBinding binding, double value, boolean upper)
    {
        BigDecimal decimal = BigDecimal.valueOf(value).stripTrailingZeros();
        return new Bound(binding.param(), upper, decimal, decimal.toPlainString());
    }

    /** FHIR search escaping of the characters that separate values: {@code \ , | $}. */
    static String escape(String value)
    {
        StringBuilder escaped = new StringBuilder(value.length());
        for (char c : value.toCharArray()) {
            if (c == '\\' || c == ',' || c == '|' || c == '$') {
                escaped.append('\\');
            }
            escaped.append(c);
        }
        return escaped.toString();
    }
}
