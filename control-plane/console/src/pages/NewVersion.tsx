// A new version of a data product: edit the publication, dry-run it (every check publish makes, nothing
// written), read the rows, breaking changes and diff, and only then publish exactly what was dry-run.
import { useState } from 'react';
import { type ApiError, api, encode } from '../api';
import { DiffView } from '../components/DiffView';
import { ErrorPanel, Loading } from '../components/Feedback';
import { PageHeading } from '../components/PageHeading';
import { TableBox } from '../components/TableBox';
import { formatNumber } from '../dates';
import { publicationFrom } from '../publication';
import { href } from '../router';
import type { DryRun, Product, VersionDetail } from '../types';
import { toApiError, useLoad } from '../useLoad';

async function loadStart(name: string): Promise<string> {
  const product = await api.get<Product>(`data-products/${encode(name)}`);
  const newest = product.versions.at(-1);
  if (!newest) throw new Error(`data product ${name} has no version to start from`);
  const latest = await api.get<VersionDetail>(`data-products/${encode(name)}/versions/${encode(newest.version)}`);
  return JSON.stringify(publicationFrom(product, latest), null, 2);
}

export function NewVersionPage({ name }: { name: string }) {
  const [loaded] = useLoad(() => loadStart(name), [name]);
  return (
    <>
      <PageHeading>{`New version of ${name}`}</PageHeading>
      <p>
        <a href={href('products', name)}>Back to {name}</a>
      </p>
      {loaded.state === 'loading' && <Loading what="the newest version" />}
      {loaded.state === 'error' && <ErrorPanel error={loaded.error} />}
      {loaded.state === 'ok' && <PublicationEditor name={name} initial={loaded.data} />}
    </>
  );
}

type Outcome =
  | { kind: 'dry-run'; text: string; result: DryRun }
  | { kind: 'published'; version: string; table: string }
  | { kind: 'error'; error: ApiError; title: string };

function PublicationEditor({ name, initial }: { name: string; initial: string }) {
  const [text, setText] = useState(initial);
  const [busy, setBusy] = useState<'dry-run' | 'publish' | undefined>();
  const [outcome, setOutcome] = useState<Outcome | undefined>();
  // Publishing is only for the text that was dry-run: an edit afterwards needs a new dry run.
  const dryRunOfThisText = outcome?.kind === 'dry-run' && outcome.text === text;

  async function dryRun(): Promise<void> {
    const body = parse(text);
    if ('error' in body) return setOutcome({ kind: 'error', error: body.error, title: 'The publication is not valid JSON' });
    setBusy('dry-run');
    try {
      setOutcome({ kind: 'dry-run', text, result: await api.post<DryRun>('data-products/dry-run', body.value) });
    } catch (e) {
      const error = toApiError(e);
      setOutcome({ kind: 'error', error, title: `Dry run refused: ${error.status} ${error.error}` });
    } finally {
      setBusy(undefined);
    }
  }

  async function publish(): Promise<void> {
    if (outcome?.kind !== 'dry-run') return;
    const body = parse(outcome.text);
    if ('error' in body) return;
    setBusy('publish');
    try {
      await api.post('data-products', body.value);
      setOutcome({ kind: 'published', version: outcome.result.version, table: `${name}_v${outcome.result.version.split('.')[0]}` });
    } catch (e) {
      const error = toApiError(e);
      setOutcome({ kind: 'error', error, title: `Publish refused: ${error.status} ${error.error}` });
    } finally {
      setBusy(undefined);
    }
  }

  return (
    <>
      <form className="publication" onSubmit={(e) => e.preventDefault()}>
        <label htmlFor="publication">Publication (JSON)</label>
        <p id="publication-hint" className="hint">
          Prefilled with the newest version, its version number bumped. Removing or retyping a column needs a new major version. Run the dry run, read its
          result, then publish.
        </p>
        <textarea id="publication" aria-describedby="publication-hint" spellCheck={false} rows={22} value={text} onChange={(e) => setText(e.target.value)} />
        <div className="actions">
          <button type="button" onClick={dryRun} disabled={busy !== undefined}>
            {busy === 'dry-run' ? 'Running the dry run…' : 'Dry run'}
          </button>
          <button type="button" onClick={publish} disabled={!dryRunOfThisText || busy !== undefined} aria-describedby="publish-hint">
            {busy === 'publish' ? 'Publishing…' : 'Publish'}
          </button>
        </div>
        <p id="publish-hint" className="hint">
          {dryRunOfThisText
            ? 'The dry run passed for exactly this text: Publish makes it live.'
            : outcome?.kind === 'dry-run'
              ? 'The text changed since the dry run: run the dry run again before publishing.'
              : 'Publish is enabled once a dry run of this text has passed.'}
        </p>
      </form>
      <div aria-live="polite">
        {outcome?.kind === 'error' && <ErrorPanel error={outcome.error} title={outcome.title} />}
        {outcome?.kind === 'dry-run' && <DryRunResult result={outcome.result} />}
        {outcome?.kind === 'published' && (
          <div className="panel panel-ok" role="status">
            <h2>Published {outcome.version}</h2>
            <p>
              {name} {outcome.version} is live: query it in Trino as <code>fhir.default.{outcome.table}</code>. <a href={href('products', name)}>See {name}</a>.
            </p>
          </div>
        )}
      </div>
    </>
  );
}

function parse(text: string): { value: unknown } | { error: ApiError } {
  try {
    return { value: JSON.parse(text) };
  } catch (e) {
    return { error: toApiError(new Error(`${(e as Error).message}. Fix the JSON and run the dry run again.`)) };
  }
}

function dryRunSummary(result: DryRun): string {
  if (!result.wouldCreate) return `This exact content is already published as ${result.version}: publishing would change nothing.`;
  return result.previousVersion ? `This would follow version ${result.previousVersion}.` : "This would be the product's first version.";
}

function DryRunResult({ result }: { result: DryRun }) {
  return (
    <section className="panel panel-ok dry-run" aria-labelledby="dry-run-heading">
      <h2 id="dry-run-heading">
        Dry run passed: {result.product} {result.version}
      </h2>
      <p>{dryRunSummary(result)} Nothing was written.</p>
      <h3>Tables it would serve</h3>
      <ul>
        {result.tables.map((t) => (
          <li key={t}>
            <code>{t}</code>
          </li>
        ))}
      </ul>
      <h3>Rows per view (a sample read from the endpoints now, not a full count)</h3>
      <TableBox label="Rows per view">
        <thead>
          <tr>
            <th scope="col">View</th>
            <th scope="col">Rows</th>
          </tr>
        </thead>
        <tbody>
          {result.dryRun.map((r) => (
            <tr key={r.view}>
              <td>{r.view}</td>
              <td>{formatNumber(r.rows)}</td>
            </tr>
          ))}
        </tbody>
      </TableBox>
      <h3>Breaking changes</h3>
      {result.breakingChanges.length ? (
        <ul className="breaking">
          {result.breakingChanges.map((b) => (
            <li key={b}>{b}</li>
          ))}
        </ul>
      ) : (
        <p>None.</p>
      )}
      {result.bindingNotes.length > 0 && (
        <>
          <h3>Search bindings</h3>
          <ul>
            {result.bindingNotes.map((n) => (
              <li key={n}>{n}</li>
            ))}
          </ul>
        </>
      )}
      <h3>Changes from {result.previousVersion ?? 'nothing (first version)'}</h3>
      {result.diff ? <DiffView diff={result.diff} label={`Diff from ${result.previousVersion}`} /> : <p>No previous version to compare with.</p>}
    </section>
  );
}
