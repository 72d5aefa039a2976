// The dashboard's pages, once: the navigation, the shell's page switch (App.tsx renders each id, and the
// compiler refuses an id without its page), the unknown-page message and the screenshot script all read
// this list. Pure data, so node scripts import it too. A page that is not in the navigation (a run's own
// page, reached from the runs list) has nav: false.
export const VIEWS = [
  { id: 'runs', label: 'Runs', nav: true },
  { id: 'run', label: 'Run', nav: false },
  { id: 'compare', label: 'Compare', nav: true },
  { id: 'ablation', label: 'Ablation', nav: true },
  { id: 'parallel', label: 'Parallel', nav: true },
  { id: 'routing', label: 'Routing', nav: true },
  { id: 'tables', label: 'Paper tables', nav: true },
  { id: 'launch', label: 'Launch', nav: true },
] as const;

export type ViewId = (typeof VIEWS)[number]['id'];

/** The pages in the navigation, in order. */
export const NAV_VIEWS = VIEWS.filter((v) => v.nav);

export function isViewId(id: string): id is ViewId {
  return VIEWS.some((v) => v.id === id);
}
