package uk.nhs.fhirmesh.hapi;

import java.io.File;
import org.apache.catalina.valves.AccessLogValve;
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
 * <pre>2025-01-31T12:00:00.123+0000 127.0.0.1 "GET /fhir/rx1/Patient?code=http://loinc.org|1234-5 HTTP/1.1" 200 5123 17</pre>
 *
 * i.e. time, client, request line with the full raw query string, status, bytes, duration ms.
 */
@Component
public class WebServerConfig implements WebServerFactoryCustomizer<TomcatServletWebServerFactory> {

	private static final Logger log = LoggerFactory.getLogger(WebServerConfig.class);
	public static final String ACCESS_LOG_PATTERN =
			"%{yyyy-MM-dd'T'HH:mm:ss.SSSZ}t %a \"%r\" %s %b %{ms}T";

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
		File d = new File(dir).getAbsoluteFile();
		if (!d.isDirectory() && !d.mkdirs()) {
			throw new IllegalStateException("mesh.access-log-dir: cannot create " + d);
		}
		AccessLogValve valve = new AccessLogValve();
		valve.setDirectory(d.getPath());
		valve.setPrefix("fhir-access");
		valve.setSuffix(".log");
		valve.setRotatable(false); // fixed file name, no date suffix
		valve.setBuffered(false); // tests read the log right after a request
		valve.setPattern(ACCESS_LOG_PATTERN);
		valve.setEncoding("UTF-8");
		factory.addEngineValves(valve);
		log.info("Access log: {}", new File(d, "fhir-access.log"));
	}
}
