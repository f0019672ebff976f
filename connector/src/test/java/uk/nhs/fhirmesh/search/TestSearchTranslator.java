package uk.nhs.fhirmesh.search;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.airlift.slice.Slices;
import io.trino.spi.predicate.Domain;
import io.trino.spi.predicate.Range;
import io.trino.spi.predicate.TupleDomain;
import io.trino.spi.predicate.ValueSet;
import io.trino.spi.type.Type;
import org.junit.jupiter.api.Test;
import uk.nhs.fhirmesh.mapping.TableMapping;
import uk.nhs.fhirmesh.search.SearchTranslator.ElementCondition;

import java.io.IOException;
import java.nio.file.Path;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;

import static io.trino.spi.type.DateTimeEncoding.packDateTimeWithZone;
import static io.trino.spi.type.DateType.DATE;
import static io.trino.spi.type.DoubleType.DOUBLE;
import static io.trino.spi.type.TimeZoneKey.UTC_KEY;
import static io.trino.spi.type.TimestampWithTimeZoneType.TIMESTAMP_TZ_MILLIS;
import static io.trino.spi.type.VarcharType.VARCHAR;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The pushdown rules of connector-spec/pushdown-rules.md, over the shipped mapping files. */
class TestSearchTranslator
{
    private static TableMapping mapping(String table)
            throws IOException
    {
        Path file = Path.of("..", "sql-mappings", table + ".json");
        return TableMapping.parse(new ObjectMapper().readTree(file.toFile()), file.getFileName().toString());
    }

    private static String translate(String table, Map<String, Domain> domains, Map<String, Type> types)
            throws IOException
    {
        return SearchTranslator.translate(mapping(table), TupleDomain.withColumnDomains(domains), types, List.of()).toString();
    }

    private static long instant(String text)
    {
        return packDateTimeWithZone(java.time.Instant.parse(text).toEpochMilli(), UTC_KEY);
    }

    @Test
    void tokenEqualityAndDateRangeBecomeOneSearch()
            throws IOException
    {
        String search = translate("condition", Map.of(
                        "code", Domain.singleValue(VARCHAR, Slices.utf8Slice("44054006")),
                        "onset", Domain.create(ValueSet.ofRanges(Range.greaterThanOrEqual(TIMESTAMP_TZ_MILLIS, instant("2020-01-01T00:00:00Z"))), false)),
                Map.of("code", VARCHAR, "onset", TIMESTAMP_TZ_MILLIS));
        assertEquals(List.of("code=http://snomed.info/sct|44054006", "onset-date=ge2020-01-01T00:00:00Z"), List.of(search.substring(search.indexOf('?') + 1).split("&")).stream().sorted().toList());
        assertEquals("Condition", search.substring(0, search.indexOf('?')));
    }

    @Test
    void inListsBecomeCommaSeparatedAlternatives()
            throws IOException
    {
        String search = translate("condition", Map.of("patient_id", Domain.multipleValues(VARCHAR, List.of(Slices.utf8Slice("rx1-a"), Slices.utf8Slice("rx1-b")))), Map.of("patient_id", VARCHAR));
        assertEquals("Condition?subject=Patient/rx1-a,Patient/rx1-b", search);
    }

    @Test
    void timestampsWidenToWholeSecondsAndStrictBoundsBecomeInclusive()
            throws IOException
    {
        String search = translate("observation", Map.of("effective", Domain.create(ValueSet.ofRanges(
                        Range.range(TIMESTAMP_TZ_MILLIS, instant("2023-01-01T10:00:00.250Z"), false, instant("2023-02-01T00:00:00.001Z"), false)), false)),
                Map.of("effective", TIMESTAMP_TZ_MILLIS));
        assertEquals("Observation?date=ge2023-01-01T10:00:00Z&date=le2023-02-01T00:00:01Z", search);
    }

