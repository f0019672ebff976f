package uk.nhs.fhirmesh.trino;

import io.trino.spi.TrinoException;
import io.trino.spi.connector.Assignment;
import io.trino.spi.connector.ColumnHandle;
import io.trino.spi.connector.ColumnMetadata;
import io.trino.spi.connector.ConnectorMetadata;
import io.trino.spi.connector.ConnectorSession;
import io.trino.spi.connector.ConnectorTableHandle;
import io.trino.spi.connector.ConnectorTableMetadata;
import io.trino.spi.connector.ConnectorTableVersion;
import io.trino.spi.connector.Constraint;
import io.trino.spi.connector.ConstraintApplicationResult;
import io.trino.spi.connector.LimitApplicationResult;
import io.trino.spi.connector.ProjectionApplicationResult;
import io.trino.spi.connector.RelationColumnsMetadata;
import io.trino.spi.connector.SchemaTableName;
import io.trino.spi.connector.SortItem;
import io.trino.spi.connector.TopNApplicationResult;
import io.trino.spi.expression.ConnectorExpression;
import io.trino.spi.expression.Variable;
import io.trino.spi.predicate.Domain;
import io.trino.spi.predicate.TupleDomain;
import io.trino.spi.type.Type;
import uk.nhs.fhirmesh.exclusion.PatientKeys;
import uk.nhs.fhirmesh.mapping.TableMapping;
import uk.nhs.fhirmesh.search.FhirSearch;
import uk.nhs.fhirmesh.search.SearchTranslator;
import uk.nhs.fhirmesh.search.SearchTranslator.ElementCondition;
import uk.nhs.fhirmesh.view.ViewColumn;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.UnaryOperator;

import static io.trino.spi.StandardErrorCode.NOT_SUPPORTED;
import static io.trino.spi.type.VarcharType.VARCHAR;
import static uk.nhs.fhirmesh.trino.FhirSessionProperties.exclusionRules;
import static uk.nhs.fhirmesh.trino.FhirSessionProperties.pushdownEnabled;
import static uk.nhs.fhirmesh.trino.FhirSessionProperties.skipDomains;

/**
 * Tables from the catalog's mapping files, and the pushdown hooks. Pushdown only narrows what is
 * fetched: the remaining filter handed back to Trino is the whole predicate (apart from the exact
 * {@code domain} column), following trino-base-jdbc's rule of returning empty when nothing changed.
 */
