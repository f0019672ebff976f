package uk.nhs.fhirmesh.hapi;

import java.util.List;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * The mesh-specific settings ({@code --mesh.*} on the command line). Everything else is an
 * ordinary Spring Boot property ({@code server.*}, {@code spring.datasource.*}).
 *
 * @param tenants            partition names served under {@code /fhir/<tenant>/}; created at start-up if missing
 * @param accessLogDir       directory for the Tomcat access log {@code fhir-access.log}; no access log if blank
 * @param accessLogKeyFile   file with the hex key the access log hashes search values with; required with accessLogDir
 * @param callersFile        who may call the server (token hashes, scopes, tenants; see {@link Callers}); required
 * @param defaultPageSize    page size when the client sends no {@code _count}
 * @param maxPageSize        largest {@code _count} honoured
 * @param prefetchThresholds HAPI search pre-fetch steps; MUST end with -1 or large searches are capped
 */
@ConfigurationProperties(prefix = "mesh")
public record MeshProperties(
		@DefaultValue("rx1") List<String> tenants,
		String accessLogDir,
		String accessLogKeyFile,
		String callersFile,
		@DefaultValue("100") int defaultPageSize,
		@DefaultValue("1000") int maxPageSize,
		@DefaultValue({"13", "503", "2003", "-1"}) List<Integer> prefetchThresholds) {}
