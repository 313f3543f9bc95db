// Two small SVG charts (no library): stacked bars and lines, with a legend and a text summary
// for screen readers. The drawing is as wide as its box in CSS pixels (not a scaled viewBox), so
// axis text keeps its size on a phone and the labels thin out instead of shrinking.
import { useEffect, useRef, useState } from 'react';
import type { RefObject } from 'react';

export interface BarSeries {
  key: string;
  label: string;
  color: string;
}

const H = 220;
const PAD = { top: 12, right: 12, bottom: 28, left: 68 };
/** The room an x-axis label needs, in CSS pixels. */
const LABEL_ROOM = 52;

/** The element's width in CSS pixels, followed as it changes. */
function useWidth(ref: RefObject<HTMLElement | null>, initial = 640): number {
  const [width, setWidth] = useState(initial);
  useEffect(() => {
    const el = ref.current;
    if (!el) return;
    const measure = () => setWidth(Math.max(240, Math.round(el.getBoundingClientRect().width)));
    measure();
    const observer = new ResizeObserver(measure);
    observer.observe(el);
    return () => observer.disconnect();
  }, [ref]);
  return width;
}

/** Show every n-th of `count` x labels so that each has LABEL_ROOM pixels. */
function labelEvery(count: number, innerW: number): number {
  const fits = Math.max(1, Math.floor(innerW / LABEL_ROOM));
  return Math.max(1, Math.ceil(count / fits));
}

function niceMax(value: number): number {
  if (value <= 0) return 1;
  const p = 10 ** Math.floor(Math.log10(value));
  const n = value / p;
  return (n <= 1 ? 1 : n <= 2 ? 2 : n <= 5 ? 5 : 10) * p;
}

function Legend({ series }: { series: { label: string; color: string }[] }) {
  return (
    <ul className="legend">
      {series.map((s) => (
        <li key={s.label}>
          <span className="swatch" style={{ background: s.color }} aria-hidden="true" />
          {s.label}
        </li>
      ))}
    </ul>
  );
}

export function StackedBarChart({
  title,
  labels,
  series,
  values,
  format = String,
}: {
  title: string;
  labels: string[];
  series: BarSeries[];
  /** values[i][series.key] for each label i. */
  values: Record<string, number>[];
  format?: (n: number) => string;
}) {
  const box = useRef<HTMLElement>(null);
  const W = useWidth(box);
  const totals = values.map((v) => series.reduce((sum, s) => sum + (v[s.key] ?? 0), 0));
  const max = niceMax(Math.max(0, ...totals));
  const innerW = W - PAD.left - PAD.right;
  const innerH = H - PAD.top - PAD.bottom;
  const step = labels.length > 0 ? innerW / labels.length : innerW;
  const barW = Math.max(2, step * 0.7);
  const every = labelEvery(labels.length, innerW);
  return (
    <figure className="chart" ref={box}>
      <svg
        viewBox={`0 0 ${W} ${H}`}
        width={W}
        height={H}
        role="img"
        aria-label={`${title}: ${totals.reduce((a, b) => a + b, 0)} in total`}
      >
        {[0, 0.5, 1].map((f) => {
          const y = PAD.top + innerH * (1 - f);
          return (
            <g key={f}>
              <line x1={PAD.left} x2={W - PAD.right} y1={y} y2={y} className="grid" />
              <text x={PAD.left - 6} y={y + 4} textAnchor="end" className="axis">
                {format(max * f)}
              </text>
            </g>
          );
        })}
        {values.map((v, i) => {
          let y = PAD.top + innerH;
          const x = PAD.left + i * step + (step - barW) / 2;
          return (
            <g key={i}>
              <title>{`${labels[i]}: ${series.map((s) => `${s.label} ${v[s.key] ?? 0}`).join(', ')}`}</title>
              {series.map((s) => {
                const h = ((v[s.key] ?? 0) / max) * innerH;
                y -= h;
                return h > 0 ? <rect key={s.key} x={x} y={y} width={barW} height={h} fill={s.color} rx={1} /> : null;
              })}
              {i % every === 0 ? (
                <text x={x + barW / 2} y={H - 8} textAnchor="middle" className="axis">
                  {labels[i]}
                </text>
              ) : null}
            </g>
          );
        })}
      </svg>
      <Legend series={series} />
    </figure>
  );
}

