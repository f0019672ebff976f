package uk.nhs.fhirmesh.hapi;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.boot.web.embedded.tomcat.TomcatServletWebServerFactory;
import org.springframework.boot.web.server.WebServerFactoryCustomizer;
import org.springframework.stereotype.Component;

/**
 * Tomcat access log, one line per request, written to {@code <mesh.access-log-dir>/fhir-access.log}
 * (never rotated, appended across restarts). Connector tests grep it to prove which FHIR
 * searches were sent. Line format (space separated):
 *
 * <pre>2025-01-31T12:00:00.123+0000 127.0.0.1 "GET /fhir/rx1/Patient?code=http://loinc.org|1234-5 HTTP/1.1" 200 5123 17 "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01" "fhir-mesh-trino/0.1"</pre>
 *
 * i.e. time, client, request line, status, bytes, duration ms, W3C traceparent (or {@code -}), user agent (or
 * {@code -}); in the request line every search value and resource id is a keyed hash ({@link AccessLogRedactor}):
 * {@code code=h:3f2a9c0d1e4b5a67}. The two headers are sanitised ({@link RedactingAccessLogValve}): a client cannot
 * break their quotes.
 * The file is 0600: even hashed, which searches ran is nobody else's business.
 */
@Component
public class WebServerConfig implements WebServerFactoryCustomizer<TomcatServletWebServerFactory> {

	private static final Logger log = LoggerFactory.getLogger(WebServerConfig.class);
	public static final String ACCESS_LOG_PATTERN =
			"%{yyyy-MM-dd'T'HH:mm:ss.SSSZ}t %a \"%r\" %s %b %{ms}T \"%{traceparent}i\" \"%{User-Agent}i\"";

	private final MeshProperties mesh;

	public WebServerConfig(MeshProperties mesh) {
		this.mesh = mesh;
	}

	@Override
	public void customize(TomcatServletWebServerFactory factory) {
		String dir = mesh.accessLogDir();
		if (dir == null || dir.isBlank()) {
			log.info("No mesh.access-log-dir given: access log disabled");
			return;
		}
		String keyFile = mesh.accessLogKeyFile();
		if (keyFile == null || keyFile.isBlank()) {
			throw new IllegalStateException("mesh.access-log-key-file is required with mesh.access-log-dir: the access log"
					+ " hashes search values with that key and never writes them in clear");
		}
		File d = new File(dir).getAbsoluteFile();
		if (!d.isDirectory()) {
			try { // a folder we create is ours alone (an existing one's mode is left to whoever made it)
				Files.createDirectories(d.toPath(), PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
			} catch (IOException e) {
				throw new IllegalStateException("mesh.access-log-dir: cannot create " + d + ": " + e, e);
			}
		}
		AccessLogRedactor redactor = new AccessLogRedactor(
				AccessLogRedactor.readKeyFile(Path.of(keyFile)), TenantBootstrap.normalise(mesh.tenants()));
		RedactingAccessLogValve.prepareLogFile(new File(d, "fhir-access.log").toPath());
		RedactingAccessLogValve valve = new RedactingAccessLogValve(redactor);
		valve.setDirectory(d.getPath());
		valve.setPrefix("fhir-access");
		valve.setSuffix(".log");
		valve.setRotatable(false); // fixed file name, no date suffix
		valve.setBuffered(false); // tests read the log right after a request
		valve.setPattern(ACCESS_LOG_PATTERN);
		valve.setEncoding("UTF-8");
		factory.addEngineValves(valve);
		log.info("Access log (search values hashed): {}", new File(d, "fhir-access.log"));
	}
}
