package uk.nhs.fhirmesh.hapi;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Rewrites a request target for the access log so that no search value or resource id about a
 * person is written in clear: each is replaced by a keyed hash, {@code h:} + the first 16 hex
 * digits of HMAC-SHA-256(key, percent-decoded bytes). The same value always hashes alike, so a
 * test holding the key can still prove which searches were sent; without the key the log is
 * useless for finding a patient (an unkeyed hash of a 10-digit NHS number is reversed by brute force).
 *
 * <p>Readable: parameter names and modifiers, the values of {@link #CLEAR_PARAMETERS}, a leading
 * FHIR comparator before a digit ({@code onset-date=ge} + hash), the commas of a value list (a test
 * can count the references in {@code subject=a,b}), and the FHIR URL's structure: {@code /fhir}, a
 * served tenant, resource types, {@code $operations}, {@code _history}/{@code _search}, {@code metadata}.
 * Hashed: every other value, and resource ids and version ids in the path (ids are server-assigned
 * here, but a client may choose an NHS number as id: FHIR's id syntax allows it).
 */
public final class AccessLogRedactor {

	/**
	 * Parameters whose values say how to search or page, never whom: result size and shape, sort keys
	 * (parameter names), HAPI's paging cursor (a search UUID), security-label codes (R, PSY...), and
	 * {@code _lastUpdated} (when the record changed at the server, not a fact about the patient).
	 * {@code _expunge} (a boolean, used by tenant resets) is added to these; modifiers ({@code :not})
	 * keep the base parameter's treatment.
	 */
	public static final Set<String> CLEAR_PARAMETERS = Set.of(
			"_count", "_elements", "_summary", "_sort", "_total", "_getpages", "_getpagesoffset", "_pretty",
			"_format", "_bundletype", "_security", "_lastUpdated", "_expunge");

	/** Sets a hash (h: + 16 hex digits) apart from the data around it. */
	public static final String HASH_MARK = "h:";

	private static final int HASH_HEX_DIGITS = 16;
	private static final int MIN_KEY_BYTES = 32;
	private static final Pattern COMPARATOR = Pattern.compile("^(eq|ne|gt|lt|ge|le|sa|eb|ap)[0-9]");
	/** A resource type, an operation ({@code $everything}) or a keyword ({@code _history}, {@code _search}). */
	private static final Pattern STRUCTURAL_SEGMENT = Pattern.compile("[A-Z][A-Za-z]*|[$_][A-Za-z-]*|metadata");
	private static final Pattern HEX_KEY = Pattern.compile("([0-9a-fA-F]{2})+");

	private final SecretKeySpec key;
	private final Set<String> tenants;

	public AccessLogRedactor(byte[] key, Collection<String> tenants) {
		if (key.length < MIN_KEY_BYTES) {
			throw new IllegalArgumentException("access log key: " + key.length + " bytes, need at least " + MIN_KEY_BYTES);
		}
		this.key = new SecretKeySpec(key.clone(), "HmacSHA256");
		this.tenants = Set.copyOf(tenants);
		hash(new byte[0]); // fails now, not on the first request, if the JDK lacks HmacSHA256
	}

	/**
	 * Reads the key: hex of at least 32 bytes (surrounding whitespace ignored), in a file no other
	 * user may read. Errors name the file and the problem, never the content.
	 */
	public static byte[] readKeyFile(Path file) {
		String property = "mesh.access-log-key-file " + file;
		try {
			PosixFileAttributeView posix = Files.getFileAttributeView(file, PosixFileAttributeView.class);
			if (posix != null) {
				Set<PosixFilePermission> mode = posix.readAttributes().permissions();
				if (mode.stream().anyMatch(p -> p.name().startsWith("GROUP_") || p.name().startsWith("OTHERS_"))) {
					throw new IllegalStateException(property + " is open to other users (" + PosixFilePermissions.toString(mode)
							+ "): chmod 600 it");
				}
			}
			String text = Files.readString(file, StandardCharsets.US_ASCII).strip();
			if (!HEX_KEY.matcher(text).matches() || text.length() < 2 * MIN_KEY_BYTES) {
				throw new IllegalStateException(property + " must hold at least " + MIN_KEY_BYTES
						+ " random bytes as hex (" + 2 * MIN_KEY_BYTES + "+ hex digits, nothing else)");
			}
			return HexFormat.of().parseHex(text);
		} catch (NoSuchFileException e) {
			throw new IllegalStateException(property + " does not exist", e);
		} catch (IOException e) {
			throw new IllegalStateException(property + " cannot be read: " + e.getClass().getSimpleName(), e);
		}
	}

	/** The request target {@code path[?query]} as the log shows it; {@code query} may be null. */
	public String redactTarget(String path, String query) {
		String redactedPath = path == null ? null : redactPath(path);
		return query == null ? redactedPath : redactedPath + "?" + redactQuery(query);
	}

	/** {@code /fhir/<tenant>/<Type>/<id>/_history/<vid>}: ids and unknown segments hashed. */
	public String redactPath(String path) {
		String[] segments = path.split("/", -1);
		boolean fhir = segments.length > 1 && segments[0].isEmpty() && segments[1].equals("fhir");
		StringBuilder out = new StringBuilder(path.length());
		for (int i = 0; i < segments.length; i++) {
			String segment = segments[i];
			boolean clear;
			if (segment.isEmpty() || (fhir && i == 1)) {
				clear = true;
			} else if (fhir && i == 2) {
				clear = tenants.contains(segment);
			} else if (fhir && (i == 4 || (i > 4 && segments[i - 1].equals("_history")))) {
				// The id after /<Type>/, or the version after /_history/: kept only when it is a keyword or
				// an operation, which FHIR ids ([A-Za-z0-9.-]) can never be.
				clear = segment.startsWith("$") || segment.startsWith("_");
			} else {
				clear = fhir && STRUCTURAL_SEGMENT.matcher(segment).matches();
			}
			if (i > 0) out.append('/');
			out.append(clear ? segment : hash(percentDecode(segment, false)));
		}
		return out.toString();
	}

	/** Pure: the raw query string in, the same parameters in the same order out, values hashed. */
	public String redactQuery(String query) {
		StringBuilder out = new StringBuilder(query.length());
		String[] pairs = query.split("&", -1);
		for (int i = 0; i < pairs.length; i++) {
			if (i > 0) out.append('&');
			String pair = pairs[i];
			int eq = pair.indexOf('=');
			if (eq < 0) {
				out.append(pair); // a bare name: nothing to hide but the name, which stays readable
				continue;
			}
			String name = pair.substring(0, eq);
			String value = pair.substring(eq + 1);
			out.append(name).append('=');
			if (value.isEmpty() || CLEAR_PARAMETERS.contains(baseName(name))) {
				out.append(value);
			} else {
				out.append(redactValue(value));
			}
		}
		return out.toString();
	}

	/** One raw parameter value: decoded, split at unescaped commas, each element hashed. */
	String redactValue(String rawValue) {
		List<byte[]> elements = splitList(percentDecode(rawValue, true));
		StringBuilder out = new StringBuilder();
		for (int i = 0; i < elements.size(); i++) {
			if (i > 0) out.append(',');
			byte[] element = elements.get(i);
			if (element.length == 0) continue;
			String head = new String(element, 0, Math.min(3, element.length), StandardCharsets.ISO_8859_1);
			if (COMPARATOR.matcher(head).find()) {
				out.append(head, 0, 2).append(hash(Arrays.copyOfRange(element, 2, element.length)));
			} else {
				out.append(hash(element));
			}
		}
		return out.toString();
	}

	/** {@code h:} + 16 hex digits of HMAC-SHA-256 over the bytes. */
	public String hash(byte[] value) {
		try {
			Mac mac = Mac.getInstance("HmacSHA256");
			mac.init(key);
			return HASH_MARK + HexFormat.of().formatHex(mac.doFinal(value)).substring(0, HASH_HEX_DIGITS);
		} catch (GeneralSecurityException e) {
			throw new IllegalStateException("HmacSHA256 unavailable", e);
		}
	}

	/** The parameter name without its modifier, percent-decoded: {@code _security%3Anot} -> {@code _security}. */
	private static String baseName(String rawName) {
		String name = new String(percentDecode(rawName, true), StandardCharsets.UTF_8);
		int colon = name.indexOf(':');
		return colon < 0 ? name : name.substring(0, colon);
	}

	/**
	 * Bytes as the server sees them: {@code %XX} decoded, {@code +} a space in a query (not in a path).
	 * Decoded to bytes, not text, so invalid UTF-8 ({@code %FF}) still hashes the same everywhere; a
	 * malformed escape ({@code %G1}, a trailing {@code %}) is taken literally.
	 */
	static byte[] percentDecode(String raw, boolean plusIsSpace) {
		ByteArrayOutputStream out = new ByteArrayOutputStream(raw.length());
		byte[] bytes = raw.getBytes(StandardCharsets.UTF_8);
		for (int i = 0; i < bytes.length; i++) {
			byte b = bytes[i];
			if (b == '%' && i + 2 < bytes.length && hexDigit(bytes[i + 1]) >= 0 && hexDigit(bytes[i + 2]) >= 0) {
				out.write(hexDigit(bytes[i + 1]) * 16 + hexDigit(bytes[i + 2]));
				i += 2;
			} else if (b == '+' && plusIsSpace) {
				out.write(' ');
			} else {
				out.write(b);
			}
		}
		return out.toByteArray();
	}

	private static int hexDigit(byte b) {
		return Character.digit(b, 16);
	}

	/** FHIR search lists: a comma separates values unless escaped as {@code \,} (a backslash escapes the next byte). */
	static List<byte[]> splitList(byte[] value) {
		List<byte[]> out = new ArrayList<>();
		ByteArrayOutputStream current = new ByteArrayOutputStream();
		for (int i = 0; i < value.length; i++) {
			byte b = value[i];
			if (b == '\\' && i + 1 < value.length) {
				current.write(b);
				current.write(value[++i]);
			} else if (b == ',') {
				out.add(current.toByteArray());
				current.reset();
			} else {
				current.write(b);
			}
		}
		out.add(current.toByteArray());
		return out;
	}
}
