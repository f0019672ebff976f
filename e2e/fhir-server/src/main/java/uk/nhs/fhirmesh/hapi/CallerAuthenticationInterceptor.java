package uk.nhs.fhirmesh.hapi;

import ca.uhn.fhir.interceptor.api.Hook;
import ca.uhn.fhir.interceptor.api.Interceptor;
import ca.uhn.fhir.interceptor.api.Pointcut;
import ca.uhn.fhir.rest.api.RestOperationTypeEnum;
import ca.uhn.fhir.rest.api.server.RequestDetails;
import ca.uhn.fhir.rest.server.exceptions.AuthenticationException;
import ca.uhn.fhir.rest.server.exceptions.ForbiddenOperationException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.EnumSet;
import java.util.Set;
import org.springframework.stereotype.Component;

/**
 * Every request but the CapabilityStatement needs a bearer token listed in {@code mesh.callers-file}
 * (see {@link Callers}): reads need a token for the request's tenant, anything that changes data (create,
 * update, delete, transactions, operations) needs a write token. Missing or unknown tokens get 401,
 * a token for another tenant or scope gets 403. The file is re-read when it changes, so a new trust's
 * reader token works without a restart.
 */
@Component
@Interceptor
public class CallerAuthenticationInterceptor {

	/** Operations a reader token may perform. */
	static final Set<RestOperationTypeEnum> READS = EnumSet.of(
			RestOperationTypeEnum.READ, RestOperationTypeEnum.VREAD,
			RestOperationTypeEnum.SEARCH_TYPE, RestOperationTypeEnum.SEARCH_SYSTEM, RestOperationTypeEnum.GET_PAGE,
			RestOperationTypeEnum.HISTORY_INSTANCE, RestOperationTypeEnum.HISTORY_TYPE, RestOperationTypeEnum.HISTORY_SYSTEM);

	private final Path file;
	private volatile Callers callers;
	private volatile FileTime loadedAt;

	public CallerAuthenticationInterceptor(MeshProperties mesh) {
		if (mesh.callersFile() == null || mesh.callersFile().isBlank()) {
			throw new IllegalStateException("mesh.callers-file is not set: this server refuses to start without"
					+ " a list of callers (it would otherwise accept anyone's reads and writes)");
		}
		this.file = Path.of(mesh.callersFile());
		reloadIfChanged();
	}

	@Hook(Pointcut.SERVER_INCOMING_REQUEST_PRE_HANDLED)
	public void authenticate(RequestDetails request, RestOperationTypeEnum operation) {
		if (operation == RestOperationTypeEnum.METADATA) {
			return; // the CapabilityStatement is public, as FHIR servers conventionally make it
		}
		String header = request.getHeader("Authorization");
		if (header == null || !header.regionMatches(true, 0, "Bearer ", 0, 7)) {
			throw unauthorised("this FHIR server needs 'Authorization: Bearer <token>'");
		}
		reloadIfChanged();
		Callers.Caller caller = callers.byToken(header.substring(7).trim())
				.orElseThrow(() -> unauthorised("the bearer token is not one this FHIR server knows"));
		String tenant = request.getTenantId();
		if (!caller.mayAccess(tenant)) {
			throw new ForbiddenOperationException("caller '" + caller.name() + "' may not access tenant '" + tenant + "'");
		}
		if (!READS.contains(operation) && caller.scope() != Callers.Scope.WRITE) {
			throw new ForbiddenOperationException("caller '" + caller.name() + "' may only read; " + operation + " needs a write token");
		}
	}

	private static AuthenticationException unauthorised(String message) {
		AuthenticationException e = new AuthenticationException(message);
		e.addResponseHeader("WWW-Authenticate", "Bearer realm=\"fhir-mesh\"");
		return e;
	}

	private void reloadIfChanged() {
		try {
			FileTime modified = Files.getLastModifiedTime(file);
			if (!modified.equals(loadedAt)) {
				callers = Callers.load(file);
				loadedAt = modified;
			}
		} catch (IOException e) {
			throw new UncheckedIOException("cannot read mesh.callers-file " + file, e);
		}
	}
}
