package uk.nhs.fhirmesh.trino;

import io.trino.spi.TrinoException;
import io.trino.spi.connector.ColumnHandle;
import io.trino.spi.connector.ConnectorRecordSetProvider;
import io.trino.spi.connector.ConnectorSession;
import io.trino.spi.connector.ConnectorSplit;
import io.trino.spi.connector.ConnectorTableHandle;
import io.trino.spi.connector.ConnectorTransactionHandle;
import io.trino.spi.connector.RecordCursor;
import io.trino.spi.connector.RecordSet;
import io.trino.spi.type.Type;
import uk.nhs.fhirmesh.client.FhirRequestException;
import uk.nhs.fhirmesh.client.FhirSearchClient;
import uk.nhs.fhirmesh.client.TraceContext;
import uk.nhs.fhirmesh.exclusion.ExclusionRules;
import uk.nhs.fhirmesh.exclusion.OptOutsUnknownException;
import uk.nhs.fhirmesh.exclusion.PatientExclusionCache;
import uk.nhs.fhirmesh.exclusion.PatientKeys;
import uk.nhs.fhirmesh.exclusion.PatientRowFilter;
import uk.nhs.fhirmesh.mapping.TableMapping;
import uk.nhs.fhirmesh.search.FhirSearch;
import uk.nhs.fhirmesh.view.ViewColumn;

import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;
import java.util.TreeSet;

/**
 * Opens a cursor over one split: a streamed FHIR search flattened by the table's ViewDefinition. Rows of excluded
 * patients ({@link ExclusionRules}, from the session) are dropped here, before Trino sees them, so no predicate
 * Trino evaluates, however it fails, can tell whether such a patient exists.
 */
