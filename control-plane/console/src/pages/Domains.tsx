// Domains and their endpoints: health now (from the last check) and the recent history, and a check on demand (ops).
import { useState } from 'react';
import { type ApiError, api, encode } from '../api';
import { Empty, ErrorPanel, Loading } from '../components/Feedback';
import { HealthBadge } from '../components/HealthBadge';
import { PageHeading } from '../components/PageHeading';
import { TableBox } from '../components/TableBox';
import { Time } from '../components/Time';
import { formatDateTime, formatNumber } from '../dates';
import { hasRole, useSession } from '../session';
import type { Domain, Endpoint, HealthCheck } from '../types';
import { toApiError, useLoad } from '../useLoad';

interface DomainsAndEndpoints {
  domains: Domain[];
  endpoints: Endpoint[];
}

export function DomainsPage() {
  const { me } = useSession();
  const [loaded, reload] = useLoad<DomainsAndEndpoints>(
    async () => ({ domains: await api.get<Domain[]>('domains'), endpoints: await api.get<Endpoint[]>('endpoints') }),
    [],
  );
  return (
    <>
      <PageHeading>Domains</PageHeading>
      <p>Each domain (a trust, GP federation, ICS or NHS England) and the FHIR endpoints the mesh reads from it. Health is the last scheduled check.</p>
      {hasRole(me, 'ops') && <CheckNow onChecked={reload} />}
      {loaded.state === 'loading' && <Loading what="domains" />}
      {loaded.state === 'error' && <ErrorPanel error={loaded.error} />}
      {loaded.state === 'ok' && <DomainList {...loaded.data} />}
    </>
  );
}

function CheckNow({ onChecked }: { onChecked: () => void }) {
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState<string | undefined>();
  const [error, setError] = useState<ApiError | undefined>();
  async function check(): Promise<void> {
    setBusy(true);
    setError(undefined);
    setResult(undefined);
    try {
      const checks = await api.post<unknown[]>('endpoints/health-check');
      setResult(`Checked ${Array.isArray(checks) ? checks.length : 'all'} endpoint(s) at ${formatDateTime(new Date().toISOString())}.`);
      onChecked();
    } catch (e) {
      setError(toApiError(e));
    } finally {
      setBusy(false);
    }
  }
  return (
    <div className="actions">
      <button type="button" onClick={check} disabled={busy}>
        {busy ? 'Checking endpoints…' : 'Check now'}
      </button>
      <p aria-live="polite" className="status-line">
        {result}
      </p>
      {error && <ErrorPanel error={error} title="The health check failed" />}
    </div>
  );
}

function DomainList({ domains, endpoints }: DomainsAndEndpoints) {
  if (!domains.length)
    return (
      <Empty title="No domains yet">
        Register a domain and its endpoint through the admin API (POST /api/v1/domains, then POST /api/v1/endpoints), or start the demo mesh with npm run mesh.
      </Empty>
    );
  const down = endpoints.filter((e) => e.health === 'down');
  return (
    <>
      <p className="summary">
        {domains.length} domain(s), {endpoints.length} endpoint(s), {down.length} down
        {down.length ? `: ${[...new Set(down.map((e) => e.domain))].join(', ')}` : ''}.
      </p>
      {domains.map((d) => (
        <DomainSection key={d.odsCode} domain={d} endpoints={endpoints.filter((e) => e.domain === d.odsCode)} />
      ))}
    </>
  );
}

function DomainSection({ domain, endpoints }: { domain: Domain; endpoints: Endpoint[] }) {
  const headingId = `domain-${domain.odsCode}`;
  return (
    <section className="domain" aria-labelledby={headingId} data-domain={domain.odsCode}>
      <h2 id={headingId}>
        {domain.name} <span className="code">({domain.odsCode})</span>
      </h2>
      <p className="meta">
        {domain.kind}
        {domain.region ? `, ${domain.region}` : ''}
        {domain.ownerContact ? `; contact ${domain.ownerContact}` : ''}
      </p>
      {endpoints.length === 0 ? (
        <p>
          {domain.kind === 'national' || domain.kind === 'ics'
            ? 'No endpoint of its own: its data products read the endpoints of their source domains.'
            : 'No endpoint registered: the mesh reads nothing from this domain. Ops add one with POST /api/v1/endpoints.'}
        </p>
      ) : (
        <TableBox label={`Endpoints of ${domain.odsCode}`}>
          <thead>
            <tr>
              <th scope="col">Health</th>
              <th scope="col">Endpoint</th>
              <th scope="col">Last check</th>
              <th scope="col">Latency</th>
              <th scope="col">Error</th>
            </tr>
          </thead>
          <tbody>
            {endpoints.map((e) => (
              <tr key={e.id} data-endpoint={e.id}>
                <td>
                  <HealthBadge health={e.health} />
                </td>
                <td className="url">{e.baseUrl}</td>
                <td>
                  <Time iso={e.lastCheckedAt} />
                </td>
                <td>{e.lastLatencyMs === null ? '—' : `${formatNumber(e.lastLatencyMs)} ms`}</td>
                <td>{e.lastError ?? '—'}</td>
              </tr>
            ))}
          </tbody>
        </TableBox>
      )}
      {endpoints.map((e) => (
        <HealthHistory key={e.id} endpoint={e} />
      ))}
    </section>
  );
}

function HealthHistory({ endpoint }: { endpoint: Endpoint }) {
  const [open, setOpen] = useState(false);
  return (
    <details onToggle={(event) => setOpen(event.currentTarget.open)}>
      <summary>Recent health checks of {endpoint.baseUrl}</summary>
      {open && <HistoryTable endpointId={endpoint.id} />}
    </details>
  );
}

function HistoryTable({ endpointId }: { endpointId: string }) {
  const [loaded] = useLoad(() => api.get<HealthCheck[]>(`endpoints/${encode(endpointId)}/health?limit=20`), [endpointId]);
  if (loaded.state === 'loading') return <Loading what="health history" />;
  if (loaded.state === 'error') return <ErrorPanel error={loaded.error} />;
  if (!loaded.data.length) return <p>No checks yet: the scheduler checks every endpoint on its schedule; ops can press Check now.</p>;
  return (
    <TableBox label="Recent health checks">
      <thead>
        <tr>
          <th scope="col">Checked</th>
          <th scope="col">Result</th>
          <th scope="col">HTTP</th>
          <th scope="col">Latency</th>
          <th scope="col">Error</th>
        </tr>
      </thead>
      <tbody>
        {loaded.data.map((c) => (
          <tr key={c.id}>
            <td>
              <Time iso={c.checkedAt} />
            </td>
            <td>
              <HealthBadge health={c.ok ? 'up' : 'down'} />
            </td>
            <td>{c.httpStatus ?? '—'}</td>
            <td>{c.latencyMs === null ? '—' : `${formatNumber(c.latencyMs)} ms`}</td>
            <td>{c.error ?? '—'}</td>
          </tr>
        ))}
      </tbody>
    </TableBox>
  );
}