    @Test
    void datesAndQuantitiesUseTheSpanOfTheirRanges()
            throws IOException
    {
        long day = LocalDate.parse("1990-05-01").toEpochDay();
        assertEquals("Patient?birthdate=ge1990-05-01", translate("patient", Map.of("birth_date", Domain.create(ValueSet.ofRanges(Range.greaterThan(DATE, day)), false)), Map.of("birth_date", DATE)));
        assertEquals("Observation?value-quantity=ge5.5&value-quantity=le120", translate("observation", Map.of("value", Domain.create(ValueSet.ofRanges(
                Range.range(DOUBLE, 5.5, true, 7.0, false), Range.range(DOUBLE, 100.0, false, 120.0, true)), false)), Map.of("value", DOUBLE)));
    }

    @Test
    void columnsBoundToOneDateParameterShareOneLowerAndOneUpperBound()
            throws IOException
    {
        // start and end both bind to Encounter's date; HAPI refuses two upper bounds (HAPI-1924), and the
        // tighter bound in each direction is exactly the conjunction of the two.
        String search = translate("encounter", Map.of(
                        "start", Domain.singleValue(TIMESTAMP_TZ_MILLIS, instant("2024-07-04T11:15:24Z")),
                        "end", Domain.create(ValueSet.ofRanges(Range.lessThan(TIMESTAMP_TZ_MILLIS, instant("2015-06-01T16:34:34Z"))), false)),
                Map.of("start", TIMESTAMP_TZ_MILLIS, "end", TIMESTAMP_TZ_MILLIS));
        assertEquals(List.of("date=ge2024-07-04T11:15:24Z", "date=le2015-06-01T16:34:34Z"), List.of(search.substring(search.indexOf('?') + 1).split("&")).stream().sorted().toList());
        search = translate("encounter", Map.of(
                        "start", Domain.create(ValueSet.ofRanges(Range.range(TIMESTAMP_TZ_MILLIS, instant("2020-01-01T00:00:00Z"), true, instant("2022-01-01T00:00:00Z"), true)), false),
                        "end", Domain.create(ValueSet.ofRanges(Range.range(TIMESTAMP_TZ_MILLIS, instant("2021-01-01T00:00:00Z"), true, instant("2023-01-01T00:00:00Z"), true)), false)),
                Map.of("start", TIMESTAMP_TZ_MILLIS, "end", TIMESTAMP_TZ_MILLIS));
        assertEquals(List.of("date=ge2021-01-01T00:00:00Z", "date=le2022-01-01T00:00:00Z"), List.of(search.substring(search.indexOf('?') + 1).split("&")).stream().sorted().toList());
    }

    @Test
    void theTighterOfTwoBoundsWinsAndIncomparableBoundsKeepTheFirst()
    {
        SearchTranslator.Bound low = new SearchTranslator.Bound("p", false, new java.math.BigDecimal("1"), "1");
        SearchTranslator.Bound high = new SearchTranslator.Bound("p", false, new java.math.BigDecimal("2.5"), "2.5");
        assertEquals(high, low.tighter(high));
        assertEquals(high, high.tighter(low));
        SearchTranslator.Bound upperLow = new SearchTranslator.Bound("p", true, new java.math.BigDecimal("1"), "1");
        SearchTranslator.Bound upperHigh = new SearchTranslator.Bound("p", true, new java.math.BigDecimal("2.5"), "2.5");
        assertEquals(upperLow, upperHigh.tighter(upperLow));
        // A DATE against a TIMESTAMP: which is tighter depends on the server's zone; one is dropped, which only widens.
        SearchTranslator.Bound date = new SearchTranslator.Bound("p", true, LocalDate.parse("2020-01-01"), "2020-01-01");
        SearchTranslator.Bound timestamp = new SearchTranslator.Bound("p", true, java.time.Instant.parse("2019-01-01T00:00:00Z"), "2019-01-01T00:00:00Z");
        assertEquals(date, date.tighter(timestamp));
    }

