import { CartesianGrid, Legend, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { formatClock } from '../format.ts';

export interface Series {
  key: string;
  label: string;
  color: string;
}

export type ChartRow = { ts: number } & Record<string, number>;

/**
 * A line chart of the last minutes. Animation is off: with a new point every second, animating each
 * redraw costs CPU and makes the lines wobble.
 */
export function TimeSeriesChart({
  title,
  rows,
  series,
  formatValue,
  testId,
  integer = false,
}: {
  title: string;
  rows: readonly ChartRow[];
  series: readonly Series[];
  formatValue: (value: number) => string;
  testId: string;
  /** Whole-number ticks only (counts). */
  integer?: boolean;
}) {
  const headingId = `${testId}-heading`;
  return (
    <section className="card chart" aria-labelledby={headingId} data-testid={testId}>
      <h2 id={headingId}>{title}</h2>
      <ResponsiveContainer width="100%" height={200}>
        <LineChart data={rows as ChartRow[]} margin={{ top: 8, right: 12, bottom: 0, left: 0 }}>
          <CartesianGrid stroke="#e4e7eb" strokeDasharray="3 3" />
          <XAxis
            dataKey="ts"
            type="number"
            scale="time"
            domain={['dataMin', 'dataMax']}
            tickFormatter={formatClock}
            minTickGap={48}
            fontSize={12}
          />
          <YAxis tickFormatter={formatValue} width={72} fontSize={12} allowDecimals={!integer} />
          <Tooltip
            labelFormatter={(ts) => formatClock(Number(ts))}
            formatter={(value) => formatValue(Number(value))}
          />
          {series.length > 1 && <Legend />}
          {series.map((line) => (
            <Line
              key={line.key}
              dataKey={line.key}
              name={line.label}
              stroke={line.color}
              strokeWidth={2}
              dot={false}
              isAnimationActive={false}
              type="monotone"
            />
          ))}
        </LineChart>
      </ResponsiveContainer>
    </section>
  );
}
