// The data product catalogue: what each domain publishes, in which versions and lifecycle states.
import { api } from '../api';
import { Empty, ErrorPanel, Loading } from '../components/Feedback';
import { LifecycleBadge } from '../components/LifecycleBadge';
import { PageHeading } from '../components/PageHeading';
import { TableBox } from '../components/TableBox';
import { href } from '../router';
import { hasRole, useSession } from '../session';
import type { ProductSummary } from '../types';
import { useLoad } from '../useLoad';

export function ProductsPage() {
  const { me } = useSession();
  const [loaded] = useLoad(() => api.get<ProductSummary[]>('data-products'), []);
  const ownerOnly = hasRole(me, 'data-product-owner') && !hasRole(me, 'ops');
  return (
    <>
      <PageHeading>Data products</PageHeading>
      <p>
        {ownerOnly
          ? `The data products of your domain (${me.domain ?? 'none'}). Open one to see its versions and privacy tags or to publish a new version.`
          : 'Every data product in the mesh. Each published version is served in Trino as <name>_v<major>; open one for its columns and privacy tags.'}
      </p>
      {loaded.state === 'loading' && <Loading what="data products" />}
      {loaded.state === 'error' && <ErrorPanel error={loaded.error} />}
      {loaded.state === 'ok' && <ProductTable products={loaded.data} />}
    </>
  );
}

function ProductTable({ products }: { products: ProductSummary[] }) {
  if (!products.length)
    return (
      <Empty title="No data products yet">
        A data product owner publishes one with POST /api/v1/data-products (or mesh publish product.json); the demo mesh publishes the UK Core products at npm
        run mesh.
      </Empty>
    );
  return (
    <TableBox label="Data products">
      <thead>
        <tr>
          <th scope="col">Product</th>
          <th scope="col">Domain</th>
          <th scope="col">Versions</th>
          <th scope="col">Description</th>
        </tr>
      </thead>
      <tbody>
        {products.map((p) => (
          <tr key={p.name} data-product={p.name}>
            <td>
              <a href={href('products', p.name)}>{p.name}</a>
            </td>
            <td>{p.domain}</td>
            <td>
              <ul className="inline-list">
                {p.versions.map((v) => (
                  <li key={v.version}>
                    {v.version} <LifecycleBadge lifecycle={v.lifecycle} />
                  </li>
                ))}
              </ul>
            </td>
            <td>{p.description || '—'}</td>
          </tr>
        ))}
      </tbody>
    </TableBox>
  );
}
