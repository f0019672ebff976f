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
import uk.nhs.fhirmesh.client.FhirSearchClient;
import uk.nhs.fhirmesh.mapping.TableMapping;
import uk.nhs.fhirmesh.view.ViewColumn;

import java.util.List;
import java.util.OptionalInt;

/** Opens a cursor over one split: a streamed FHIR search flattened by the table's ViewDefinition. */
final class FhirRecordSetProvider
        implements ConnectorRecordSetProvider
{
    private final FhirCatalog catalog;
    private final FhirSearchClient client;

    FhirRecordSetProvider(FhirCatalog catalog, FhirSearchClient client)
    {
        this.catalog = catalog;
        this.client = client;
    }

    @Override
    public RecordSet getRecordSet(ConnectorTransactionHandle transaction, ConnectorSession session, ConnectorSplit split, ConnectorTableHandle table, List<? extends ColumnHandle> columns)
    {
        FhirSplit fhirSplit = (FhirSplit) split;
        FhirTableHandle handle = (FhirTableHandle) table;
        TableMapping mapping = catalog.mapping(handle.tableName());
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
                throw new TrinoException(FhirErrorCode.FHIR_INVALID_MAPPING, "table %s no longer has column %s: its mapping changed while the query ran".formatted(handle.tableName(), name));
            }
            viewIndexes[i] = index;
        }
        List<String> names = fhirColumns.stream().map(FhirColumnHandle::name).toList();
        List<Type> types = fhirColumns.stream().map(FhirColumnHandle::type).toList();
        OptionalInt limitKey = handle.sort().map(sort -> OptionalInt.of(indexOf(viewColumns, sort.column()))).orElse(OptionalInt.empty());
        int pageSize = (int) Math.min(catalog.config().pageSize(), fhirSplit.rowLimit().orElse(Long.MAX_VALUE));
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
                        () -> client.search(catalog.endpoint(fhirSplit.domain()), fhirSplit.search(), Math.max(pageSize, 1)), fhirSplit.rowLimit(), limitKey,
                        fhirSplit.search().parameters().stream().anyMatch(parameter -> parameter.name().equals("_elements")));
            }
        };
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
