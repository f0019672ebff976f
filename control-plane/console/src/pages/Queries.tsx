// Recent gateway queries (ops): who asked what for which purpose, how it ended, what it cost, and the SQL Trino ran.
import { type FormEvent, useState } from 'react';
import { api } from '../api';
import { Empty, ErrorPanel, Loading } from '../components/Feedback';
import { PageHeading } from '../components/PageHeading';
import { TableBox } from '../components/TableBox';
import { Time } from '../components/Time';
import { formatBytes, formatDuration, formatNumber } from '../dates';
import type { QueryRecord } from '../types';
import { useLoad } from '../useLoad';

const OUTCOMES = ['finished', 'failed', 'refused', 'cancelled'];

interface Filter {
  user: string;
  outcome: string;
}

export function QueriesPage() {
  const [filter, setFilter] = useState<Filter>({ user: '', outcome: '' });
  const [loaded, reload] = useLoad(() => api.get<QueryRecord[]>(`queries?${query(filter)}`), [filter.user, filter.outcome]);
  return (
    <>
      <PageHeading>Queries</PageHeading>
      <p>The gateway's most recent statements, newest first, from the audit log. Expand a row's SQL to see what the analyst sent and what Trino ran.</p>
      <FilterForm
        onApply={(next) => {
          if (next.user === filter.user && next.outcome === filter.outcome) reload();
          else setFilter(next);
        }}
      />
      <div aria-live="polite">
        {loaded.state === 'loading' && <Loading what="queries" />}
        {loaded.state === 'error' && <ErrorPanel error={loaded.error} />}
        {loaded.state === 'ok' &&
          (loaded.data.length ? (
            <QueryTable queries={loaded.data} />
          ) : (
            <Empty title="No queries yet">
              {filter.user || filter.outcome
                ? 'No query matches this filter: clear it to see every recent query.'
                : 'Nobody has queried through the gateway yet. Analysts connect to the gateway (https://127.0.0.1:8443 on the local mesh) with their API token.'}
            </Empty>
          ))}
      </div>
    </>
  );
}

function query(filter: Filter): string {
  const params = new URLSearchParams({ limit: '50' });
  if (filter.user) params.set('user', filter.user);
  if (filter.outcome) params.set('outcome', filter.outcome);
  return params.toString();
}

function FilterForm({ onApply }: { onApply: (f: Filter) => void }) {
  const [user, setUser] = useState('');
  const [outcome, setOutcome] = useState('');
  function submit(event: FormEvent): void {
    event.preventDefault();
    onApply({ user: user.trim(), outcome });
  }
  return (
    <form className="filters" onSubmit={submit} aria-label="Filter queries">
      <div>
        <label htmlFor="filter-user">Consumer</label>
        <input id="filter-user" value={user} onChange={(e) => setUser(e.target.value)} autoComplete="off" />
      </div>
      <div>
        <label htmlFor="filter-outcome">Outcome</label>
        <select id="filter-outcome" value={outcome} onChange={(e) => setOutcome(e.target.value)}>
          <option value="">any</option>
          {OUTCOMES.map((o) => (
            <option key={o} value={o}>
              {o}
            </option>
          ))}
        </select>
      </div>
      <button type="submit">Show</button>
    </form>
  );
}

function QueryTable({ queries }: { queries: QueryRecord[] }) {
  return (
    <TableBox label="Recent queries">
      <thead>
        <tr>
          <th scope="col">Started</th>
          <th scope="col">Who</th>
          <th scope="col">Purpose</th>
          <th scope="col">Outcome</th>
          <th scope="col">Duration</th>
          <th scope="col">Rows</th>
          <th scope="col">ε</th>
          <th scope="col">Trino cost</th>
          <th scope="col">Trace id</th>
          <th scope="col">SQL</th>
        </tr>
      </thead>
      <tbody>
        {queries.map((q) => (
          <QueryRows key={q.queryId} query={q} />
        ))}
      </tbody>
    </TableBox>
  );
}

const COLUMNS = 10;

/** A query's row, and below it, when expanded, a full-width row with its SQL, error and query id. */
function QueryRows({ query: q }: { query: QueryRecord }) {
  const [open, setOpen] = useState(false);
  const detailsId = `query-${q.queryId}`;
  return (
    <>
      <tr data-query={q.queryId}>
        <td className="nowrap">
          <Time iso={q.startedAt ?? q.endedAt} />
        </td>
        <td>{q.user}</td>
        <td>
          {q.purpose ?? '—'}
          {q.project ? ` (${q.project})` : ''}
        </td>
        <td>
          <span className={`badge outcome-${q.outcome ?? 'running'}`}>{q.outcome ?? 'running'}</span>
          {q.partial && q.partial.missingDomains.length > 0 && <span className="nowrap"> partial</span>}
        </td>
        <td className="nowrap">{formatDuration(q.durationMs)}</td>
        <td>{formatNumber(q.rows)}</td>
        <td>{q.disclosure?.epsilon === undefined ? '—' : formatNumber(q.disclosure.epsilon)}</td>
        <td className="cost">{q.trino ? <TrinoCost trino={q.trino} /> : '—'}</td>
        <td className="trace">{q.traceId ?? '—'}</td>
        <td>
          <button type="button" className="small" aria-expanded={open} aria-controls={detailsId} onClick={() => setOpen(!open)}>
            {open ? 'Hide' : 'Show'}
            <span className="visually-hidden"> SQL of query {q.queryId}</span>
          </button>
        </td>
      </tr>
      {open && (
        <tr id={detailsId} className="query-details">
          <td colSpan={COLUMNS}>
            <Statements query={q} />
          </td>
        </tr>
      )}
    </>
  );
}

function TrinoCost({ trino }: { trino: NonNullable<QueryRecord['trino']> }) {
  return (
    <span>
      CPU {formatDuration(trino.cpuMs)}, {formatNumber(trino.processedRows)} rows, {formatBytes(trino.processedBytes)} read, peak{' '}
      {formatBytes(trino.peakMemoryBytes)}
    </span>
  );
}

function Statements({ query }: { query: QueryRecord }) {
  return (
    <div className="statements">
      {query.error && (
        <p className="query-error">
          <strong>Error:</strong> {query.error}
        </p>
      )}
      {query.partial && query.partial.missingDomains.length > 0 && (
        <p className="query-error">
          <strong>Partial result without:</strong>{' '}
          {query.partial.missingDomains.map((m) => (typeof m === 'string' ? m : `${m.domain}${m.reason ? ` (${m.reason})` : ''}`)).join('; ')}
        </p>
      )}
      <p className="sql-label">Sent by {query.user}</p>
      <pre className="sql">{query.sql ?? '—'}</pre>
      <p className="sql-label">Run by Trino (rewritten by the gateway)</p>
      <pre className="sql">{query.rewrittenSql ?? 'Not rewritten: the gateway refused it before rewriting.'}</pre>
      <p className="sql-label">
        Query id {query.queryId}
        {query.domains.length ? `; domains ${query.domains.join(', ')}` : ''}
        {query.deadlineMs ? `; deadline ${formatDuration(query.deadlineMs)}` : ''}
      </p>
    </div>
  );
}