final class FhirMetadata
        implements ConnectorMetadata
{
    private final FhirCatalog catalog;

    FhirMetadata(FhirCatalog catalog)
    {
        this.catalog = catalog;
    }

    @Override
    public List<String> listSchemaNames(ConnectorSession session)
    {
        return List.of(FhirCatalog.SCHEMA);
    }

    @Override
    public List<SchemaTableName> listTables(ConnectorSession session, Optional<String> schemaName)
    {
        if (schemaName.isPresent() && !schemaName.get().equals(FhirCatalog.SCHEMA)) {
            return List.of();
        }
        return catalog.tables().keySet().stream().map(table -> new SchemaTableName(FhirCatalog.SCHEMA, table)).toList();
    }

    @Override
    public ConnectorTableHandle getTableHandle(ConnectorSession session, SchemaTableName tableName, Optional<ConnectorTableVersion> startVersion, Optional<ConnectorTableVersion> endVersion)
    {
        if (startVersion.isPresent() || endVersion.isPresent()) {
            throw new TrinoException(NOT_SUPPORTED, "FHIR tables have no versions to travel to");
        }
        // The one read of the mapping for this query: everything after, on any node, uses the handle's snapshot.
        return catalog.findPublished(tableName)
                .map(table -> {
                    List<String> domains = catalog.domains(tableName, table.mapping());
                    Set<String> skip = skipDomains(session);
                    return FhirTableHandle.scanAll(tableName, table.snapshot(), domains.stream().filter(domain -> !skip.contains(domain)).toList(),
                            domains.stream().filter(skip::contains).toList(), catalog.patientDomains(), table.mapping().view().resource());
                })
                .orElse(null);
    }

    @Override
    public ConnectorTableMetadata getTableMetadata(ConnectorSession session, ConnectorTableHandle table)
    {
        SchemaTableName name = ((FhirTableHandle) table).tableName();
        TableMapping mapping = catalog.mapping((FhirTableHandle) table);
        return new ConnectorTableMetadata(name, columnMetadata(mapping), Map.of(), Optional.of(comment(mapping)));
    }

    @Override
    public Iterator<RelationColumnsMetadata> streamRelationColumns(ConnectorSession session, Optional<String> schemaName, UnaryOperator<Set<SchemaTableName>> relationFilter)
    {
        Map<SchemaTableName, TableMapping> tables = new LinkedHashMap<>();
        for (SchemaTableName name : listTables(session, schemaName)) {
            catalog.tables().entrySet().stream().filter(e -> e.getKey().equals(name.getTableName())).findFirst()
                    .ifPresent(e -> tables.put(name, e.getValue()));
        }
        return relationFilter.apply(tables.keySet()).stream()
                .map(name -> RelationColumnsMetadata.forTable(name, columnMetadata(tables.get(name))))
                .iterator();
    }

    @Override
    public Map<String, ColumnHandle> getColumnHandles(ConnectorSession session, ConnectorTableHandle table)
    {
        Map<String, ColumnHandle> handles = new LinkedHashMap<>();
        for (FhirColumnHandle column : columns(catalog.mapping((FhirTableHandle) table))) {
            handles.put(column.name(), column);
        }
        return handles;
    }

    @Override
    public ColumnMetadata getColumnMetadata(ConnectorSession session, ConnectorTableHandle table, ColumnHandle column)
    {
        FhirColumnHandle handle = (FhirColumnHandle) column;
        return handle.toColumnMetadata(handle.name().equals(TableMapping.DOMAIN_COLUMN) ? "Domain (ODS code) whose FHIR endpoint returned the row" : null);
    }

    @Override
    public Optional<ConstraintApplicationResult<ConnectorTableHandle>> applyFilter(ConnectorSession session, ConnectorTableHandle table, Constraint constraint)
    {
        FhirTableHandle handle = (FhirTableHandle) table;
        // A filter above a top-N is not a filter of the table: narrowing the search would change the answer.
        if (!pushdownEnabled(session) || handle.sort().isPresent()) {
            return Optional.empty();
        }
        TableMapping mapping = catalog.mapping(handle);
        TupleDomain<ColumnHandle> combined = handle.constraint().intersect(constraint.getSummary());
        List<ElementCondition> elementConditions = new ArrayList<>(handle.elementConditions());
        for (ElementCondition condition : ElementConditions.extract(constraint.getExpression(), constraint.getAssignments())) {
            if (mapping.binding(condition.column()).isPresent() && !elementConditions.contains(condition)) {
                elementConditions.add(condition);
            }
        }
        if (combined.equals(handle.constraint()) && elementConditions.equals(handle.elementConditions())) {
            return Optional.empty();
        }
        List<String> domains = prunedDomains(handle.domains(), combined);
        FhirSearch search = catalog.searchUrlLimit().fit(SearchTranslator.translate(mapping, byName(combined), typesByName(combined), elementConditions),
                catalog.longestBaseUrl(), widestElements(mapping));
        FhirTableHandle narrowed = handle.withFilter(domains, combined, elementConditions, search);
        // Only the domain column is enforced exactly (it selects splits); Trino re-checks all the rest.
        TupleDomain<ColumnHandle> remaining = constraint.getSummary().filter((column, domain) -> !isDomainColumn(column));
        return Optional.of(new ConstraintApplicationResult<>(narrowed, remaining, constraint.getExpression(), false));
    }

    @Override
    public Optional<LimitApplicationResult<ConnectorTableHandle>> applyLimit(ConnectorSession session, ConnectorTableHandle table, long limit)
    {
        FhirTableHandle handle = (FhirTableHandle) table;
        if (!pushdownEnabled(session) || (handle.limit().isPresent() && handle.limit().getAsLong() <= limit)) {
            return Optional.empty();
        }
        // Each split stops after `limit` rows; Trino still applies the limit across splits.
        return Optional.of(new LimitApplicationResult<>(handle.withLimit(limit), false, false));
    }

    /**
     * {@code ORDER BY last_updated [DESC] LIMIT n} straight over a scan: each split asks for {@code _sort} and
     * stops after n rows, which then hold the split's first n (ties aside); Trino still merges the splits. Only
     * Trino decides whether a filter would sit between the two, so this is reached with none left to apply.
     */
    @Override
    public Optional<TopNApplicationResult<ConnectorTableHandle>> applyTopN(ConnectorSession session, ConnectorTableHandle table, long topNCount, List<SortItem> sortItems, Map<String, ColumnHandle> assignments)
    {
        FhirTableHandle handle = (FhirTableHandle) table;
        // A LIMIT already in the handle picked arbitrary rows; sorting those is not a top-N of the table.
        if (!pushdownEnabled(session) || sortItems.size() != 1 || handle.limit().isPresent() || handle.sort().isPresent()) {
            return Optional.empty();
        }
        SortItem item = sortItems.getFirst();
        ColumnHandle column = assignments.get(item.getName());
        if (!(column instanceof FhirColumnHandle fhirColumn)) {
            return Optional.empty();
        }
        return FhirSort.of(catalog.mapping(handle), fhirColumn, item.getSortOrder())
                .map(sort -> new TopNApplicationResult<>(handle.withTopN(sort, topNCount), false, false));
    }

    @Override
    public Optional<ProjectionApplicationResult<ConnectorTableHandle>> applyProjection(ConnectorSession session, ConnectorTableHandle table, List<ConnectorExpression> projections, Map<String, ColumnHandle> assignments)
    {
        FhirTableHandle handle = (FhirTableHandle) table;
        if (!pushdownEnabled(session) || !projections.stream().allMatch(Variable.class::isInstance)) {
            return Optional.empty();
        }
        TableMapping mapping = catalog.mapping(handle);
        Set<String> columns = new LinkedHashSet<>();
        assignments.values().forEach(column -> columns.add(((FhirColumnHandle) column).name()));
        columns.remove(TableMapping.DOMAIN_COLUMN);
        // Columns the pushed search filters on must be fetched too, or Trino could not re-check them.
        handle.constraint().getDomains().ifPresent(domains -> domains.keySet().forEach(column -> columns.add(((FhirColumnHandle) column).name())));
        handle.elementConditions().forEach(condition -> columns.add(condition.column()));
        // Patient keys decide whether a row may leave the connector at all, whether or not the query reads them.
        if (!exclusionRules(session).excludesNobody()) {
            columns.addAll(PatientKeys.columns(mapping.view()));
        }
        columns.remove(TableMapping.DOMAIN_COLUMN);
        // No element at all (count(*) over a plain view) still needs a valid _elements: id is always there.
        Optional<List<String>> elements = mapping.view().topLevelElements(columns)
                .map(set -> set.isEmpty() ? List.of("id") : set.stream().sorted().toList());
        FhirTableHandle projected = elements.map(handle::withElements).orElse(handle)
                .withCountOnly(countOnly(session, mapping, handle, assignments.values()));
        if (projected.equals(handle)) {
            return Optional.empty();
        }
        List<Assignment> resultAssignments = assignments.entrySet().stream()
                .map(entry -> new Assignment(entry.getKey(), entry.getValue(), ((FhirColumnHandle) entry.getValue()).type()))
                .toList();
        return Optional.of(new ProjectionApplicationResult<>(projected, projections, resultAssignments, false));
    }

    /**
     * Whether a scan of these columns only needs each domain's number of rows, which the server's
     * {@code _summary=count} gives exactly: Trino reads no column but {@code domain} (so no predicate is left for it
     * to re-check: the search is exactly the rows wanted), each resource gives one row, no limit cuts the rows and
     * no excluded patient's rows are to be dropped (which only reading them can tell).
     */
    private static boolean countOnly(ConnectorSession session, TableMapping mapping, FhirTableHandle handle, Collection<ColumnHandle> columns)
    {
        return columns.stream().allMatch(FhirMetadata::isDomainColumn)
                && handle.limit().isEmpty() && handle.sort().isEmpty()
                && mapping.view().oneRowPerResource()
                && (exclusionRules(session).excludesNobody() || PatientKeys.slots(mapping.view()).length == 0);
    }

    /**
     * Length of the longest {@code &_elements=...} {@link #applyProjection} may add: a projection's elements are
     * the union of its columns' (and the view's shared ones), so the union over single columns bounds them all.
     */
    private static int widestElements(TableMapping mapping)
    {
        Set<String> elements = new TreeSet<>(Set.of("id"));
        for (ViewColumn column : mapping.view().columns()) {
            mapping.view().topLevelElements(List.of(column.name())).ifPresent(elements::addAll);
        }
        return "&_elements=".length() + String.join(",", elements).length();
    }

    private static List<String> prunedDomains(List<String> domains, TupleDomain<ColumnHandle> constraint)
    {
        Optional<Domain> domainFilter = constraint.getDomains()
                .flatMap(map -> map.entrySet().stream().filter(e -> isDomainColumn(e.getKey())).map(Map.Entry::getValue).findFirst());
        if (constraint.isNone()) {
            return List.of();
        }
        if (domainFilter.isEmpty()) {
            return domains;
        }
        return domains.stream().filter(code -> domainFilter.get().includesNullableValue(io.airlift.slice.Slices.utf8Slice(code))).toList();
    }

    private static boolean isDomainColumn(ColumnHandle column)
    {
        return ((FhirColumnHandle) column).name().equals(TableMapping.DOMAIN_COLUMN);
    }

    private static TupleDomain<String> byName(TupleDomain<ColumnHandle> constraint)
    {
        return constraint.transformKeys(column -> ((FhirColumnHandle) column).name());
    }

    private static Map<String, Type> typesByName(TupleDomain<ColumnHandle> constraint)
    {
        Map<String, Type> types = new LinkedHashMap<>();
        constraint.getDomains().ifPresent(domains -> domains.keySet().forEach(column -> types.put(((FhirColumnHandle) column).name(), ((FhirColumnHandle) column).type())));
        return types;
    }

    static List<FhirColumnHandle> columns(TableMapping mapping)
    {
        List<FhirColumnHandle> columns = new ArrayList<>();
        columns.add(new FhirColumnHandle(TableMapping.DOMAIN_COLUMN, VARCHAR));
        for (ViewColumn column : mapping.view().columns()) {
            columns.add(new FhirColumnHandle(column.name(), FhirTypes.trinoType(column)));
        }
        return columns;
    }

    private static List<ColumnMetadata> columnMetadata(TableMapping mapping)
    {
        return columns(mapping).stream().map(column -> column.toColumnMetadata(null)).toList();
    }

    private static String comment(TableMapping mapping)
    {
        return mapping.description().isEmpty() ? "FHIR " + mapping.view().resource() : mapping.description();
    }
}
