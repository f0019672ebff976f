package uk.nhs.fhirmesh.hapi;

import ca.uhn.fhir.context.support.IValidationSupport;
import ca.uhn.fhir.jpa.api.config.JpaStorageSettings;
import ca.uhn.fhir.jpa.api.dao.IFhirSystemDao;
import ca.uhn.fhir.jpa.model.config.PartitionSettings;
import ca.uhn.fhir.jpa.provider.IJpaSystemProvider;
import ca.uhn.fhir.jpa.provider.JpaCapabilityStatementProvider;
import ca.uhn.fhir.jpa.search.DatabaseBackedPagingProvider;
import ca.uhn.fhir.narrative2.NullNarrativeGenerator;
import ca.uhn.fhir.rest.api.EncodingEnum;
import ca.uhn.fhir.rest.server.IncomingRequestAddressStrategy;
import ca.uhn.fhir.rest.server.RestfulServer;
import ca.uhn.fhir.rest.server.interceptor.partition.RequestTenantPartitionInterceptor;
import ca.uhn.fhir.rest.server.provider.ResourceProviderFactory;
import ca.uhn.fhir.rest.server.tenant.UrlBaseTenantIdentificationStrategy;
import ca.uhn.fhir.rest.server.util.ISearchParamRegistry;
import org.springframework.boot.web.servlet.ServletRegistrationBean;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * The FHIR REST endpoint: HAPI's RestfulServer servlet at {@code /fhir/*}, where the first
 * path segment names the tenant (= HAPI partition).
 */
@Configuration
public class FhirServerConfig {

	@Bean
	public RestfulServer restfulServer(
			IFhirSystemDao<?, ?> systemDao,
			ResourceProviderFactory resourceProviders,
			IJpaSystemProvider systemProvider,
			DatabaseBackedPagingProvider pagingProvider,
			JpaStorageSettings storageSettings,
			PartitionSettings partitionSettings,
			ISearchParamRegistry searchParamRegistry,
			IValidationSupport validationSupport,
			TenantGuardInterceptor tenantGuard,
			CallerAuthenticationInterceptor callerAuthentication,
			RequestHygieneInterceptor requestHygiene,
			MeshProperties mesh) {
		RestfulServer server = new RestfulServer(systemDao.getContext());
		// No narrative generation (saves CPU on every write; the mesh never reads narratives).
		server.getFhirContext().setNarrativeGenerator(new NullNarrativeGenerator());

		// One provider per resource type, plus system level: transaction/batch, history, $expunge.
		server.registerProviders(resourceProviders.createProviders());
		server.registerProvider(systemProvider);
		server.setServerConformanceProvider(new JpaCapabilityStatementProvider(
				server, systemDao, storageSettings, searchParamRegistry, validationSupport));

		// Tenant = first URL segment; the interceptor maps it to the partition of that name.
		server.setTenantIdentificationStrategy(new UrlBaseTenantIdentificationStrategy());
		RequestTenantPartitionInterceptor partitionInterceptor = new RequestTenantPartitionInterceptor();
		partitionInterceptor.setPartitionSettings(partitionSettings);
		server.registerInterceptor(partitionInterceptor);
		// Unknown tenants get a clear 404 instead of HAPI's generic partition error.
		server.registerInterceptor(tenantGuard);
		// Every request but /metadata carries a known bearer token with the right tenant and scope.
		server.registerInterceptor(callerAuthentication);
		// NUL refused with a clear 400; failures logged without the values they quote.
		server.registerInterceptor(requestHygiene);

		// Searches are paged through the database; next links are absolute URLs built from
		// the incoming request (same scheme/host/port), with the tenant segment kept.
		pagingProvider.setDefaultPageSize(mesh.defaultPageSize());
		pagingProvider.setMaximumPageSize(mesh.maxPageSize());
		server.setPagingProvider(pagingProvider);
		server.setServerAddressStrategy(new IncomingRequestAddressStrategy());

		server.setDefaultResponseEncoding(EncodingEnum.JSON);
		return server;
	}

	@Bean
	public ServletRegistrationBean<RestfulServer> fhirServlet(RestfulServer restfulServer) {
		ServletRegistrationBean<RestfulServer> reg = new ServletRegistrationBean<>(restfulServer, "/fhir/*");
		reg.setName("fhir");
		// Initialise HAPI's servlet (provider scanning) at start-up, not on the first request,
		// so the first /metadata after "Started" is fast.
		reg.setLoadOnStartup(1);
		return reg;
	}
}
