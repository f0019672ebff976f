package uk.nhs.fhirmesh.hapi;

import ca.uhn.fhir.batch2.api.IJobMaintenanceService;
import ca.uhn.fhir.batch2.jobs.config.Batch2JobsConfig;
import ca.uhn.fhir.batch2.maintenance.JobMaintenanceServiceImpl;
import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.jpa.api.config.JpaStorageSettings;
import ca.uhn.fhir.jpa.api.config.ThreadPoolFactoryConfig;
import ca.uhn.fhir.jpa.batch2.JpaBatch2Config;
import ca.uhn.fhir.jpa.config.HapiJpaConfig;
import ca.uhn.fhir.jpa.config.r4.JpaR4Config;
import ca.uhn.fhir.jpa.config.util.HapiEntityManagerFactoryUtil;
import ca.uhn.fhir.jpa.model.config.PartitionSettings;
import ca.uhn.fhir.jpa.subscription.channel.config.SubscriptionChannelConfig;
import ca.uhn.fhir.rest.api.SearchTotalModeEnum;
import jakarta.persistence.EntityManagerFactory;
import java.util.HashMap;
import java.util.Map;
import javax.sql.DataSource;
import org.springframework.beans.factory.SmartInitializingSingleton;
import org.springframework.beans.factory.config.ConfigurableListableBeanFactory;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.context.annotation.Import;
import org.springframework.context.annotation.Primary;
import org.springframework.orm.jpa.JpaTransactionManager;
import org.springframework.orm.jpa.LocalContainerEntityManagerFactoryBean;
import org.springframework.transaction.annotation.EnableTransactionManagement;

/**
 * Storage: HAPI's JPA layer (R4 DAOs + resource providers) on PostgreSQL, with the
 * settings an analytics client needs (uncapped, uncached, accurately counted searches).
 */
@Configuration
@EnableTransactionManagement
// Besides the R4 JPA layer HAPI needs its thread-pool factory (bundle processing) and the
// Batch2 job framework (used by the DAOs, e.g. for DELETE ...&_expunge=true and $reindex).
// Batch2 passes work over HAPI's in-memory message channels, which are defined in
// SubscriptionChannelConfig; importing it does NOT enable subscriptions.
@Import({
	JpaR4Config.class,
	HapiJpaConfig.class,
	ThreadPoolFactoryConfig.class,
	JpaBatch2Config.class,
	Batch2JobsConfig.class,
	SubscriptionChannelConfig.class
})
public class StorageConfig {

	@Bean
	public JpaStorageSettings storageSettings(MeshProperties mesh) {
		JpaStorageSettings s = new JpaStorageSettings();

		// Loaders PUT Patient/<uuid> and Patient/rx1-pat-000123; ANY also accepts purely
		// numeric ids, and UUID server ids keep POST-created ids from colliding with them.
		s.setResourceClientIdStrategy(JpaStorageSettings.ClientIdStrategyEnum.ANY);
		s.setResourceServerIdStrategy(JpaStorageSettings.IdStrategyEnum.UUID);

		// Every search runs afresh: a write must be visible to the next identical search.
		s.setReuseCachedSearchResultsForMillis(null);
		// Bundle.total is always present and exact (the connector relies on it).
		s.setDefaultTotalMode(SearchTotalModeEnum.ACCURATE);
		// Pre-fetch ends with -1 (= load everything) so paging never stops at a cap;
		// no fetch-size maximum either (that would also cap results).
		s.setSearchPreFetchThresholds(mesh.prefetchThresholds());
		s.setFetchSizeDefaultMaximum(null);

		// Resetting a tenant: DELETE /Type?search&_expunge=true (a Batch2 job, SQL-level, fast);
		// multiple delete (DELETE /Type?search, one Hibernate session: slow past a few hundred
		// resources) followed by $expunge for small sets.
		s.setAllowMultipleDelete(true);
		s.setExpungeEnabled(true);
		s.setDeleteExpungeEnabled(true);
		// Advance single-chunk Batch2 steps at once rather than on the next maintenance pass.
		s.setJobFastTrackingEnabled(true);

		// Loaded data is ordered (Patients before the Observations that point at them),
		// so referential integrity can stay on and catches broken test data.
		s.setEnforceReferentialIntegrityOnWrite(true);
		// ...but not on delete, so a tenant can be emptied type by type in any order.
		s.setEnforceReferentialIntegrityOnDelete(false);
		s.setAutoCreatePlaceholderReferenceTargets(false);
		return s;
	}

	/**
	 * Batch2 jobs move from step to step on a maintenance pass, by default once a minute, so a
	 * delete-expunge job took ~3 minutes. Every 2 s it takes seconds. Must be set before HAPI
	 * schedules its jobs (on ContextRefreshedEvent), hence a SmartInitializingSingleton.
	 */
	@Bean
	public SmartInitializingSingleton fasterBatch2Maintenance(IJobMaintenanceService maintenance) {
		return () -> {
			if (maintenance instanceof JobMaintenanceServiceImpl impl) {
				impl.setScheduledJobFrequencyMillis(2_000);
			}
		};
	}

	@Bean
	public PartitionSettings partitionSettings() {
		PartitionSettings p = new PartitionSettings();
		p.setPartitioningEnabled(true);
		// A trust's resources may only reference resources of the same trust.
		p.setAllowReferencesAcrossPartitions(PartitionSettings.CrossPartitionReferenceMode.NOT_ALLOWED);
		return p;
	}

	/**
	 * HAPI must build the EntityManagerFactory itself (own persistence provider and entity
	 * packages), so Boot's HibernateJpaAutoConfiguration is excluded and the Hibernate
	 * settings live here.
	 */
	@Bean
	@Primary
	public LocalContainerEntityManagerFactoryBean entityManagerFactory(
			ConfigurableListableBeanFactory beanFactory,
			FhirContext fhirContext,
			JpaStorageSettings storageSettings,
			DataSource dataSource) {
		LocalContainerEntityManagerFactoryBean emf =
				HapiEntityManagerFactoryUtil.newEntityManagerFactory(beanFactory, fhirContext, storageSettings);
		emf.setPersistenceUnitName("HAPI_PU");
		emf.setDataSource(dataSource);

		Map<String, Object> jpa = new HashMap<>();
		jpa.put("hibernate.dialect", "ca.uhn.fhir.jpa.model.dialect.HapiFhirPostgresDialect");
		// Schema from the entity model; good enough for a test server (no HAPI migrator).
		jpa.put("hibernate.hbm2ddl.auto", "update");
		// Entities are listed by HAPI; classpath scanning only costs start-up time.
		jpa.put("hibernate.archive.scanner", "org.hibernate.boot.archive.scan.internal.DisabledScanner");
		// JDBC batching matters for transaction-bundle loads (many index rows per resource).
		jpa.put("hibernate.jdbc.batch_size", "50");
		jpa.put("hibernate.order_inserts", "true");
		jpa.put("hibernate.order_updates", "true");
		jpa.put("hibernate.cache.use_second_level_cache", "false");
		jpa.put("hibernate.cache.use_query_cache", "false");
		// Hibernate Search (Lucene/Elasticsearch full-text) is off: plain SQL search only.
		jpa.put("hibernate.search.enabled", "false");
		emf.setJpaPropertyMap(jpa);
		return emf;
	}

	@Bean
	@Primary
	public JpaTransactionManager transactionManager(EntityManagerFactory entityManagerFactory) {
		return new JpaTransactionManager(entityManagerFactory);
	}
}
