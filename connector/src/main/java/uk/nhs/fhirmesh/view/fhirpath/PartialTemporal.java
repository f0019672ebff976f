package uk.nhs.fhirmesh.view.fhirpath;

import java.time.LocalDateTime;
import java.time.YearMonth;

/**
 * A FHIR date, dateTime, instant or time with the precision it was written with ({@code 2020}, {@code 2020-05},
 * {@code 2020-05-01T10:00+01:00}, {@code 10:30}). FHIRPath compares such values only as far as both are precise,
 * and lowBoundary()/highBoundary() fill in what is missing. Parsed by hand: this runs per row.
 */
final class PartialTemporal
{
    enum Kind
    {
        DATE("date"), DATE_TIME("dateTime"), TIME("time");

        private final String fhirType;

        Kind(String fhirType)
        {
            this.fhirType = fhirType;
        }

        String fhirType()
        {
            return fhirType;
        }

        /** The kind of a FHIR type, instant counting as dateTime; null for other types. */
        static Kind ofFhirType(String type)
        {
            return type == null ? null : switch (type) {
                case "date" -> DATE;
                case "dateTime", "instant" -> DATE_TIME;
                case "time" -> TIME;
                default -> null;
            };
        }
    }

    private static final int YEAR = 0;
    private static final int MONTH = 1;
    private static final int DAY = 2;
    private static final int HOUR = 3;
    private static final int MINUTE = 4;
    private static final int SECOND = 5;
    private static final int MILLISECOND = 6;
    private static final int NO_OFFSET = Integer.MIN_VALUE;
    /** The precision of a full date: year, month, day. */
    private static final int DATE_PRECISION = 3;

    private final Kind kind;
    /** year, month, day, hour, minute, second, millisecond; a time uses the last four. */
    private final int[] fields;
    /** How many of the fields were given, counted from the first field of the kind (second and millisecond count as one). */
    private final int precision;
    private final boolean hasFraction;
    private final int offsetMinutes;
    private final String offsetText;

    private PartialTemporal(Kind kind, int[] fields, int precision, boolean hasFraction, int offsetMinutes, String offsetText)
    {
        this.kind = kind;
        this.fields = fields;
        this.precision = precision;
        this.hasFraction = hasFraction;
        this.offsetMinutes = offsetMinutes;
        this.offsetText = offsetText;
    }

    Kind kind()
    {
        return kind;
    }

    /**
     * Parses {@code text} as {@code declared} (a dateTime may be written as a bare date), or infers the kind
     * when {@code declared} is null. Returns null when the text is not a valid value of that kind.
     */
    static PartialTemporal parse(String text, Kind declared)
    {
        Kind inferred = text.length() > 2 && text.charAt(2) == ':' ? Kind.TIME : text.indexOf('T') >= 0 ? Kind.DATE_TIME : Kind.DATE;
        if (declared == Kind.TIME || (declared == null && inferred == Kind.TIME)) {
            return parseTime(text);
        }
        if (declared == Kind.DATE && inferred != Kind.DATE) {
            return null;
        }
        return parseDate(text, declared == null ? inferred : declared);
    }

    /** Whether the text starts like a date ({@code YYYY} or {@code YYYY-}), so that two untyped strings compare as dates. */
    static boolean looksLikeDate(String text)
    {
        if (text.length() < 4 || (text.length() > 4 && text.charAt(4) != '-')) {
            return false;
        }
        for (int i = 0; i < 4; i++) {
            if (!Character.isDigit(text.charAt(i))) {
                return false;
            }
        }
        return true;
    }

