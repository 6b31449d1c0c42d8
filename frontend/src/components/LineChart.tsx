// A small SVG line chart with a linear or base-10 logarithmic y axis. The
// chart keeps its size whatever the data, so live updates never move the page.

export interface Point {
  x: number;
  y: number;
}

interface LineChartProps {
  title: string;
  points: Point[];
  xLabel: string;
  yLabel: string;
  yScale?: 'linear' | 'log';
  /** Fixed y range for a linear axis, e.g. [0, 100] for percent. */
  yDomain?: [number, number];
  formatY?: (value: number) => string;
}

const WIDTH = 480;
const HEIGHT = 220;
const MARGIN = { top: 12, right: 16, bottom: 40, left: 64 };

/** Returns tick values for an axis from `low` to `high` (powers of ten on a log axis). */
export function ticksFor(low: number, high: number, scale: 'linear' | 'log'): number[] {
  if (scale === 'log') {
    const ticks: number[] = [];
    const step = Math.max(1, Math.ceil((Math.ceil(high) - Math.floor(low)) / 6));
    for (let exponent = Math.floor(low); exponent <= Math.ceil(high); exponent += step) ticks.push(exponent);
    return ticks;
  }
  if (high === low) return [low];
  const rough = (high - low) / 5;
  const magnitude = 10 ** Math.floor(Math.log10(rough));
  const step = [1, 2, 5, 10].map((factor) => factor * magnitude).find((candidate) => candidate >= rough) ?? rough;
  const ticks: number[] = [];
  for (let value = Math.ceil(low / step) * step; value <= high + step * 1e-9; value += step) ticks.push(Number(value.toPrecision(12)));
  return ticks;
}

export function LineChart({ title, points, xLabel, yLabel, yScale = 'linear', yDomain, formatY }: LineChartProps) {
  const usable = yScale === 'log' ? points.filter((point) => point.y > 0) : points;
  const transformY = (y: number) => (yScale === 'log' ? Math.log10(y) : y);
  const xs = usable.map((point) => point.x);
  const ys = usable.map((point) => transformY(point.y));
  const xLow = Math.min(0, ...xs);
  const xHigh = Math.max(xLow + 1e-9, ...xs);
  let [yLow, yHigh] = yDomain ?? [Math.min(...ys), Math.max(...ys)];
  if (yScale === 'log' && !yDomain) {
    yLow = Math.floor(yLow);
    yHigh = Math.ceil(yHigh);
  }
  if (!(yHigh > yLow)) yHigh = yLow + 1;

  const plotWidth = WIDTH - MARGIN.left - MARGIN.right;
  const plotHeight = HEIGHT - MARGIN.top - MARGIN.bottom;
  const px = (x: number) => MARGIN.left + ((x - xLow) / (xHigh - xLow)) * plotWidth;
  const py = (y: number) => MARGIN.top + plotHeight - ((y - yLow) / (yHigh - yLow)) * plotHeight;
  const path = usable.map((point, i) => `${i === 0 ? 'M' : 'L'}${px(point.x).toFixed(1)},${py(transformY(point.y)).toFixed(1)}`).join('');
  const yTicks = usable.length > 0 ? ticksFor(yLow, yHigh, yScale) : [];
  const xTicks = usable.length > 0 ? ticksFor(xLow, xHigh, 'linear') : [];
  const label = (tick: number) => {
    if (yScale === 'log') return `1e${tick}`;
    return formatY ? formatY(tick) : String(tick);
  };

  return (
    <figure className="chart">
      <figcaption>{title}</figcaption>
      <svg viewBox={`0 0 ${WIDTH} ${HEIGHT}`} role="img" aria-label={`${title}: ${usable.length} points`}>
        <rect x={MARGIN.left} y={MARGIN.top} width={plotWidth} height={plotHeight} className="chart-frame" />
        {yTicks.map((tick) => (
          <g key={`y${tick}`}>
            <line x1={MARGIN.left} x2={MARGIN.left + plotWidth} y1={py(tick)} y2={py(tick)} className="chart-grid" />
            <text x={MARGIN.left - 6} y={py(tick)} className="chart-tick" textAnchor="end" dominantBaseline="middle">
              {label(tick)}
            </text>
          </g>
        ))}
        {xTicks.map((tick) => (
          <text key={`x${tick}`} x={px(tick)} y={MARGIN.top + plotHeight + 16} className="chart-tick" textAnchor="middle">
            {tick}
          </text>
        ))}
        <text x={MARGIN.left + plotWidth / 2} y={HEIGHT - 4} className="chart-label" textAnchor="middle">
          {xLabel}
        </text>
        <text
          transform={`translate(14 ${MARGIN.top + plotHeight / 2}) rotate(-90)`}
          className="chart-label"
          textAnchor="middle"
        >
          {yLabel}
        </text>
        {usable.length > 0 ? <path d={path} className="chart-line" /> : null}
        {usable.length === 0 ? (
          <text x={MARGIN.left + plotWidth / 2} y={MARGIN.top + plotHeight / 2} textAnchor="middle" className="chart-empty">
            No data yet
          </text>
        ) : null}
      </svg>
    </figure>
  );
}
