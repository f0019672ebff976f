package uk.nhs.fhirmesh.hapi;

import java.io.CharArrayWriter;
import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.attribute.UserPrincipal;
import org.apache.catalina.connector.Request;
import org.apache.catalina.connector.Response;
import org.apache.catalina.valves.AccessLogValve;

/**
 * Tomcat's access log with the request line ({@code %r}) redacted by {@link AccessLogRedactor}:
 * same line format, but search values and resource ids appear only as keyed hashes. Every other
 * pattern element is Tomcat's own.
 */
public class RedactingAccessLogValve extends AccessLogValve {

	private final AccessLogRedactor redactor;

	public RedactingAccessLogValve(AccessLogRedactor redactor) {
		this.redactor = redactor;
	}

	@Override
	protected AccessLogElement createAccessLogElement(char pattern) {
		return pattern == 'r' ? new RedactedRequestElement() : super.createAccessLogElement(pattern);
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