export interface LineSeries {
  label: string;
  color: string;
  /** y null: no data there; the line breaks instead of drawing a zero. */
  points: { x: string; y: number | null }[];
}

/** The runs of consecutive points that have a value. */
function segments<P extends { y: number | null }>(points: P[]): { i: number; y: number }[][] {
  const out: { i: number; y: number }[][] = [];
  let current: { i: number; y: number }[] = [];
  points.forEach((p, i) => {
    if (p.y === null) {
      if (current.length) out.push(current);
      current = [];
    } else current.push({ i, y: p.y });
  });
  if (current.length) out.push(current);
  return out;
}

export function LineChart({
  title,
  series,
  format = String,
  max: fixedMax,
}: {
  title: string;
  series: LineSeries[];
  format?: (n: number) => string;
  /** A fixed top of the scale (100 for percentages). */
  max?: number;
}) {
  const box = useRef<HTMLElement>(null);
  const W = useWidth(box);
  const xs = series[0]?.points.map((p) => p.x) ?? [];
  const max = fixedMax ?? niceMax(Math.max(0, ...series.flatMap((s) => s.points.map((p) => p.y ?? 0))));
  const innerW = W - PAD.left - PAD.right;
  const innerH = H - PAD.top - PAD.bottom;
  const xAt = (i: number) => PAD.left + (xs.length <= 1 ? innerW / 2 : (i / (xs.length - 1)) * innerW);
  const yAt = (v: number) => PAD.top + innerH * (1 - v / max);
  const every = labelEvery(xs.length, innerW);
  const last = series
    .map((s) => {
      const latest = [...s.points].reverse().find((p) => p.y !== null);
      return latest && latest.y !== null ? `${s.label} ${format(latest.y)} at ${latest.x}` : `${s.label} no data`;
    })
    .join(', ');
  return (
    <figure className="chart" ref={box}>
      <svg
        viewBox={`0 0 ${W} ${H}`}
        width={W}
        height={H}
        role="img"
        aria-label={`${title}, latest: ${last || 'no data'}`}
      >
        {[0, 0.5, 1].map((f) => {
          const y = PAD.top + innerH * (1 - f);
          return (
            <g key={f}>
              <line x1={PAD.left} x2={W - PAD.right} y1={y} y2={y} className="grid" />
              <text x={PAD.left - 6} y={y + 4} textAnchor="end" className="axis">
                {format(max * f)}
              </text>
            </g>
          );
        })}
        {xs.map((x, i) =>
          i % every === 0 ? (
            <text key={x} x={xAt(i)} y={H - 8} textAnchor="middle" className="axis">
              {x}
            </text>
          ) : null,
        )}
        {series.map((s) => (
          <g key={s.label} data-series={s.label}>
            {segments(s.points).map((run) => (
              <polyline
                key={run[0]?.i}
                fill="none"
                stroke={s.color}
                strokeWidth={2}
                points={run.map((p) => `${xAt(p.i)},${yAt(p.y)}`).join(' ')}
              />
            ))}
            {s.points.length <= 40
              ? s.points.map((p, i) =>
                  p.y === null ? null : (
                    <circle key={i} cx={xAt(i)} cy={yAt(p.y)} r={2.5} fill={s.color} className="point">
                      <title>{`${p.x}: ${format(p.y)}`}</title>
                    </circle>
                  ),
                )
              : null}
          </g>
        ))}
      </svg>
      {series.length > 1 ? <Legend series={series} /> : null}
    </figure>
  );
}
