// Shell: navigation, shared metadata and the token field. Routes and metadata live in router.ts and
// meta.ts, so views import those, never this file (no import cycles).
import { useMemo, useState } from 'react';
import { getToken, setToken, useApi, type Meta } from './api.ts';
import { useRoute, type Route } from './router.ts';
import { isViewId, NAV_VIEWS, type ViewId } from './view_list.ts';
import { MetaContext } from './meta.ts';
import { ErrorBox } from './components.tsx';
import { lazy, Suspense, type ReactNode } from 'react';
import { prefetchRunPage } from './run_page.ts';

// One chunk per view, loaded when first shown: the runs list does not download the charts.
const RunsView = lazy(() => import('./views/Runs.tsx').then((m) => ({ default: m.RunsView })));
const RunDetailView = lazy(() => import('./views/RunDetail.tsx').then((m) => ({ default: m.RunDetailView })));
const CompareView = lazy(() => import('./views/Compare.tsx').then((m) => ({ default: m.CompareView })));
const AblationView = lazy(() => import('./views/Ablation.tsx').then((m) => ({ default: m.AblationView })));
const ParallelView = lazy(() => import('./views/Parallel.tsx').then((m) => ({ default: m.ParallelView })));
const TablesView = lazy(() => import('./views/Tables.tsx').then((m) => ({ default: m.TablesView })));
const LaunchView = lazy(() => import('./views/Launch.tsx').then((m) => ({ default: m.LaunchView })));
const RoutingView = lazy(() => import('./views/Routing.tsx').then((m) => ({ default: m.RoutingView })));

const idsOf = (r: Route) => (r.params.get('ids') ?? '').split(',').filter(Boolean).map(Number);

/** Each page of view_list.ts, drawn from its route (an id missing here does not compile). */
const PAGES: Record<ViewId, (r: Route) => ReactNode> = {
  runs: () => <RunsView />,
  run: (r) => (r.id !== undefined ? <RunDetailView id={r.id} /> : null),
  compare: (r) => <CompareView ids={idsOf(r)} by={r.params.get('by') ?? undefined} />,
  ablation: () => <AblationView />,
  parallel: () => <ParallelView />,
  routing: (r) => <RoutingView ids={idsOf(r)} />,
  tables: () => <TablesView />,
  launch: () => <LaunchView />,
};

export function App() {
  const route = useRoute();
  // A run page's data and charts start downloading now (once per visit), beside the page's own code.
  useMemo(() => route.view === 'run' && route.id !== undefined && prefetchRunPage(route.id), [route.view, route.id]);
  const [metaVersion, setMetaVersion] = useState(0);
  const meta = useApi<Meta>('/api/meta', metaVersion);
  const [token, setTok] = useState(getToken());
  const needToken = meta.error?.code === 'TOKEN_REQUIRED' || meta.error?.code === 'TOKEN_INVALID' || (meta.data?.auth.writeTokenRequired && !token);

  return (
    <MetaContext.Provider value={meta.data}>
      <header className="top">
        <span className="brand">SSMB<span className="dim"> · runs</span></span>
        <nav>
          {NAV_VIEWS.map(({ id, label }) => (
            <a key={id} href={`#/${id}`} className={route.view === id || (id === 'runs' && route.view === 'run') ? 'active' : ''}>{label}</a>
          ))}
        </nav>
        <span className="spacer" />
        {meta.data && <span className="dim small store-path" title={`run store ${meta.data.store}`}>store …/{meta.data.store.split('/').slice(-2).join('/')}</span>}
        {(needToken || token) && (
          <input className="token" type="password" placeholder="token (printed at start)" value={token} aria-label="token"
            onChange={(e) => {
              setTok(e.target.value);
              setToken(e.target.value);
            }}
            onBlur={() => setMetaVersion((v) => v + 1)} />
        )}
      </header>
      <main>
        {meta.error && meta.error.code !== 'TOKEN_REQUIRED' && <ErrorBox error={meta.error} />}
        {meta.error?.code === 'TOKEN_REQUIRED' && <div className="warn">This server needs its token for reads from other machines: paste the token printed when <code>ssmb dashboard</code> started into the field above.</div>}
        <Suspense fallback={<div className="dim">loading…</div>}>
        {isViewId(route.view) && PAGES[route.view](route)}
        </Suspense>
        {!isViewId(route.view) && (
          <div className="panel" data-testid="not-found">
            <h1>No page “{route.view}”</h1>
            <p className="dim">The dashboard has these pages: {NAV_VIEWS.map(({ id, label }, i) => <span key={id}>{i ? ', ' : ''}<a href={`#/${id}`}>{label}</a></span>)}; a run is at #/runs/ID.</p>
          </div>
        )}
      </main>
    </MetaContext.Provider>
  );
}
