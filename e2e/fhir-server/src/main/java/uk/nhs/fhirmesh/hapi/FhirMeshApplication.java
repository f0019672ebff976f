package uk.nhs.fhirmesh.hapi;

import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.boot.context.properties.EnableConfigurationProperties;

/**
 * One JVM serving HAPI FHIR R4 for several NHS trusts, one HAPI partition per trust,
 * selected by the first URL segment: {@code http://host:port/fhir/<tenant>/Patient}.
 *
 * <p>The auto-configurations excluded below would otherwise be triggered by jars that
 * hapi-fhir-jpaserver-base drags in but this server never uses: we build the JPA
 * EntityManagerFactory ourselves (HAPI needs its own persistence provider), Thymeleaf is
 * only used by HAPI's narrative generator (off), and Quartz/Elasticsearch clients are
 * unused (HAPI runs its own scheduler; Hibernate Search is disabled), and Flyway comes with
 * HAPI's migration module but the schema is created by Hibernate here.
 */
@SpringBootApplication(
		excludeName = {
			"org.springframework.boot.autoconfigure.orm.jpa.HibernateJpaAutoConfiguration",
			"org.springframework.boot.autoconfigure.thymeleaf.ThymeleafAutoConfiguration",
			"org.springframework.boot.autoconfigure.quartz.QuartzAutoConfiguration",
			"org.springframework.boot.autoconfigure.flyway.FlywayAutoConfiguration",
			"org.springframework.boot.autoconfigure.elasticsearch.ElasticsearchClientAutoConfiguration",
			"org.springframework.boot.autoconfigure.elasticsearch.ElasticsearchRestClientAutoConfiguration",
			"org.springframework.boot.autoconfigure.data.elasticsearch.ElasticsearchDataAutoConfiguration",
			"org.springframework.boot.autoconfigure.data.elasticsearch.ElasticsearchRepositoriesAutoConfiguration"
		})
@EnableConfigurationProperties(MeshProperties.class)
public class FhirMeshApplication {

	public static void main(String[] args) {
		SpringApplication.run(FhirMeshApplication.class, args);
	}
}