final class FhirRecordSetProvider
        implements ConnectorRecordSetProvider
{
    private final FhirCatalog catalog;
    private final FhirSearchClient client;
    private final PatientExclusionCache exclusions;

    FhirRecordSetProvider(FhirCatalog catalog, FhirSearchClient client, PatientExclusionCache exclusions)
    {
        this.catalog = catalog;
        this.client = client;
        this.exclusions = exclusions;
    }

    @Override
    public RecordSet getRecordSet(ConnectorTransactionHandle transaction, ConnectorSession session, ConnectorSplit split, ConnectorTableHandle table, List<? extends ColumnHandle> columns)
    {
        FhirSplit fhirSplit = (FhirSplit) split;
        FhirTableHandle handle = (FhirTableHandle) table;
        TraceContext trace = TraceContext.of(session.getTraceToken(), session.getQueryId());
        TableMapping mapping = catalog.mapping(handle);
        List<ViewColumn> viewColumns = mapping.view().columns();
        List<FhirColumnHandle> fhirColumns = columns.stream().map(FhirColumnHandle.class::cast).toList();
        int[] viewIndexes = new int[fhirColumns.size()];
        for (int i = 0; i < fhirColumns.size(); i++) {
            String name = fhirColumns.get(i).name();
            if (name.equals(TableMapping.DOMAIN_COLUMN)) {
                viewIndexes[i] = FhirRecordCursor.DOMAIN_COLUMN;
                continue;
            }
            int index = indexOf(viewColumns, name);
            if (index < 0) {
                throw new TrinoException(FhirErrorCode.FHIR_INVALID_MAPPING, "table %s has no column %s in the mapping version the query resolved (%s)".formatted(handle.tableName(), name, handle.mapping()));
            }
            viewIndexes[i] = index;
        }
        List<String> names = fhirColumns.stream().map(FhirColumnHandle::name).toList();
        List<Type> types = fhirColumns.stream().map(FhirColumnHandle::type).toList();
        OptionalInt limitKey = handle.sort().map(sort -> OptionalInt.of(indexOf(viewColumns, sort.column()))).orElse(OptionalInt.empty());
        int pageSize = (int) Math.min(catalog.config().pageSize(), fhirSplit.rowLimit().orElse(Long.MAX_VALUE));
        Optional<PatientRowFilter> patientFilter = patientFilter(FhirSessionProperties.exclusionRules(session), FhirSessionProperties.skipDomains(session), mapping, handle, fhirSplit.domain(), trace);
        FhirSearch search = patientFilter.isPresent() ? withKeyElements(fhirSplit.search(), mapping) : fhirSplit.search();
        // Checked again here (the planner's view could differ from what Trino asks now): otherwise the split's
        // search, which a count-only split leaves whole, is read as any other.
        if (fhirSplit.countedRows().isPresent() && handle.countOnly() && patientFilter.isEmpty()
                && names.stream().allMatch(TableMapping.DOMAIN_COLUMN::equals)) {
            long rows = fhirSplit.countedRows().getAsLong();
            return new RecordSet()
            {
                @Override
                public List<Type> getColumnTypes()
                {
                    return types;
                }

                @Override
                public RecordCursor cursor()
                {
                    return new CountedRowsCursor(types, fhirSplit.domain(), rows);
                }
            };
        }
        return new RecordSet()
        {
            @Override
            public List<Type> getColumnTypes()
            {
                return types;
            }

            @Override
            public RecordCursor cursor()
            {
                return new FhirRecordCursor(handle.tableName().getTableName(), fhirSplit.domain(), mapping.view(), names, types, viewIndexes,
                        () -> client.search(catalog.endpoint(fhirSplit.domain()), search, Math.max(pageSize, 1), trace), fhirSplit.rowLimit(), limitKey,
                        search.parameters().stream().anyMatch(parameter -> parameter.name().equals("_elements")), patientFilter);
            }
        };
    }

    /** The filter of excluded patients' rows, or empty when the table has no Patient key or the rules exclude nobody. */
    private Optional<PatientRowFilter> patientFilter(ExclusionRules rules, Set<String> skippedDomains, TableMapping mapping, FhirTableHandle handle, String domain, TraceContext trace)
    {
        int[] keySlots = PatientKeys.slots(mapping.view());
        if (keySlots.length == 0 || rules.excludesNobody()) {
            return Optional.empty();
        }
        try {
            // The patient domains as the coordinator saw them: a worker reads no mapping file to work them out. A skipped
            // domain (any the session skips, not only this table's) is not read live if its last records are fresh.
            return Optional.of(new PatientRowFilter(keySlots, exclusions.current(handle.patientDomains(), skippedDomains, trace).excludedIds(domain, rules)));
        }
        catch (OptOutsUnknownException e) {
            throw FhirErrors.optOutsUnknown(e);
        }
        catch (FhirRequestException e) {
            throw FhirErrors.exclusionFailed(e);
        }
    }

    /**
     * The search with the elements the Patient keys are read from added to its {@code _elements} (FhirMetadata's
     * projection adds them already; this makes sure a key is never evaluated over an element that was not fetched).
     */
    private static FhirSearch withKeyElements(FhirSearch search, TableMapping mapping)
    {
        Optional<String> elements = search.parameters().stream().filter(parameter -> parameter.name().equals("_elements")).map(FhirSearch.Parameter::value).findFirst();
        if (elements.isEmpty()) {
            return search;
        }
        Optional<Set<String>> keyElements = mapping.view().topLevelElements(PatientKeys.columns(mapping.view()));
        if (keyElements.isEmpty()) {
            return search.without("_elements");
        }
        Set<String> union = new TreeSet<>(Arrays.asList(elements.get().split(",")));
        if (union.containsAll(keyElements.get())) {
            return search;
        }
        union.addAll(keyElements.get());
        return search.without("_elements").with("_elements", String.join(",", union));
    }

    private static int indexOf(List<ViewColumn> columns, String name)
    {
        for (int i = 0; i < columns.size(); i++) {
            if (columns.get(i).name().equals(name)) {
                return i;
            }
        }
        return -1;
    }
}
