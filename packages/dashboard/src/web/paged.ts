// A long list read page by page as it scrolls into view: the runs table asks for the pages its visible
// rows fall in (and the first, for the total), never for all 20,000 rows. A page already shown stays on
// screen while it is read again after a change (`version`), so live updates do not blank the table.
import { useCallback, useEffect, useRef, useState } from 'react';
import { api, type HttpError } from './api.ts';

interface Page<T> { rows: T[]; version: number }
interface PagedState<T, R> { key: string | null; pages: Map<number, Page<T>>; first?: R; error?: HttpError }

export interface PagedList<T, R> {
  /** Rows in the list (undefined until the first page arrives). */
  total: number | undefined;
  /** The first page's response as a whole (totals and fields besides the rows). */
  first: R | undefined;
  /** Row i, or undefined while its page is being read. */
  row: (i: number) => T | undefined;
  /** Rows read so far. */
  loaded: T[];
  /** Read the pages holding rows [from, to] that are missing or older than `version`. */
  want: (from: number, to: number) => void;
  error: HttpError | undefined;
}

/**
 * `url(offset, limit)` is one page's URL; `key` names the list (filter, sort, grouping): a new key starts
 * a new list. `rowsOf` and `totalOf` read a page's response.
 */
export function usePagedList<T, R>(
  key: string | null,
  url: (offset: number, limit: number) => string,
  version: number,
  pageSize: number,
  rowsOf: (res: R) => T[],
  totalOf: (res: R) => number,
): PagedList<T, R> {
  const [state, setState] = useState<PagedState<T, R>>({ key, pages: new Map() });
  const inflight = useRef(new Set<string>());
  const current = state.key === key ? state : { key, pages: new Map<number, Page<T>>() };
  const total = current.first ? totalOf(current.first) : undefined;

  const fetchPage = useCallback(
    (page: number) => {
      if (key === null) return;
      const id = `${key}\0${version}\0${page}`;
      if (inflight.current.has(id)) return;
      inflight.current.add(id);
      api<R>(url(page * pageSize, pageSize))
        .then((res) =>
          setState((s) => {
            const base = s.key === key ? s : { key, pages: new Map<number, Page<T>>() };
            const old = base.pages.get(page);
            if (old && old.version > version) return base;
            const pages = new Map(base.pages).set(page, { rows: rowsOf(res), version });
            return { key, pages, first: page === 0 || !base.first ? res : base.first, error: undefined };
          }),
        )
        .catch((error: HttpError) => setState((s) => (s.key === key ? { ...s, error } : { key, pages: new Map(), error })))
        .finally(() => inflight.current.delete(id));
    },
    // url and rowsOf are new functions each render; the list they read is named by key.
    [key, version, pageSize],
  );

  const want = useCallback(
    (from: number, to: number) => {
      const last = total === undefined ? 0 : Math.max(0, Math.ceil(total / pageSize) - 1);
      for (let p = Math.floor(Math.max(0, from) / pageSize); p <= Math.min(last, Math.floor(Math.max(0, to) / pageSize)); p++) {
        const have = current.pages.get(p);
        if (!have || have.version < version) fetchPage(p);
      }
    },
    [current.pages, total, pageSize, version, fetchPage],
  );

  // The first page always: it carries the total the list is drawn for.
  useEffect(() => {
    const have = current.pages.get(0);
    if (key !== null && (!have || have.version < version)) fetchPage(0);
  }, [key, version, current.pages, fetchPage]);

  const row = (i: number) => current.pages.get(Math.floor(i / pageSize))?.rows[i % pageSize];
  const loaded = [...current.pages.entries()].sort(([a], [b]) => a - b).flatMap(([, p]) => p.rows);
  return { total, first: current.first, row, loaded, want, error: current.error };
}
