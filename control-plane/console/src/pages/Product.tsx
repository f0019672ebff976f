// One data product: its versions with lifecycle, sources and privacy tags; lifecycle changes and a new version for its owners.
import { useState } from 'react';
import { type ApiError, api, encode } from '../api';
import { ColumnTagsTable } from '../components/ColumnTagsTable';
import { ErrorPanel, Loading } from '../components/Feedback';
import { LifecycleBadge } from '../components/LifecycleBadge';
import { PageHeading } from '../components/PageHeading';
import { TableBox } from '../components/TableBox';
import { Time } from '../components/Time';
import { href } from '../router';
import { hasRole, useSession } from '../session';
import type { Lifecycle, Product, VersionSummary } from '../types';
import { toApiError, useLoad } from '../useLoad';

const LIFECYCLES: Lifecycle[] = ['published', 'deprecated', 'retired'];

export function ProductPage({ name }: { name: string }) {
  const { me } = useSession();
  const [loaded, reload] = useLoad(() => api.get<Product>(`data-products/${encode(name)}`), [name]);
  const [notice, setNotice] = useState<string | undefined>();
  return (
    <>
      <PageHeading>{`Data product ${name}`}</PageHeading>
      <p>
        <a href={href('products')}>Back to all data products</a>
      </p>
      {loaded.state === 'loading' && <Loading what={`data product ${name}`} />}
      {loaded.state === 'error' && <ErrorPanel error={loaded.error} />}
      {loaded.state === 'ok' && (
        <ProductDetail
          product={loaded.data}
          canChange={hasRole(me, 'ops') || (hasRole(me, 'data-product-owner') && me.domain === loaded.data.domain)}
          notice={notice}
          onChanged={(message) => {
            setNotice(message);
            reload();
          }}
        />
      )}
    </>
  );
}

function ProductDetail({ product, canChange, notice, onChanged }: { product: Product; canChange: boolean; notice?: string; onChanged: (m: string) => void }) {
  const newest = product.versions.at(-1);
  return (
    <>
      <p>{product.description || 'No description.'}</p>
      <dl className="facts">
        <dt>Domain</dt>
        <dd>{product.domain}</dd>
        <dt>First published</dt>
        <dd>
          <Time iso={product.createdAt} />
        </dd>
        <dt>Served in Trino as</dt>
        <dd>
          {[
            ...new Set(
              product.versions.filter((v) => v.lifecycle !== 'draft' && v.lifecycle !== 'retired').map((v) => `${product.name}_v${v.version.split('.')[0]}`),
            ),
          ].join(', ') || 'nothing (no served version)'}
        </dd>
      </dl>
      {canChange && newest && (
        <p>
          <a className="button-link" href={href('products', product.name, 'new')}>
            New version
          </a>
        </p>
      )}
      <p aria-live="polite" className="status-line">
        {notice}
      </p>
      <h2>Versions</h2>
      <TableBox label={`Versions of ${product.name}`}>
        <thead>
          <tr>
            <th scope="col">Version</th>
            <th scope="col">Lifecycle</th>
            <th scope="col">Sources</th>
            <th scope="col">Views</th>
            <th scope="col">Published by</th>
            <th scope="col">Published</th>
            {canChange && <th scope="col">Change lifecycle</th>}
          </tr>
        </thead>
        <tbody>
          {product.versions.map((v) => (
            <tr key={v.version} data-version={v.version}>
              <td>{v.version}</td>
              <td>
                <LifecycleBadge lifecycle={v.lifecycle} />
              </td>
              <td>{v.sources.join(', ')}</td>
              <td>{v.views.join(', ')}</td>
              <td>{v.publishedBy ?? '—'}</td>
              <td>
                <Time iso={v.createdAt} />
              </td>
              {canChange && (
                <td>
                  {v.lifecycle === 'retired' ? (
                    'Retired for good: publish a new version instead'
                  ) : (
                    <LifecycleChange product={product.name} version={v} onChanged={onChanged} />
                  )}
                </td>
              )}
            </tr>
          ))}
        </tbody>
      </TableBox>
      <h2>Privacy tags per column</h2>
      {[...product.versions].reverse().map((v, i) => (
        <details key={v.version} open={i === 0}>
          <summary>Version {v.version}</summary>
          <ColumnTagsTable tags={v.columnTags} label={`Privacy tags of ${product.name} ${v.version}`} />
        </details>
      ))}
    </>
  );
}

function LifecycleChange({ product, version, onChanged }: { product: string; version: VersionSummary; onChanged: (m: string) => void }) {
  const choices = LIFECYCLES.filter((l) => l !== version.lifecycle);
  const [target, setTarget] = useState<Lifecycle>(choices[0]!);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | undefined>();
  const id = `lifecycle-${version.version}`;
  async function change(): Promise<void> {
    setBusy(true);
    setError(undefined);
    try {
      await api.patch(`data-products/${encode(product)}/versions/${encode(version.version)}`, { lifecycle: target });
      onChanged(`Version ${version.version} of ${product} is now ${target}.`);
    } catch (e) {
      setError(toApiError(e));
    } finally {
      setBusy(false);
    }
  }
  return (
    <div className="lifecycle-change">
      <label htmlFor={id} className="visually-hidden">
        New lifecycle for version {version.version}
      </label>
      <select id={id} value={target} onChange={(e) => setTarget(e.target.value as Lifecycle)}>
        {choices.map((c) => (
          <option key={c} value={c}>
            {c}
          </option>
        ))}
      </select>
      <button type="button" onClick={change} disabled={busy}>
        Change<span className="visually-hidden"> lifecycle of version {version.version}</span>
      </button>
      {error && <ErrorPanel error={error} title={`Lifecycle change refused: ${error.status} ${error.error}`} />}
    </div>
  );
}
