package uk.nhs.fhirmesh.hapi;

import ca.uhn.fhir.interceptor.api.Hook;
import ca.uhn.fhir.interceptor.api.Interceptor;
import ca.uhn.fhir.interceptor.api.Pointcut;
import ca.uhn.fhir.interceptor.model.RequestPartitionId;
import ca.uhn.fhir.rest.api.Constants;
import ca.uhn.fhir.rest.api.server.IPreResourceShowDetails;
import ca.uhn.fhir.rest.api.server.RequestDetails;
import ca.uhn.fhir.rest.server.exceptions.ForbiddenOperationException;
import ca.uhn.fhir.rest.server.exceptions.ResourceNotFoundException;
import java.util.List;
import org.springframework.stereotype.Component;

/**
 * Rejects requests for a tenant that is not in {@code mesh.tenants} (including HAPI's
 * built-in {@code DEFAULT} and {@code _ALL}), with a 404 OperationOutcome that names the
 * tenants this server does serve. Runs right after HAPI has read the tenant from the URL
 * and before it picks a handler, so even a malformed path gets the tenant message.
 *
 * <p>Never shows a resource stored in another tenant's partition: HAPI does not check that a
 * {@code _getpages} search id belongs to the tenant in the URL (verified: rth's token paged an rx1
 * search through /fhir/rth?_getpages=...). Every resource the JPA layer loads carries its partition.
 *
 * <p>Also refuses {@code $expunge expungeEverything=true}: HAPI ignores the tenant for it and
 * wipes every tenant AND the partition table (verified: sent to /fhir/rr8, it emptied rx1 too).
 */
@Component
@Interceptor
public class TenantGuardInterceptor {

	private final List<String> tenants;

	public TenantGuardInterceptor(MeshProperties mesh) {
		this.tenants = TenantBootstrap.normalise(mesh.tenants());
	}

	@Hook(Pointcut.SERVER_INCOMING_REQUEST_PRE_HANDLER_SELECTED)
	public void checkTenant(RequestDetails request) {
		String tenant = request.getTenantId();
		if (tenant == null || !tenants.contains(tenant)) {
			throw new ResourceNotFoundException("Unknown tenant '" + tenant + "': this server serves "
					+ String.join(", ", tenants) + " at /fhir/<tenant>/ (e.g. /fhir/" + tenants.get(0)
					+ "/metadata)");
		}
	}

	@Hook(Pointcut.STORAGE_PRESHOW_RESOURCES)
	public void showOnlyOwnTenant(IPreResourceShowDetails details, RequestDetails request) {
		if (request == null || !CallerAuthenticationInterceptor.READS.contains(request.getRestOperationType())) {
			return; // writes echo what the (write-scoped) caller just stored in the URL's tenant
		}
		String tenant = request.getTenantId();
		for (int i = 0; i < details.size(); i++) {
			Object partition = details.getResource(i) == null ? null
					: details.getResource(i).getUserData(Constants.RESOURCE_PARTITION_ID);
			String owner = partition instanceof RequestPartitionId p ? p.getFirstPartitionNameOrNull() : null;
			if (tenant == null || !tenant.equals(owner)) {
				// Fail closed: a resource of unknown partition is not shown either.
				throw new ForbiddenOperationException("this result belongs to another tenant's search; page only"
						+ " the searches made at /fhir/" + tenant + "/");
			}
		}
	}

	@Hook(Pointcut.STORAGE_PRESTORAGE_EXPUNGE_EVERYTHING)
	public void refuseExpungeEverything(RequestDetails request) {
		throw new ForbiddenOperationException("$expunge expungeEverything=true would delete the data of ALL tenants"
				+ " and is disabled. To reset one tenant: DELETE /fhir/<tenant>/<Type>?_lastUpdated=ge1000 for each"
				+ " resource type, then POST /fhir/<tenant>/$expunge with expungeDeletedResources=true and"
				+ " expungePreviousVersions=true (see README).");
	}
}
