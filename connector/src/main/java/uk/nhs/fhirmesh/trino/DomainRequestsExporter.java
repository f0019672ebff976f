package uk.nhs.fhirmesh.trino;

import uk.nhs.fhirmesh.client.FhirSearchClient;

import javax.management.InstanceNotFoundException;
import javax.management.JMException;
import javax.management.MBeanServer;
import javax.management.MalformedObjectNameException;
import javax.management.ObjectName;
import javax.management.StandardMBean;

import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/**
 * Registers a {@link DomainRequestsMBean} per domain of one catalog, as {@code uk.nhs.fhirmesh:type=DomainRequests,name=<catalog>.<domain>},
 * and unregisters them when the catalog's connector shuts down. Catalog and domain share the {@code name} key because
 * Trino's OpenMetrics export names a metric by the {@code name} and {@code type} keys alone (other keys are dropped).
 * <p>
 * A catalog replaced under the same name (DROP and CREATE CATALOG) gets its new connector before Trino shuts the old
 * one down, and each has a class loader of its own, so nothing static is shared: the new connector takes the names
 * over, and the old one unregisters only names whose {@code CatalogInstance} is still its own. Both sides lock the
 * MBean server (a JDK object every catalog sees) so that a check and its unregistration are not split by a takeover.
 */
final class DomainRequestsExporter
        implements AutoCloseable
{
    static final String JMX_DOMAIN = "uk.nhs.fhirmesh";
    static final String TYPE = "DomainRequests";

    private final MBeanServer server;
    private final String instance = UUID.randomUUID().toString();
    private final List<ObjectName> names = new ArrayList<>();

    DomainRequestsExporter(MBeanServer server, String catalog, List<String> domains, FhirSearchClient client)
    {
        this.server = server;
        synchronized (server) {
            try {
                for (String domain : domains) {
                    ObjectName name = objectName(catalog, domain);
                    if (server.isRegistered(name)) {
                        server.unregisterMBean(name);
                    }
                    server.registerMBean(new StandardMBean(new DomainRequests(client, domain, instance), DomainRequestsMBean.class), name);
                    names.add(name);
                }
            }
            catch (JMException e) {
                close();
                throw new IllegalStateException("cannot register the request metrics of catalog %s in JMX: %s".formatted(catalog, e.getMessage()), e);
            }
        }
    }

    static ObjectName objectName(String catalog, String domain)
    {
        String name = catalog + "." + domain;
        try {
            return new ObjectName(JMX_DOMAIN + ":type=" + TYPE + ",name=" + (name.matches("[\\w.-]+") ? name : ObjectName.quote(name)));
        }
        catch (MalformedObjectNameException e) {
            throw new IllegalArgumentException("catalog %s, domain %s: not a JMX name".formatted(catalog, domain), e);
        }
    }

    /** Unregisters this connector's names that no newer catalog of the same name has taken over. */
    @Override
    public void close()
    {
        synchronized (server) {
            for (ObjectName name : names) {
                try {
                    if (instance.equals(server.getAttribute(name, "CatalogInstance"))) {
                        server.unregisterMBean(name);
                    }
                }
                catch (InstanceNotFoundException e) {
                    // Already gone: nothing to leak.
                }
                catch (JMException e) {
                    throw new IllegalStateException("cannot unregister " + name + ": " + e.getMessage(), e);
                }
            }
            names.clear();
        }
    }
}