    private static PartialTemporal parseDate(String text, Kind kind)
    {
        Cursor cursor = new Cursor(text);
        int[] fields = new int[7];
        int precision = 0;
        fields[YEAR] = cursor.digits(4);
        if (fields[YEAR] < 0) {
            return null;
        }
        precision++;
        if (cursor.accept('-')) {
            fields[MONTH] = cursor.digits(2);
            if (fields[MONTH] < 1 || fields[MONTH] > 12) {
                return null;
            }
            precision++;
            if (cursor.accept('-')) {
                fields[DAY] = cursor.digits(2);
                if (fields[DAY] < 1 || fields[DAY] > YearMonth.of(fields[YEAR], fields[MONTH]).lengthOfMonth()) {
                    return null;
                }
                precision++;
            }
        }
        boolean hasFraction = false;
        int offset = NO_OFFSET;
        String offsetText = null;
        if (precision == DATE_PRECISION && cursor.accept('T') && !cursor.atEnd()) {
            int timePrecision = parseTimeFields(cursor, fields);
            if (timePrecision < 0) {
                return null;
            }
            hasFraction = timePrecision > 3;
            precision += Math.min(timePrecision, 3);
            int offsetStart = cursor.position;
            offset = parseOffset(cursor);
            if (offset == NO_OFFSET - 1) {
                return null;
            }
            offsetText = offset == NO_OFFSET ? null : text.substring(offsetStart, cursor.position);
        }
        return cursor.atEnd() ? new PartialTemporal(kind, fields, precision, hasFraction, offset, offsetText) : null;
    }

    private static PartialTemporal parseTime(String text)
    {
        Cursor cursor = new Cursor(text);
        cursor.accept('T');
        int[] fields = new int[7];
        int timePrecision = parseTimeFields(cursor, fields);
        if (timePrecision < 0 || !cursor.atEnd()) {
            return null;
        }
        return new PartialTemporal(Kind.TIME, fields, Math.min(timePrecision, 3), timePrecision > 3, NO_OFFSET, null);
    }

    /** Reads hh[:mm[:ss[.fff]]] into fields; returns 1..3 for the fields given, 4 when a fraction was given, -1 if invalid. */
    private static int parseTimeFields(Cursor cursor, int[] fields)
    {
        fields[HOUR] = cursor.digits(2);
        if (fields[HOUR] < 0 || fields[HOUR] > 23) {
            return -1;
        }
        if (!cursor.accept(':')) {
            return 1;
        }
        fields[MINUTE] = cursor.digits(2);
        if (fields[MINUTE] < 0 || fields[MINUTE] > 59) {
            return -1;
        }
        if (!cursor.accept(':')) {
            return 2;
        }
        fields[SECOND] = cursor.digits(2);
        if (fields[SECOND] < 0 || fields[SECOND] > 60) {
            return -1;
        }
        if (!cursor.accept('.')) {
            return 3;
        }
        int start = cursor.position;
        int millis = 0;
        while (!cursor.atEnd() && Character.isDigit(cursor.peek())) {
            if (cursor.position - start < 3) {
                millis = millis * 10 + (cursor.peek() - '0');
            }
            cursor.position++;
        }
        int digits = cursor.position - start;
        if (digits == 0) {
            return -1;
        }
        for (int i = digits; i < 3; i++) {
            millis *= 10;
        }
        fields[MILLISECOND] = millis;
        return 4;
    }

    /** Returns the offset in minutes, NO_OFFSET when absent, NO_OFFSET - 1 when malformed. */
    private static int parseOffset(Cursor cursor)
    {
        if (cursor.accept('Z')) {
            return 0;
        }
        if (cursor.atEnd() || (cursor.peek() != '+' && cursor.peek() != '-')) {
            return NO_OFFSET;
        }
        int sign = cursor.peek() == '-' ? -1 : 1;
        cursor.position++;
        int hours = cursor.digits(2);
        if (hours < 0 || hours > 14 || !cursor.accept(':')) {
            return NO_OFFSET - 1;
        }
        int minutes = cursor.digits(2);
        if (minutes < 0 || minutes > 59) {
            return NO_OFFSET - 1;
        }
        return sign * (hours * 60 + minutes);
    }

    /**
     * FHIRPath ordering: negative, zero or positive, or null when the answer depends on precision one of the
     * values lacks (or the kinds are not comparable). Values with a time of day are compared in UTC; a value
     * without an offset is taken as UTC.
     */
    static Integer compare(PartialTemporal a, PartialTemporal b)
    {
        if ((a.kind == Kind.TIME) != (b.kind == Kind.TIME)) {
            return null;
        }
        int first = a.kind == Kind.TIME ? HOUR : YEAR;
        int[] x = a.inUtc();
        int[] y = b.inUtc();
        int common = Math.min(a.precision, b.precision);
        for (int i = 0; i < common; i++) {
            int field = first + i;
            int result = field == SECOND
                    ? Integer.compare(x[SECOND] * 1000 + x[MILLISECOND], y[SECOND] * 1000 + y[MILLISECOND])
                    : Integer.compare(x[field], y[field]);
            if (result != 0) {
                return result;
            }
        }
        return a.precision == b.precision ? 0 : null;
    }

