package uk.nhs.fhirmesh.view.fhirpath;

/**
 * Reads the id out of a relative literal reference, {@code Type/id} or {@code Type/id/_history/version}.
 * Hand-written rather than a regex: it runs for every reference column of every row.
 */
final class ReferenceKeys
{
    private static final String HISTORY = "/_history/";
    private static final boolean[] ID_CHARACTERS = new boolean[128];

    static {
        for (char c = 0; c < ID_CHARACTERS.length; c++) {
            ID_CHARACTERS[c] = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.';
        }
    }

    private ReferenceKeys() {}

    /** The id, or null when the reference is not a relative literal or its type is not {@code type} (any type when null). */
    static String idOf(String reference, String type)
    {
        int slash = reference.indexOf('/');
        if (slash <= 0 || !isResourceType(reference, slash)) {
            return null;
        }
        if (type != null && (type.length() != slash || !reference.startsWith(type))) {
            return null;
        }
        int end = reference.indexOf('/', slash + 1);
        if (end < 0) {
            end = reference.length();
        }
        else if (!reference.startsWith(HISTORY, end) || end + HISTORY.length() == reference.length()) {
            return null;
        }
        return isId(reference, slash + 1, end) ? reference.substring(slash + 1, end) : null;
    }

    private static boolean isResourceType(String text, int end)
    {
        if (!Character.isUpperCase(text.charAt(0))) {
            return false;
        }
        for (int i = 1; i < end; i++) {
            char c = text.charAt(i);
            if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'))) {
                return false;
            }
        }
        return true;
    }

    /** FHIR id: 1 to 64 of [A-Za-z0-9-.]. */
    private static boolean isId(String text, int start, int end)
    {
        if (end - start < 1 || end - start > 64) {
            return false;
        }
        for (int i = start; i < end; i++) {
            char c = text.charAt(i);
            if (c >= ID_CHARACTERS.length || !ID_CHARACTERS[c]) {
                return false;
            }
        }
        return true;
    }
}
