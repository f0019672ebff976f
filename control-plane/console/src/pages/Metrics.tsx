// Where Prometheus finds the mesh's metrics, and a look at them with the signed-in token.
import { useState } from 'react';
import { type ApiError, api } from '../api';
import { ErrorPanel } from '../components/Feedback';
import { PageHeading } from '../components/PageHeading';
import { ScrollBox } from '../components/ScrollBox';
import { toApiError } from '../useLoad';

export function MetricsPage() {
  const origin = window.location.origin;
  const [sample, setSample] = useState<string | undefined>();
  const [error, setError] = useState<ApiError | undefined>();
  async function load(): Promise<void> {
    setError(undefined);
    try {
      setSample(await api.metrics());
    } catch (e) {
      setError(toApiError(e));
    }
  }
  const [meshOnly, setMeshOnly] = useState(true);
  const families = sample?.split('\n').filter((l) => l.startsWith('# TYPE ')).length;
  // The exposition in blocks of one family each (# HELP, # TYPE, samples), so a filter keeps them whole.
  const meshFamilies = sample?.split(/\n(?=# HELP )/).filter((block) => block.startsWith('# HELP fhirmesh_'));
  return (
    <>
      <PageHeading>Metrics</PageHeading>
      <p>
        The control plane serves Prometheus metrics at <a href="/metrics">{`${origin}/metrics`}</a>: per-domain FHIR requests, latencies, errors and circuit
        state from the connector, gateway queries by outcome and purpose, ε spent per consumer, publish and reconcile runs, endpoint health.
      </p>
      <h2>How to scrape</h2>
      <p>
        /metrics needs an ops token as a bearer token (a browser link alone is refused with 401). On the local mesh the ops token is in .mesh/run/ops-token:
      </p>
      <pre className="sql">{`curl -H "Authorization: Bearer $(cat .mesh/run/ops-token)" ${origin}/metrics`}</pre>
      <p>In Prometheus:</p>
      <pre className="sql">{`scrape_configs:
  - job_name: fhir-mesh
    metrics_path: /metrics
    authorization:
      credentials_file: /path/to/.mesh/run/ops-token
    static_configs:
      - targets: ['${window.location.host}']`}</pre>
      <div className="actions">
        <button type="button" onClick={load}>
          Read /metrics now
        </button>
      </div>
      <div aria-live="polite">
        {error && <ErrorPanel error={error} title={`/metrics refused: ${error.status} ${error.error}`} />}
        {sample !== undefined && (
          <>
            <p role="status">{families} metric families.</p>
            <div className="checkbox">
              <input id="mesh-only" type="checkbox" checked={meshOnly} onChange={(e) => setMeshOnly(e.target.checked)} />
              <label htmlFor="mesh-only">Only the mesh's own metrics (fhirmesh_*, {meshFamilies?.length ?? 0} families)</label>
            </div>
            <ScrollBox label="The metrics as Prometheus reads them" className="metrics">
              <pre>{meshOnly ? meshFamilies?.join('\n') : sample}</pre>
            </ScrollBox>
          </>
        )}
      </div>
    </>
  );
}
