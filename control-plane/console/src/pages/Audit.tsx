// The audit log's hash chain verified end to end (ops), and its newest entries.
import { api } from '../api';
import { ErrorPanel, Loading } from '../components/Feedback';
import { PageHeading } from '../components/PageHeading';
import { TableBox } from '../components/TableBox';
import { Time } from '../components/Time';
import { formatNumber } from '../dates';
import type { AuditEntry, AuditVerification } from '../types';
import { useLoad } from '../useLoad';

export function AuditPage() {
  const [verification, verifyAgain] = useLoad(() => api.get<AuditVerification>('audit/verify'), []);
  const [entries] = useLoad(() => api.get<AuditEntry[]>('audit?limit=20'), []);
  return (
    <>
      <PageHeading>Audit</PageHeading>
      <p>Every change and every gateway query is an entry in a hash-chained log; verifying recomputes each hash and checks the external anchors.</p>
      <div className="actions">
        <button type="button" onClick={verifyAgain}>
          Verify again
        </button>
      </div>
      <div aria-live="polite">
        {verification.state === 'loading' && <Loading what="the audit chain's verification" />}
        {verification.state === 'error' && <ErrorPanel error={verification.error} />}
        {verification.state === 'ok' && <VerificationResult result={verification.data} />}
      </div>
      <h2>Newest entries</h2>
      {entries.state === 'loading' && <Loading what="audit entries" />}
      {entries.state === 'error' && <ErrorPanel error={entries.error} />}
      {entries.state === 'ok' && <EntryTable entries={entries.data} />}
    </>
  );
}

function VerificationResult({ result }: { result: AuditVerification }) {
  const anchors = result.anchors;
  return (
    <div className={`panel ${result.ok ? 'panel-ok' : 'panel-error'}`} data-audit-ok={String(result.ok)}>
      <h2>{result.ok ? 'The audit chain is intact' : 'The audit chain is broken'}</h2>
      <p>
        {formatNumber(result.entries)} entries checked
        {anchors ? `; ${formatNumber(anchors.count)} anchors` : ''}
        {anchors?.newest ? (
          <>
            , the newest for entry {anchors.newest.seq} at <Time iso={anchors.newest.at} />
          </>
        ) : null}
        .
      </p>
      {!result.ok && (
        <>
          <ul>
            {result.problems.map((p) => (
              <li key={p}>{p}</li>
            ))}
          </ul>
          <p>
            <strong>What to do:</strong> treat this as a security incident: keep the database and the anchor file as they are, and compare the entries named
            above with the anchor file and database backups.
          </p>
        </>
      )}
    </div>
  );
}

function EntryTable({ entries }: { entries: AuditEntry[] }) {
  if (!entries.length) return <p>No entries yet.</p>;
  return (
    <TableBox label="Newest audit entries">
      <thead>
        <tr>
          <th scope="col">Entry</th>
          <th scope="col">When</th>
          <th scope="col">Actor</th>
          <th scope="col">Action</th>
          <th scope="col">Entity</th>
        </tr>
      </thead>
      <tbody>
        {entries.map((e) => (
          <tr key={e.id}>
            <td>{e.id}</td>
            <td>
              <Time iso={e.at} />
            </td>
            <td>{e.actor}</td>
            <td>{e.action}</td>
            <td className="url">
              {e.entity}
              {e.entityId ? ` ${e.entityId}` : ''}
            </td>
          </tr>
        ))}
      </tbody>
    </TableBox>
  );
}
