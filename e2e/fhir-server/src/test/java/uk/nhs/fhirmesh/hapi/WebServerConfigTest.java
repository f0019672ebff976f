package uk.nhs.fhirmesh.hapi;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.HexFormat;
import java.util.List;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.boot.web.embedded.tomcat.TomcatServletWebServerFactory;
import org.springframework.boot.web.server.WebServer;

/** The access log as the server sets it up: a real embedded Tomcat with WebServerConfig's valve. */
class WebServerConfigTest {

	private static final String KEY_HEX = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
	/** e2e/test/connector/access-log.ts parses lines with this expression (the two quoted fields are optional there, for older lines). */
	private static final Pattern LINE = Pattern.compile(
			"^(\\S+) \\S+ \"(\\w+) /fhir/([^/?\\s]+)/?(\\S*) HTTP/[\\d.]+\" (\\d{3}) (\\d+|-) (\\d+) \"([^\"]*)\" \"([^\"]*)\"$");
	private static final String TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

	private static MeshProperties mesh(Path logDir, Path keyFile) {
		return new MeshProperties(List.of("rx1", "rth"), logDir == null ? null : logDir.toString(),
				keyFile == null ? null : keyFile.toString(), null, 100, 1000, List.of(13, -1));
	}

	private static Path keyFile(Path dir) throws IOException {
		Path key = dir.resolve("access-log.key");
		Files.writeString(key, KEY_HEX + "\n");
		Files.setPosixFilePermissions(key, PosixFilePermissions.fromString("rw-------"));
		return key;
	}

	@Test
	void refusesToStartWithAnAccessLogButNoKey(@TempDir Path dir) {
		IllegalStateException e = assertThrows(IllegalStateException.class,
				() -> new WebServerConfig(mesh(dir.resolve("logs"), null)).customize(new TomcatServletWebServerFactory()));
		assertTrue(e.getMessage().contains("mesh.access-log-key-file is required"), e.getMessage());
		assertFalse(Files.exists(dir.resolve("logs")), "nothing created before the check");
	}

	@Test
	void refusesToStartWithAMissingKeyFile(@TempDir Path dir) {
		IllegalStateException e = assertThrows(IllegalStateException.class,
				() -> new WebServerConfig(mesh(dir, dir.resolve("none.key"))).customize(new TomcatServletWebServerFactory()));
		assertTrue(e.getMessage().contains("none.key does not exist"), e.getMessage());
	}

	@Test
	void noAccessLogNeedsNoKey() {
		TomcatServletWebServerFactory factory = new TomcatServletWebServerFactory();
		new WebServerConfig(mesh(null, null)).customize(factory);
		assertTrue(factory.getEngineValves().isEmpty());
	}

	@Test
	void logsRequestsWithHashedValuesInTheParsedFormatToAnOwnerOnlyFile(@TempDir Path dir) throws Exception {
		Path logs = dir.resolve("logs");
		Files.createDirectory(logs);
		Path log = logs.resolve("fhir-access.log");
		Files.writeString(log, ""); // left world-readable by an older server
		Files.setPosixFilePermissions(log, PosixFilePermissions.fromString("rw-r--r--"));

		TomcatServletWebServerFactory factory = new TomcatServletWebServerFactory();
		factory.setPort(0);
		factory.setAddress(java.net.InetAddress.getLoopbackAddress());
		new WebServerConfig(mesh(logs, keyFile(dir))).customize(factory);
		WebServer server = factory.getWebServer(context -> context.addServlet("ok", new HttpServlet() {
			@Override
			protected void doGet(HttpServletRequest request, HttpServletResponse response) throws IOException {
				response.getWriter().write("ok");
			}
		}).addMapping("/*"));
		server.start();
		try {
			HttpClient http = HttpClient.newHttpClient();
			String base = "http://127.0.0.1:" + server.getPort();
			for (String target : List.of(
					"/fhir/rx1/Patient?identifier=https://fhir.nhs.uk/Id/nhs-number%7C9000000009&family:exact=O%27Brien&_count=5",
					"/fhir/rth/Patient/9000000009",
					"/fhir/rx1/Condition?subject=Patient/a,Patient/b&onset-date=ge2020-01-01T00:00:00Z&_sort=-_lastUpdated")) {
				HttpResponse<String> response = http.send(HttpRequest.newBuilder(URI.create(base + target))
								.header("traceparent", TRACEPARENT).header("User-Agent", "fhir-mesh-trino/test").build(),
						HttpResponse.BodyHandlers.ofString());
				assertEquals(200, response.statusCode(), target);
			}
			// Hostile header values: quotes and a backslash to break out of the field and forge another one, a
			// traceparent with a forged tail, then raw bytes (a tab, a Latin-1 byte) and an overlong agent.
			http.send(HttpRequest.newBuilder(URI.create(base + "/fhir/rx1/Patient"))
					.header("traceparent", TRACEPARENT + "\" \"evil")
					.header("User-Agent", "x\" 200 0 0 \"-\" \"forged\\").build(), HttpResponse.BodyHandlers.ofString());
			try (java.net.Socket socket = new java.net.Socket("127.0.0.1", server.getPort())) {
				socket.getOutputStream().write(("GET /fhir/rth/Patient HTTP/1.1\r\nHost: x\r\nConnection: close\r\ntraceparent: " + TRACEPARENT.toUpperCase()
						+ "\r\nUser-Agent: a\tb\u00e9" + "z".repeat(300) + "\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
				socket.getInputStream().readAllBytes();
			}
		} finally {
			server.stop();
		}

		assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(log)));
		List<String> lines = Files.readAllLines(log, StandardCharsets.UTF_8);
		assertEquals(5, lines.size(), String.join("\n", lines));
		String text = String.join("\n", lines);
		for (String clear : List.of("9000000009", "Brien", "nhs-number", "Patient/a", "2020-01-01")) {
			assertFalse(text.contains(clear), clear + " in\n" + text);
		}
		for (String line : lines) {
			assertTrue(LINE.matcher(line).matches(), line);
		}
		for (String line : lines.subList(0, 3)) {
			assertTrue(line.endsWith(" \"" + TRACEPARENT + "\" \"fhir-mesh-trino/test\""), line);
		}
		assertTrue(lines.get(3).endsWith(" \"-\" \"x? 200 0 0 ?-? ?forged?\""), lines.get(3));
		assertTrue(lines.get(4).endsWith(" \"-\" \"a?b?" + "z".repeat(RedactingAccessLogValve.MAX_USER_AGENT - 4) + "\""), lines.get(4));
		AccessLogRedactor redactor = new AccessLogRedactor(HexFormat.of().parseHex(KEY_HEX), List.of());
		assertTrue(lines.get(0).contains("\"GET /fhir/rx1/Patient?identifier="
				+ hash(redactor, "https://fhir.nhs.uk/Id/nhs-number|9000000009") + "&family:exact=" + hash(redactor, "O'Brien")
				+ "&_count=5 HTTP/1.1\" 200 2 "), lines.get(0));
		assertTrue(lines.get(1).contains("\"GET /fhir/rth/Patient/" + hash(redactor, "9000000009") + " HTTP/1.1\""), lines.get(1));
		assertTrue(lines.get(2).contains("?subject=" + hash(redactor, "Patient/a") + "," + hash(redactor, "Patient/b")
				+ "&onset-date=ge" + hash(redactor, "2020-01-01T00:00:00Z") + "&_sort=-_lastUpdated HTTP/1.1\""), lines.get(2));
	}

	private static String hash(AccessLogRedactor redactor, String value) {
		return redactor.hash(value.getBytes(StandardCharsets.UTF_8));
	}
}
