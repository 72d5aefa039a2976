// Hash routes (#/runs, #/runs/12, #/compare?ids=1,2, ...): parsed here, so views and the shell share
// them without importing each other.
import { useEffect, useState } from 'react';

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

export function navigate(to: string): void {
  window.location.hash = to.startsWith('#') ? to : `#/${to.replace(/^\//, '')}`;
}

/** The current route, following hash changes. */
export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseHash(window.location.hash));
  useEffect(() => {
    const on = () => setRoute(parseHash(window.location.hash));
    window.addEventListener('hashchange', on);
    return () => window.removeEventListener('hashchange', on);
  }, []);
  return route;
}

/**
 * Replace the current view's query (filters, sort, grouping, selection): the URL is the view's state, so
 * a link or a reload shows the same table. No history entry per keystroke; views follow via useRoute.
 */
export function setParams(view: string, params: Record<string, string | undefined>): void {
  const u = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== '') u.set(k, v);
  const q = u.toString();
  window.history.replaceState(null, '', `#/${view}${q ? `?${q}` : ''}`);
  window.dispatchEvent(new Event('hashchange'));
}
