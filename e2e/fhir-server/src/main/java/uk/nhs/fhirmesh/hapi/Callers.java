package uk.nhs.fhirmesh.hapi;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Who may call this server: one line per caller, tab separated,
 * {@code <sha256 hex of the bearer token> <read|write> <tenant,tenant,...|*> <name>}. Only hashes are
 * stored, so the file grants nothing to whoever reads it. {@code write} includes {@code read}.
 */
public final class Callers {

	public enum Scope { READ, WRITE }

	public record Caller(String name, Scope scope, Set<String> tenants) {
		public boolean mayAccess(String tenant) {
			return tenants.contains("*") || tenants.contains(tenant);
		}
	}

	private final Map<String, Caller> byTokenHash;

	private Callers(Map<String, Caller> byTokenHash) {
		this.byTokenHash = Map.copyOf(byTokenHash);
	}

	public static Callers parse(List<String> lines, String source) {
		Map<String, Caller> callers = new HashMap<>();
		int number = 0;
		for (String line : lines) {
			number++;
			if (line.isBlank() || line.startsWith("#")) {
				continue;
			}
			String[] fields = line.split("\t");
			if (fields.length != 4 || !fields[0].matches("[0-9a-f]{64}")) {
				throw new IllegalArgumentException(source + " line " + number
						+ ": expected '<sha256 hex>\\t<read|write>\\t<tenants|*>\\t<name>'");
			}
			Scope scope = switch (fields[1]) {
				case "read" -> Scope.READ;
				case "write" -> Scope.WRITE;
				default -> throw new IllegalArgumentException(source + " line " + number + ": scope must be read or write");
			};
			callers.put(fields[0], new Caller(fields[3], scope, Set.of(fields[2].split(","))));
		}
		return new Callers(callers);
	}

	public static Callers load(Path file) {
		try {
			return parse(Files.readAllLines(file, StandardCharsets.UTF_8), file.toString());
		} catch (IOException e) {
			throw new UncheckedIOException("cannot read the callers file " + file, e);
		}
	}

	public Optional<Caller> byToken(String token) {
		return Optional.ofNullable(byTokenHash.get(sha256Hex(token)));
	}

	static String sha256Hex(String value) {
		try {
			return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(value.getBytes(StandardCharsets.UTF_8)));
		} catch (NoSuchAlgorithmException e) {
			throw new IllegalStateException(e);
		}
	}
}