    private int[] inUtc()
    {
        if (kind == Kind.TIME || precision <= DATE_PRECISION || offsetMinutes == NO_OFFSET || offsetMinutes == 0) {
            return fields;
        }
        LocalDateTime utc = LocalDateTime.of(fields[YEAR], fields[MONTH], fields[DAY], fields[HOUR], fields[MINUTE], Math.min(fields[SECOND], 59))
                .minusMinutes(offsetMinutes);
        return new int[] {utc.getYear(), utc.getMonthValue(), utc.getDayOfMonth(), utc.getHour(), utc.getMinute(), fields[SECOND], fields[MILLISECOND]};
    }

    /**
     * The earliest ({@code high == false}) or latest value this partial value may stand for, written to
     * {@code digits} of precision as FHIRPath counts them (date 4/6/8, dateTime up to 17, time 2/4/6/9), or the
     * kind's full precision when {@code digits} is null. Returns null for a precision the kind does not have.
     * A dateTime without an offset takes the widest one (+14:00 low, -12:00 high).
     */
    String boundary(boolean high, Integer digits)
    {
        int level = level(digits);
        if (level < 0) {
            return null;
        }
        int[] filled = fields.clone();
        int first = kind == Kind.TIME ? HOUR : YEAR;
        for (int field = first + precision + (hasFraction ? 1 : 0); field <= MILLISECOND; field++) {
            filled[field] = switch (field) {
                case MONTH -> high ? 12 : 1;
                case DAY -> high ? YearMonth.of(filled[YEAR], filled[MONTH]).lengthOfMonth() : 1;
                case HOUR -> high ? 23 : 0;
                case MINUTE, SECOND -> high ? 59 : 0;
                default -> high ? 999 : 0;
            };
        }
        StringBuilder out = new StringBuilder(32);
        for (int i = 0; i < level; i++) {
            int field = first + i;
            switch (field) {
                case YEAR -> pad(out, filled[YEAR], 4);
                case MONTH, DAY -> pad(out.append('-'), filled[field], 2);
                case HOUR -> pad(kind == Kind.TIME ? out : out.append('T'), filled[HOUR], 2);
                case MINUTE, SECOND -> pad(out.append(':'), filled[field], 2);
                default -> pad(out.append('.'), filled[MILLISECOND], 3);
            }
        }
        if (kind == Kind.DATE_TIME && first + level > HOUR) {
            out.append(offsetText != null ? offsetText : high ? "-12:00" : "+14:00");
        }
        return out.toString();
    }

    /** The number of fields a boundary is written with, from FHIRPath's digit count; -1 when invalid. */
    private int level(Integer digits)
    {
        int[] allowed = switch (kind) {
            case DATE -> new int[] {4, 6, 8};
            case DATE_TIME -> new int[] {4, 6, 8, 10, 12, 14, 17};
            case TIME -> new int[] {2, 4, 6, 9};
        };
        if (digits == null) {
            return allowed.length;
        }
        for (int i = 0; i < allowed.length; i++) {
            if (allowed[i] == digits) {
                return i + 1;
            }
        }
        return -1;
    }

    private static void pad(StringBuilder out, int value, int width)
    {
        String digits = Integer.toString(value);
        out.repeat('0', Math.max(0, width - digits.length())).append(digits);
    }

    private static final class Cursor
    {
        private final String text;
        private int position;

        Cursor(String text)
        {
            this.text = text;
        }

        boolean atEnd()
        {
            return position >= text.length();
        }

        char peek()
        {
            return text.charAt(position);
        }

        boolean accept(char c)
        {
            if (!atEnd() && text.charAt(position) == c) {
                position++;
                return true;
            }
            return false;
        }

        /** Exactly {@code count} digits as a number, or -1. */
        int digits(int count)
        {
            if (position + count > text.length()) {
                return -1;
            }
            int value = 0;
            for (int i = 0; i < count; i++) {
                char c = text.charAt(position + i);
                if (c < '0' || c > '9') {
                    return -1;
                }
                value = value * 10 + (c - '0');
            }
            position += count;
            return value;
        }
    }
}
