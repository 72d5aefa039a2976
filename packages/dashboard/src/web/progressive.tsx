// Progressive drawing: a chart is drawn when it comes near the window, and the charts out of view one at
// a time when the browser is idle after that. A run page has 20+ charts; drawing them all in one go
// held its first screen back by a second.
import { useEffect, useRef, useState, type ReactNode } from 'react';
import { loadCharts } from './charts_lazy.tsx';

/** Charts waiting for an idle moment, in the order they were laid out (top of the page first). */
const waiting: Array<() => void> = [];
let pumping = false;
const idle = (fn: () => void) => (typeof window.requestIdleCallback === 'function' ? window.requestIdleCallback(fn, { timeout: 500 }) : window.setTimeout(fn, 16));

/** Draws the next waiting chart in an idle moment, then (after that frame) the next. The browser is idle
 *  while the charting code downloads: the charts out of view wait for it, or they would all be drawn in
 *  one go with those in view the moment it arrives. */
function pump(): void {
  if (pumping) return;
  pumping = true;
  // After the code arrives, two frames: React draws the charts in view (waiting on the same code) first.
  const afterFrames = (fn: () => void) => requestAnimationFrame(() => requestAnimationFrame(fn));
  void loadCharts().then(() => afterFrames(() => idle(() => {
    pumping = false;
    const next = waiting.shift();
    if (!next) return;
    next();
    requestAnimationFrame(() => pump());
  })));
}

/** Its children once near the window or, failing that, in an idle moment; until then a box of `height`. */
export function Progressive({ height, children }: { height: number; children: ReactNode }) {
  const box = useRef<HTMLDivElement>(null);
  const [drawn, setDrawn] = useState(false);
  useEffect(() => {
    if (drawn || !box.current) return;
    const draw = () => setDrawn(true);
    const seen = new IntersectionObserver((entries) => entries.some((e) => e.isIntersecting) && draw(), { rootMargin: '200px' });
    seen.observe(box.current);
    waiting.push(draw);
    pump();
    return () => {
      seen.disconnect();
      const i = waiting.indexOf(draw);
      if (i >= 0) waiting.splice(i, 1);
    };
  }, [drawn]);
  return drawn ? <>{children}</> : <div ref={box} className="chart-pending" style={{ height }} />;
}
