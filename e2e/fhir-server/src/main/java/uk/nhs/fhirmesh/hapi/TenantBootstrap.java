package uk.nhs.fhirmesh.hapi;

import ca.uhn.fhir.jpa.entity.PartitionEntity;
import ca.uhn.fhir.jpa.partition.IPartitionLookupSvc;
import ca.uhn.fhir.rest.api.server.SystemRequestDetails;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.SmartInitializingSingleton;
import org.springframework.boot.context.event.ApplicationReadyEvent;
import org.springframework.boot.web.context.WebServerApplicationContext;
import org.springframework.context.event.EventListener;
import org.springframework.stereotype.Component;

/**
 * Makes sure every tenant in {@code mesh.tenants} exists as a HAPI partition.
 *
 * <p>Runs once all beans exist but before Tomcat starts listening, so the readiness check
 * ({@code /fhir/<tenant>/metadata}) can never succeed while a partition is still missing.
 * Idempotent: existing partitions (matched by name) are left alone, so restarting on the same
 * database, or appending a tenant to the list later, just works.
 *
 * <p>Partition ids are deterministic: the tenant's 1-based position in {@code mesh.tenants}
 * (rx1,rth,rr8 -> 1,2,3). A name that already exists keeps the id it was created with (the
 * data is filed under that id); only if a new tenant's positional id is already taken by
 * another name (the list was reordered) does it get the lowest free id instead.
 */
@Component
public class TenantBootstrap implements SmartInitializingSingleton {

	private static final Logger log = LoggerFactory.getLogger(TenantBootstrap.class);
	// HAPI's own rule for partition names is looser; these names also appear in URLs and logs.
	private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_-]{0,199}");

	private final IPartitionLookupSvc partitions;
	private final List<String> tenants;

	public TenantBootstrap(IPartitionLookupSvc partitions, MeshProperties mesh) {
		this.partitions = partitions;
		this.tenants = normalise(mesh.tenants());
	}

	/** Trimmed, non-empty, validated, duplicate-free tenant list. */
	static List<String> normalise(List<String> raw) {
		List<String> out = raw == null ? List.of()
				: raw.stream().map(String::trim).filter(s -> !s.isEmpty()).distinct().toList();
		if (out.isEmpty()) {
			throw new IllegalStateException("mesh.tenants is empty: give at least one tenant, e.g. --mesh.tenants=rx1");
		}
		for (String t : out) {
			if (!NAME.matcher(t).matches() || t.equals("DEFAULT") || t.startsWith("_") || t.equals("metadata")) {
				throw new IllegalStateException("mesh.tenants: '" + t + "' is not a usable tenant name");
			}
		}
		return out;
	}

	@Override
	public void afterSingletonsInstantiated() {
		Map<String, Integer> existing = new HashMap<>();
		Set<Integer> usedIds = new HashSet<>();
		for (PartitionEntity p : partitions.listPartitions()) {
			existing.put(p.getName(), p.getId());
			usedIds.add(p.getId());
		}

		for (int i = 0; i < tenants.size(); i++) {
			String name = tenants.get(i);
			if (existing.containsKey(name)) {
				log.info("Tenant '{}' present as partition id {}", name, existing.get(name));
				continue;
			}
			int id = i + 1;
			if (usedIds.contains(id)) {
				id = 1;
				while (usedIds.contains(id)) id++;
				log.warn("Partition id {} is taken by another tenant; '{}' gets id {}", i + 1, name, id);
			}
			PartitionEntity p = new PartitionEntity();
			p.setId(id);
			p.setName(name);
			p.setDescription("FHIR mesh tenant " + name);
			partitions.createPartition(p, new SystemRequestDetails());
			usedIds.add(id);
			log.info("Tenant '{}' created as partition id {}", name, id);
		}
		partitions.invalidateCaches();
		log.info("Serving tenants {} at /fhir/<tenant>/", tenants);
	}

	/** One unmistakable line for people and scripts reading the log. */
	@EventListener
	public void onReady(ApplicationReadyEvent event) {
		String address = event.getApplicationContext().getEnvironment().getProperty("server.address", "127.0.0.1");
		int port = ((WebServerApplicationContext) event.getApplicationContext()).getWebServer().getPort();
		log.info("FHIR mesh HAPI server READY: http://{}:{}/fhir/<tenant>/ for tenants {}", address, port, tenants);
	}
}
