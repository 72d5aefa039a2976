// Shell: hash router, navigation, shared metadata and the write token.
import { createContext, useContext, useEffect, useState } from 'react';
import { getToken, setToken, useApi, type Meta } from './api.ts';
import { RunsView } from './views/Runs.tsx';
import { RunDetailView } from './views/RunDetail.tsx';
import { CompareView } from './views/Compare.tsx';
import { AblationView } from './views/Ablation.tsx';
import { TablesView } from './views/Tables.tsx';
import { LaunchView } from './views/Launch.tsx';

export interface Route {
  view: string;
  id?: number;
  params: URLSearchParams;
}

export function parseHash(hash: string): Route {
  const [p, q = ''] = hash.replace(/^#\/?/, '').split('?');
  const parts = p.split('/').filter(Boolean);
  const params = new URLSearchParams(q);
  if (parts[0] === 'runs' && parts[1]) return { view: 'run', id: Number(parts[1]), params };
  return { view: parts[0] || 'runs', params };
}

export function navigate(path: string): void {
  window.location.hash = path.startsWith('#') ? path : `#/${path.replace(/^\//, '')}`;
}

export const MetaContext = createContext<Meta | undefined>(undefined);
export const useMeta = () => useContext(MetaContext);

const NAV = [
  ['runs', 'Runs'],
  ['compare', 'Compare'],
  ['ablation', 'Ablation'],
  ['tables', 'Paper tables'],
  ['launch', 'Launch'],
] as const;

export function App() {
  const [route, setRoute] = useState(() => parseHash(window.location.hash));
  const [metaVersion, setMetaVersion] = useState(0);
  const meta = useApi<Meta>('/api/meta', metaVersion);
  useEffect(() => {
    const on = () => setRoute(parseHash(window.location.hash));
    window.addEventListener('hashchange', on);
    return () => window.removeEventListener('hashchange', on);
  }, []);
  const [token, setTok] = useState(getToken());
  const needToken = meta.error?.code === 'READ_AUTH' || (meta.data?.auth.writeTokenRequired && !token);

  return (
    <MetaContext.Provider value={meta.data}>
      <header className="top">
        <span className="brand">SSMB<span className="dim"> · runs</span></span>
        <nav>
          {NAV.map(([v, label]) => (
            <a key={v} href={`#/${v}`} className={route.view === v || (v === 'runs' && route.view === 'run') ? 'active' : ''}>
              {label}
            </a>
          ))}
        </nav>
        <span className="spacer" />
        {meta.data && <span className="dim small" title="run store">{meta.data.store}</span>}
        {(needToken || token) && (
          <input
            className="token"
            type="password"
            placeholder="token (printed at start)"
            value={token}
            onChange={(e) => {
              setTok(e.target.value);
              setToken(e.target.value);
            }}
            onBlur={() => setMetaVersion((v) => v + 1)}
          />
        )}
      </header>
      <main>
        {meta.error && meta.error.code !== 'READ_AUTH' && <div className="error">{meta.error.message}</div>}
        {route.view === 'runs' && <RunsView />}
        {route.view === 'run' && route.id !== undefined && <RunDetailView id={route.id} />}
        {route.view === 'compare' && <CompareView ids={(route.params.get('ids') ?? '').split(',').filter(Boolean).map(Number)} />}
        {route.view === 'ablation' && <AblationView />}
        {route.view === 'tables' && <TablesView />}
        {route.view === 'launch' && <LaunchView />}
      </main>
    </MetaContext.Provider>
  );
}
