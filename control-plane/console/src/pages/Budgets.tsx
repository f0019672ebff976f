// Privacy budgets (ops): ε spent, reserved by running queries, and remaining, per consumer, project and period.
import { api } from '../api';
import { Empty, ErrorPanel, Loading } from '../components/Feedback';
import { PageHeading } from '../components/PageHeading';
import { TableBox } from '../components/TableBox';
import { Time } from '../components/Time';
import { formatNumber } from '../dates';
import type { ConsumerBudget } from '../types';
import { useLoad } from '../useLoad';

export function BudgetsPage() {
  const [loaded] = useLoad(() => api.get<ConsumerBudget[]>('budgets'), []);
  return (
    <>
      <PageHeading>Privacy budgets</PageHeading>
      <p>
        Consumers with a differential-privacy budget: what each project has spent in the current and earlier periods. Reserved ε belongs to queries still
        running.
      </p>
      {loaded.state === 'loading' && <Loading what="budgets" />}
      {loaded.state === 'error' && <ErrorPanel error={loaded.error} />}
      {loaded.state === 'ok' &&
        (loaded.data.length ? (
          <BudgetTable budgets={loaded.data} />
        ) : (
          <Empty title="No privacy budgets yet">
            No consumer has a budget. Give one with PATCH /api/v1/consumers/&lt;name&gt; and a body like {'{"budget": {"epsilon": 10, "period": "month"}}'}.
          </Empty>
        ))}
    </>
  );
}

function BudgetTable({ budgets }: { budgets: ConsumerBudget[] }) {
  return (
    <TableBox label="Privacy budgets">
      <thead>
        <tr>
          <th scope="col">Consumer</th>
          <th scope="col">Budget</th>
          <th scope="col">Project</th>
          <th scope="col">Period from</th>
          <th scope="col">ε spent</th>
          <th scope="col">ε reserved</th>
          <th scope="col">ε remaining</th>
        </tr>
      </thead>
      <tbody>
        {budgets.flatMap((b) =>
          b.accounts.length === 0
            ? [
                <tr key={b.consumer} data-consumer={b.consumer}>
                  <td>{b.consumer}</td>
                  <td>{`${formatNumber(b.budgetEpsilon)} per ${b.period}`}</td>
                  <td colSpan={5}>Nothing spent yet.</td>
                </tr>,
              ]
            : b.accounts.map((a) => (
                <tr key={`${b.consumer}/${a.project}/${a.periodStart}`} data-consumer={b.consumer}>
                  <td>{b.consumer}</td>
                  <td>{`${formatNumber(b.budgetEpsilon)} per ${b.period}`}</td>
                  <td>{a.project}</td>
                  <td>
                    <Time iso={a.periodStart} dateOnly />
                  </td>
                  <td>{formatNumber(a.spent)}</td>
                  <td>{formatNumber(a.reserved)}</td>
                  <td>{formatNumber(a.remaining)}</td>
                </tr>
              )),
        )}
      </tbody>
    </TableBox>
  );
}
