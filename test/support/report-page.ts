/**
 * Expressions evaluated inside a report.html page (strings: the test build has no DOM types). The page publishes
 * its state as `window.__faultlineReport`.
 */

export interface ReportState {
  ready: boolean;
  errors: string[];
  ops: number;
  faultBandsDrawn: number;
  opsDrawn: number;
  renderedAtMs: number | null;
}

/** True once the page rendered, or failed. */
export const READY = '(() => { const r = window.__faultlineReport; return !!r && (r.ready || r.errors.length > 0); })()';

export const STATE = `(() => { const r = window.__faultlineReport;
  return { ready: r.ready, errors: r.errors, ops: r.ops, faultBandsDrawn: r.faultBandsDrawn, opsDrawn: r.opsDrawn, renderedAtMs: r.renderedAtMs }; })()`;

/** How many non-white pixels the timeline and each uPlot chart painted. */
export const PAINTED = `(() => {
  const nonWhite = (c) => {
    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    let n = 0;
    for (let i = 0; i < d.length; i += 4) if (d[i] < 240 || d[i + 1] < 240 || d[i + 2] < 240) n++;
    return n;
  };
  const charts = [...document.querySelectorAll('.uplot')].map((u) => ({ title: (u.querySelector('.u-title') || {}).textContent || '', pixels: nonWhite(u.querySelector('canvas')) }));
  return { timeline: nonWhite(document.querySelector('#timeline')), charts };
})()`;
