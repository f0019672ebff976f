package uk.nhs.fhirmesh.client;

import java.net.URI;
import java.net.URISyntaxException;

import static java.nio.charset.StandardCharsets.UTF_8;

/**
 * URLs as FHIR servers write them, into {@link URI}s. Next links may keep FHIR's {@code |} literal
 * ({@code code=http://loinc.org|1234-5}) though it is not a legal URI character, so such characters
 * are percent-encoded; existing escapes and everything legal are left exactly as given.
 */
final class Urls
{
    private static final String LEGAL = "-._~!$&'()*+,;=:@/?#%[]";

    private Urls() {}

    static URI parse(String url)
            throws URISyntaxException
    {
        StringBuilder escaped = new StringBuilder(url.length());
        url.codePoints().forEach(codePoint -> {
            if (codePoint < 0x80 && (Character.isLetterOrDigit(codePoint) || LEGAL.indexOf(codePoint) >= 0)) {
                escaped.append((char) codePoint);
            }
            else {
                for (byte b : Character.toString(codePoint).getBytes(UTF_8)) {
                    escaped.append("%%%02X".formatted(b & 0xff));
                }
            }
        });
        return new URI(escaped.toString());
    }
}
