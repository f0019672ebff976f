package uk.nhs.fhirmesh.hapi;

import java.io.CharArrayWriter;
import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.attribute.UserPrincipal;
import java.util.Collections;
import java.util.Enumeration;
import java.util.List;
import java.util.regex.Pattern;
import org.apache.catalina.connector.Request;
import org.apache.catalina.connector.Response;
import org.apache.catalina.valves.AccessLogValve;

/**
 * Tomcat's access log with the request line ({@code %r}) redacted by {@link AccessLogRedactor}:
 * same line format, but search values and resource ids appear only as keyed hashes. The
 * {@code traceparent} and {@code User-Agent} headers ({@code %{traceparent}i}, {@code %{User-Agent}i}) are the
 * client's text, so they are written only in a form that cannot break out of their quotes or forge a line:
 * a well-formed W3C traceparent or {@code -}, a user agent of printable ASCII without quotes or backslashes, cut
 * to {@link #MAX_USER_AGENT} characters. Every other pattern element is Tomcat's own.
 */
public class RedactingAccessLogValve extends AccessLogValve {

	static final int MAX_USER_AGENT = 200;
	private static final Pattern TRACEPARENT = Pattern.compile("00-(?!0{32})[0-9a-f]{32}-(?!0{16})[0-9a-f]{16}-[0-9a-f]{2}");

	private final AccessLogRedactor redactor;

	public RedactingAccessLogValve(AccessLogRedactor redactor) {
		this.redactor = redactor;
	}

	@Override
	protected AccessLogElement createAccessLogElement(char pattern) {
		return pattern == 'r' ? new RedactedRequestElement() : super.createAccessLogElement(pattern);
	}

	@Override
	protected AccessLogElement createAccessLogElement(String name, char pattern) {
		if (pattern == 'i' && name.equalsIgnoreCase("traceparent")) {
			return new AccessLogElement() {
				@Override
				public void addElement(CharArrayWriter buf, Request request, Response response, long time) {
					buf.append(request == null ? "-" : traceparent(request.getHeaders("traceparent")));
				}
			};
		}
		if (pattern == 'i' && name.equalsIgnoreCase("User-Agent")) {
			return new AccessLogElement() {
				@Override
				public void addElement(CharArrayWriter buf, Request request, Response response, long time) {
					buf.append(request == null ? "-" : userAgent(request.getHeader("User-Agent")));
				}
			};
		}
		return super.createAccessLogElement(name, pattern);
	}

	/** The one well-formed version-00 traceparent the request carries, else {@code -} (several are invalid per W3C). */
	static String traceparent(Enumeration<String> values) {
		List<String> all = values == null ? List.of() : Collections.list(values);
		return all.size() == 1 && TRACEPARENT.matcher(all.get(0)).matches() ? all.get(0) : "-";
	}

	/** Printable ASCII, quotes, backslashes and control or non-ASCII characters as {@code ?}, at most {@link #MAX_USER_AGENT} characters; {@code -} when absent. */
	static String userAgent(String value) {
		if (value == null || value.isEmpty()) {
			return "-";
		}
		StringBuilder out = new StringBuilder(Math.min(value.length(), MAX_USER_AGENT));
		for (int i = 0; i < value.length() && out.length() < MAX_USER_AGENT; i++) {
			char c = value.charAt(i);
			out.append(c >= 0x20 && c < 0x7f && c != '"' && c != '\\' ? c : '?');
		}
		return out.toString();
	}

	/** Tomcat's RequestElement (10.1), with the URI and query string passed through the redactor. */
	private final class RedactedRequestElement implements AccessLogElement {
		@Override
		public void addElement(CharArrayWriter buf, Request request, Response response, long time) {
			if (request == null) {
				buf.append('-');
				return;
			}
			String method = request.getMethod();
			if (method == null) {
				buf.append('-');
				return;
			}
			String uri = request.getRequestURI();
			buf.append(method).append(' ')
					.append(uri == null ? "null" : redactor.redactTarget(uri, request.getQueryString()))
					.append(' ').append(request.getProtocol());
		}
	}

	/**
	 * Makes {@code file} a regular file of this process's user with mode 0600, before Tomcat opens it
	 * (Tomcat would create it 0666 minus umask). Refuses a symbolic link or another user's file: in a
	 * shared log folder either would let someone else read what this server writes.
	 */
	public static void prepareLogFile(Path file) {
		try {
			try {
				Files.createFile(file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
			} catch (FileAlreadyExistsException e) {
				if (!Files.isRegularFile(file, LinkOption.NOFOLLOW_LINKS)) {
					throw new IllegalStateException("access log " + file + " is not a regular file (a symbolic link?): remove it");
				}
				UserPrincipal owner = Files.getOwner(file, LinkOption.NOFOLLOW_LINKS);
				UserPrincipal me = file.getFileSystem().getUserPrincipalLookupService()
						.lookupPrincipalByName(System.getProperty("user.name"));
				if (!owner.equals(me)) {
					throw new IllegalStateException("access log " + file + " belongs to " + owner.getName()
							+ ", not to this server's user " + me.getName() + ": remove it");
				}
				Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
			}
		} catch (IOException e) {
			throw new IllegalStateException("access log " + file + ": cannot create it with mode 0600: " + e, e);
		}
	}
}