    @Test
    void aTighterBoundReplacesTheBoundsInItsDirection()
    {
        FhirSearch search = FhirSearch.of("Condition").with("_lastUpdated", "ge2020-01-01").with("code", "general").with("_lastUpdated", "le2025-01-01");
        assertEquals("Condition?code=general&_lastUpdated=le2025-01-01&_lastUpdated=ge2021-01-01",
                search.withoutBound("_lastUpdated", false).with("_lastUpdated", "ge2021-01-01").toString());
        assertEquals("Condition?_lastUpdated=ge2020-01-01&code=general", search.withoutBound("_lastUpdated", true).toString());
        // Only the named date parameter: a token whose value starts with "ge" is another parameter and stays.
        assertEquals("Condition?code=general", search.withoutBound("_lastUpdated", false).withoutBound("_lastUpdated", true).toString());
    }

    @Test
    void whatFhirCannotNarrowSafelyStaysWithTrino()
            throws IOException
    {
        // NULL allowed: FHIR cannot say "this code or missing" in one parameter.
        assertEquals("Condition", translate("condition", Map.of("code", Domain.create(ValueSet.of(VARCHAR, Slices.utf8Slice("1")), true)), Map.of("code", VARCHAR)));
        // NOT IN / ranges over a token: no FHIR equivalent that is a superset.
        assertEquals("Condition", translate("condition", Map.of("code", Domain.create(ValueSet.of(VARCHAR, Slices.utf8Slice("1")).complement(), false)), Map.of("code", VARCHAR)));
        // Unbound column.
        assertEquals("Condition", translate("condition", Map.of("code_display", Domain.singleValue(VARCHAR, Slices.utf8Slice("x"))), Map.of("code_display", VARCHAR)));
        // A value that is no FHIR id cannot be sent as a reference.
        assertEquals("Condition", translate("condition", Map.of("patient_id", Domain.singleValue(VARCHAR, Slices.utf8Slice("a/b"))), Map.of("patient_id", VARCHAR)));
    }

    @Test
    void longInListsAreOneParameterAndTheUrlLimitDecidesWhetherTheyAreSent()
            throws IOException
    {
        // No cap on the number of values here: SearchUrlLimit drops a parameter too long for a URL (TestSearchUrlLimit).
        List<Object> many = IntStream.range(0, 150).mapToObj(i -> (Object) Slices.utf8Slice("c" + i)).toList();
        String search = translate("condition", Map.of("code", Domain.multipleValues(VARCHAR, many)), Map.of("code", VARCHAR));
        assertEquals(150, search.split(",").length);
        assertTrue(search.startsWith("Condition?code=http://snomed.info/sct|c0,"), search);
    }

    private static long instant(LocalDateTime utc)
    {
        return packDateTimeWithZone(utc.toInstant(ZoneOffset.UTC).toEpochMilli(), UTC_KEY);
    }

    private static Domain timestampRange(Range range)
    {
        return Domain.create(ValueSet.ofRanges(range), false);
    }

