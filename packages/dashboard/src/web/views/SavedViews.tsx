// Saved views: a name for the current URL of a view (filters, sort, grouping, columns), kept in this
// browser's localStorage; picking one opens that URL. Share a view by copying the address instead.
import { useState } from 'react';

const KEY = 'ssmb.views';
interface Saved { name: string; view: string; hash: string }

const load = (): Saved[] => {
  try {
    const v = JSON.parse(localStorage.getItem(KEY) ?? '[]');
    return Array.isArray(v) ? v : [];
  } catch {
    return [];
  }
};

export function SavedViews({ view }: { view: string }) {
  const [saved, setSaved] = useState(load);
  const mine = saved.filter((v) => v.view === view);
  const save = () => {
    const name = window.prompt('Name this view (its filters, sort, grouping and columns)');
    if (!name?.trim()) return;
    const next = [...saved.filter((v) => !(v.view === view && v.name === name.trim())), { name: name.trim(), view, hash: window.location.hash }];
    localStorage.setItem(KEY, JSON.stringify(next));
    setSaved(next);
  };
  return (
    <select value="" aria-label="saved views" style={{ width: 110 }}
      onChange={(e) => {
        if (e.target.value === '__save__') return save();
        const v = mine.find((x) => x.name === e.target.value);
        if (v) window.location.hash = v.hash;
      }}>
      <option value="">views…</option>
      {mine.map((v) => <option key={v.name} value={v.name}>{v.name}</option>)}
      <option value={'__save__'}>save this view…</option>
    </select>
  );
}
