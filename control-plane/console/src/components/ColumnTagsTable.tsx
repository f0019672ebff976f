// Privacy tags per column of each view: what the gateway's policy does with each column.
import type { ColumnTags } from '../types';
import { TableBox } from './TableBox';

export function ColumnTagsTable({ tags, label }: { tags: ColumnTags; label: string }) {
  const rows = Object.entries(tags).flatMap(([view, columns]) => Object.entries(columns).map(([column, tag]) => ({ view, column, tag })));
  if (!rows.length) return <p>No columns tagged.</p>;
  return (
    <TableBox label={label}>
      <thead>
        <tr>
          <th scope="col">View</th>
          <th scope="col">Column</th>
          <th scope="col">Privacy tag</th>
        </tr>
      </thead>
      <tbody>
        {rows.map((r) => (
          <tr key={`${r.view}.${r.column}`}>
            <td>{r.view}</td>
            <td>{r.column}</td>
            <td>
              <span className={`tag tag-${r.tag}`}>{r.tag}</span>
            </td>
          </tr>
        ))}
      </tbody>
    </TableBox>
  );
}
