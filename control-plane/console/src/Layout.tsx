// The signed-in frame: skip link, banner with who is signed in, role-aware navigation, the page.
import { PageHeading } from './components/PageHeading';
import { AuditPage } from './pages/Audit';
import { BudgetsPage } from './pages/Budgets';
import { ConsumersPage } from './pages/Consumers';
import { DomainsPage } from './pages/Domains';
import { MetricsPage } from './pages/Metrics';
import { NewVersionPage } from './pages/NewVersion';
import { ProductPage } from './pages/Product';
import { ProductsPage } from './pages/Products';
import { QueriesPage } from './pages/Queries';
import { href, useRoute } from './router';
import { type PageId, pagesFor, useSession } from './session';

export function Layout() {
  const { me, signOut } = useSession();
  const route = useRoute();
  const pages = pagesFor(me);
  const pageId = (route[0] ?? pages[0]?.id) as PageId | undefined;
  return (
    <>
      <button type="button" className="skip-link" onClick={skipToMain}>
        Skip to main content
      </button>
      <header className="banner">
        <p className="brand">FHIR mesh console</p>
        <p className="who">
          Signed in as <strong>{me.name}</strong> ({me.roles.join(', ')}
          {me.domain ? `; domain ${me.domain}` : ''})
        </p>
        <button type="button" onClick={() => signOut()}>
          Sign out
        </button>
      </header>
      <nav aria-label="Main">
        <ul>
          {pages.map((p) => (
            <li key={p.id}>
              <a href={href(p.id)} aria-current={p.id === pageId ? 'page' : undefined}>
                {p.label}
              </a>
            </li>
          ))}
        </ul>
      </nav>
      <main id="main" tabIndex={-1}>
        {pages.some((p) => p.id === pageId) ? <Page id={pageId!} rest={route.slice(1)} /> : <NotAvailable pageId={pageId} roles={me.roles} />}
      </main>
      <footer className="footer">
        <p>
          Admin API: <a href="/api/openapi.json">OpenAPI description</a>. Dates are UK time (Europe/London).
        </p>
      </footer>
    </>
  );
}

/** A button, not a #main link: the hash is the router's. */
function skipToMain(): void {
  document.getElementById('main')?.focus();
}

function NotAvailable({ pageId, roles }: { pageId?: string; roles: string[] }) {
  return (
    <>
      <PageHeading>This page is not available to you</PageHeading>
      <p>
        {pageId ? `There is no page "${pageId}" for your roles (${roles.join(', ')}).` : 'Your roles give you no pages.'} Use the navigation above, or sign in
        with another token.
      </p>
    </>
  );
}

function Page({ id, rest }: { id: PageId; rest: string[] }) {
  switch (id) {
    case 'domains':
      return <DomainsPage />;
    case 'products':
      if (rest[0] && rest[1] === 'new') return <NewVersionPage name={rest[0]} />;
      if (rest[0]) return <ProductPage name={rest[0]} />;
      return <ProductsPage />;
    case 'consumers':
      return <ConsumersPage />;
    case 'budgets':
      return <BudgetsPage />;
    case 'queries':
      return <QueriesPage />;
    case 'audit':
      return <AuditPage />;
    case 'metrics':
      return <MetricsPage />;
  }
}