    @Test
    void dateBoundsOutsideFhirYearsAreDroppedNotMisspelt()
            throws IOException
    {
        long minus3000 = instant(LocalDateTime.of(-3000, 1, 1, 0, 0));
        long year10000 = instant(LocalDateTime.of(10000, 1, 1, 0, 0));
        Map<String, Type> onset = Map.of("onset", TIMESTAMP_TZ_MILLIS);
        // Year-of-era printed -3000 as 3001 ("ge3001-..."), which matched nothing: a lower bound below 0001 excludes nothing.
        assertEquals("Condition", translate("condition", Map.of("onset", timestampRange(Range.greaterThan(TIMESTAMP_TZ_MILLIS, minus3000))), onset));
        // An upper bound above 9999 excludes nothing either; "+10000-..." is refused by HAPI (HAPI-1941).
        assertEquals("Condition", translate("condition", Map.of("onset", timestampRange(Range.lessThan(TIMESTAMP_TZ_MILLIS, year10000))), onset));
        // The other directions select nothing; they have no FHIR spelling, so Trino applies them.
        assertEquals("Condition", translate("condition", Map.of("onset", timestampRange(Range.greaterThanOrEqual(TIMESTAMP_TZ_MILLIS, year10000))), onset));
        assertEquals("Condition", translate("condition", Map.of("onset", timestampRange(Range.lessThanOrEqual(TIMESTAMP_TZ_MILLIS, minus3000))), onset));
        // Only the out-of-range end of a range is dropped; year 0 is out, 0001 and 9999 are in (four digits each).
        assertEquals("Condition?onset-date=le2020-01-01T00:00:00Z", translate("condition", Map.of("onset", timestampRange(
                Range.range(TIMESTAMP_TZ_MILLIS, instant(LocalDateTime.of(0, 12, 31, 23, 59)), true, instant(LocalDateTime.of(2020, 1, 1, 0, 0)), true))), onset));
        assertEquals("Condition?onset-date=ge0001-01-01T00:00:00Z&onset-date=le9999-12-31T23:59:59Z", translate("condition", Map.of("onset", timestampRange(
                Range.range(TIMESTAMP_TZ_MILLIS, instant(LocalDateTime.of(1, 1, 1, 0, 0)), true, instant(LocalDateTime.of(9999, 12, 31, 23, 59, 59)), true))), onset));
        assertEquals("Condition?onset-date=ge0999-06-01T00:00:00Z", translate("condition", Map.of("onset", timestampRange(
                Range.greaterThanOrEqual(TIMESTAMP_TZ_MILLIS, instant(LocalDateTime.of(999, 6, 1, 0, 0))))), onset));
        // Widening to the next whole second must not carry 9999-12-31T23:59:59.5 into year 10000.
        assertEquals("Condition", translate("condition", Map.of("onset", timestampRange(Range.lessThanOrEqual(TIMESTAMP_TZ_MILLIS,
                instant(LocalDateTime.of(9999, 12, 31, 23, 59, 59, 500_000_000))))), onset));

        // last_updated is _lastUpdated, the parameter the split manager slices.
        assertEquals("Condition", translate("condition", Map.of("last_updated", timestampRange(Range.greaterThan(TIMESTAMP_TZ_MILLIS, minus3000))), Map.of("last_updated", TIMESTAMP_TZ_MILLIS)));
        // Encounter start and end share date: a dropped bound leaves the other column's.
        String encounter = translate("encounter", Map.of(
                        "start", timestampRange(Range.greaterThan(TIMESTAMP_TZ_MILLIS, minus3000)),
                        "end", timestampRange(Range.lessThan(TIMESTAMP_TZ_MILLIS, instant(LocalDateTime.of(2015, 6, 1, 0, 0))))),
                Map.of("start", TIMESTAMP_TZ_MILLIS, "end", TIMESTAMP_TZ_MILLIS));
        assertEquals("Encounter?date=le2015-06-01T00:00:00Z", encounter);

        // DATE columns: LocalDate.toString() spelt these "+10000-01-01" and "-3000-01-01".
        Map<String, Type> birthDate = Map.of("birth_date", DATE);
        long day10000 = LocalDate.of(10000, 1, 1).toEpochDay();
        long dayMinus3000 = LocalDate.of(-3000, 1, 1).toEpochDay();
        assertEquals("Patient", translate("patient", Map.of("birth_date", Domain.create(ValueSet.ofRanges(Range.greaterThanOrEqual(DATE, day10000)), false)), birthDate));
        assertEquals("Patient", translate("patient", Map.of("birth_date", Domain.create(ValueSet.ofRanges(Range.lessThan(DATE, day10000)), false)), birthDate));
        assertEquals("Patient", translate("patient", Map.of("birth_date", Domain.create(ValueSet.ofRanges(Range.greaterThan(DATE, dayMinus3000)), false)), birthDate));
        assertEquals("Patient?birthdate=ge0001-01-01&birthdate=le9999-12-31", translate("patient", Map.of("birth_date", Domain.create(ValueSet.ofRanges(
                Range.range(DATE, LocalDate.of(1, 1, 1).toEpochDay(), true, LocalDate.of(9999, 12, 31).toEpochDay(), true)), false)), birthDate));
    }

