// Consumers (ops): who may use the mesh, in which roles, for which purposes and projects.
import { api } from '../api';
import { Empty, ErrorPanel, Loading } from '../components/Feedback';
import { PageHeading } from '../components/PageHeading';
import { TableBox } from '../components/TableBox';
import { Time } from '../components/Time';
import { formatNumber } from '../dates';
import { href } from '../router';
import type { Consumer } from '../types';
import { useLoad } from '../useLoad';

export function ConsumersPage() {
  const [loaded] = useLoad(() => api.get<Consumer[]>('consumers'), []);
  return (
    <>
      <PageHeading>Consumers</PageHeading>
      <p>
        People and services with an API token. Their privacy-budget spending is on the <a href={href('budgets')}>Budgets</a> page.
      </p>
      {loaded.state === 'loading' && <Loading what="consumers" />}
      {loaded.state === 'error' && <ErrorPanel error={loaded.error} />}
      {loaded.state === 'ok' &&
        (loaded.data.length ? (
          <ConsumerTable consumers={loaded.data} />
        ) : (
          <Empty title="No consumers yet">Register one with POST /api/v1/consumers, then issue its token with POST /api/v1/consumers/&lt;name&gt;/token.</Empty>
        ))}
    </>
  );
}

function ConsumerTable({ consumers }: { consumers: Consumer[] }) {
  return (
    <TableBox label="Consumers">
      <thead>
        <tr>
          <th scope="col">Name</th>
          <th scope="col">Kind</th>
          <th scope="col">Roles</th>
          <th scope="col">Domain</th>
          <th scope="col">Purposes</th>
          <th scope="col">Projects</th>
          <th scope="col">Disclosure</th>
          <th scope="col">ε budget</th>
          <th scope="col">Registered</th>
        </tr>
      </thead>
      <tbody>
        {consumers.map((c) => (
          <tr key={c.name} data-consumer={c.name}>
            <td>{c.name}</td>
            <td>{c.kind}</td>
            <td>{c.roles.join(', ')}</td>
            <td>{c.domain ?? '—'}</td>
            <td>{c.allowedPurposes.join(', ') || '—'}</td>
            <td>{c.policies.projects?.join(', ') || '—'}</td>
            <td>{c.policies.disclosure?.mode ?? 'default'}</td>
            <td>{c.budget ? `${formatNumber(c.budget.epsilon)} per ${c.budget.period}` : '—'}</td>
            <td>
              <Time iso={c.createdAt} />
            </td>
          </tr>
        ))}
      </tbody>
    </TableBox>
  );
}