    @Test
    void valuesASearchCannotCarryLeaveTheirColumnToTrino()
            throws IOException
    {
        Map<String, Type> id = Map.of("id", VARCHAR);
        // NUL made HAPI answer HTTP 500 with PostgreSQL's error text.
        assertEquals("Condition", translate("condition", Map.of("id", Domain.singleValue(VARCHAR, Slices.utf8Slice("c1\u0000"))), id));
        // One such value in an IN list: pushing the others alone would drop rows Trino would keep.
        assertEquals("Condition", translate("condition", Map.of("id", Domain.multipleValues(VARCHAR, List.of(Slices.utf8Slice("c1"), Slices.utf8Slice("c2\u0001")))), id));
        assertEquals("Condition", translate("condition", Map.of("id", Domain.singleValue(VARCHAR, Slices.utf8Slice("tab\tseparated"))), id));
        // Bytes that are not UTF-8 would be decoded to U+FFFD, another value.
        assertEquals("Condition", translate("condition", Map.of("id", Domain.singleValue(VARCHAR, Slices.wrappedBuffer((byte) 'c', (byte) 0xff))), id));
        // Longer than HAPI indexes tokens (200): a longer search value could miss a resource whose stored value was cut.
        assertEquals("Condition", translate("condition", Map.of("code", Domain.singleValue(VARCHAR, Slices.utf8Slice("9".repeat(201)))), Map.of("code", VARCHAR)));
        assertEquals("Patient", translate("patient", Map.of("family_name", Domain.singleValue(VARCHAR, Slices.utf8Slice("x".repeat(800)))), Map.of("family_name", VARCHAR)));
        // Up to the limit, and characters beyond the BMP, are fine.
        assertEquals("Condition?code=http://snomed.info/sct|" + "9".repeat(200), translate("condition", Map.of("code", Domain.singleValue(VARCHAR, Slices.utf8Slice("9".repeat(200)))), Map.of("code", VARCHAR)));
        assertEquals("Patient?family:exact=O\uD83D\uDE00", translate("patient", Map.of("family_name", Domain.singleValue(VARCHAR, Slices.utf8Slice("O\uD83D\uDE00"))), Map.of("family_name", VARCHAR)));
        // contains(security_labels, ...) with NUL, and a lone surrogate, which URL encoding would turn into '?'.
        FhirSearch labels = SearchTranslator.translate(mapping("procedure"), TupleDomain.all(), Map.of(),
                List.of(new ElementCondition("security_labels", "R\u0000", true), new ElementCondition("security_labels", "P\uD800", false), new ElementCondition("security_labels", "V", false)));
        assertEquals("Procedure?_security=V", labels.toString());
        assertFalse(SearchValues.isText("a\uDC00b"));
        assertFalse(SearchValues.isText(""));
    }

    @Test
    void stringsUseExactMatchAndSeparatorsAreEscaped()
            throws IOException
    {
        assertEquals("Patient?family:exact=O'Brien\\,Smith", translate("patient", Map.of("family_name", Domain.singleValue(VARCHAR, Slices.utf8Slice("O'Brien,Smith"))), Map.of("family_name", VARCHAR)));
        assertEquals("Patient?identifier=https://fhir.nhs.uk/Id/nhs-number|9991000003", translate("patient", Map.of("nhs_number", Domain.singleValue(VARCHAR, Slices.utf8Slice("9991000003"))), Map.of("nhs_number", VARCHAR)));
    }

    @Test
    void securityLabelConditionsUseSecurityAndNot()
            throws IOException
    {
        FhirSearch search = SearchTranslator.translate(mapping("procedure"), TupleDomain.all(), Map.of(),
                List.of(new ElementCondition("security_labels", "R", true), new ElementCondition("security_labels", "PSY", false)));
        assertEquals("Procedure?_security:not=R&_security=PSY", search.toString());
        assertEquals("Procedure?_security:not=R&_security=PSY", search.relativeUrl());
        assertEquals("Condition?code=http:%2F%2Fsnomed.info%2Fsct%7C1&subject=Patient%2Fa,Patient%2Fb",
                FhirSearch.of("Condition").with("code", "http://snomed.info/sct|1").with("subject", "Patient/a,Patient/b").relativeUrl());
    }
}
