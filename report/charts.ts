// The report's charts as SVG text, rendered in Node by Apache ECharts' server-side renderer
// (`ssr: true`, `renderToSVGString`): no browser, no DOM, and the SVG is inlined in report.html.
import * as echarts from 'echarts';

const COLORS = { up: '#2e7d32', lost: '#c62828', none: '#9e9e9e', target: '#1565c0', contract: '#455a64' };

function render(option: echarts.EChartsCoreOption, width: number, height: number): string {
  const chart = echarts.init(null, null, { renderer: 'svg', ssr: true, width, height });
  try {
    chart.setOption({ animation: false, textStyle: { fontFamily: 'sans-serif' }, ...option });
    return chart.renderToSVGString();
  } finally {
    chart.dispose();
  }
}

/** Monthly availability in school hours (bars, 0–100 %), a target line; null months left empty. */
export function monthlyAvailabilityChart(
  months: string[],
  availabilityPct: (number | null)[],
  opts: { title: string; targetPct: number; targetLabel: string; width?: number; height?: number },
): string {
  return render(
    {
      title: { text: opts.title, left: 'center', textStyle: { fontSize: 13 } },
      // The whole 0–100 % scale: a cut axis would make a 2-point gap look like a collapse.
      grid: { left: 8, right: 8, top: 44, bottom: 8, containLabel: true },
      xAxis: { type: 'category', data: months },
      yAxis: { type: 'value', min: 0, max: 100, axisLabel: { formatter: '{value} %' } },
      series: [
        {
          type: 'bar',
          data: availabilityPct.map((v) => ({
            value: v === null ? '-' : Math.round(v * 100) / 100,
            itemStyle: { color: v !== null && v < opts.targetPct ? COLORS.lost : COLORS.up },
          })),
          label: {
            show: months.length <= 12,
            position: 'top',
            fontSize: 9,
            formatter: ({ value }: { value: number }) => `${value}`,
          },
          markLine: {
            symbol: 'none',
            data: [{ yAxis: opts.targetPct, name: opts.targetLabel }],
            lineStyle: { color: COLORS.target, type: 'dashed' },
            label: { formatter: opts.targetLabel, fontSize: 9, position: 'insideEndTop' },
          },
        },
      ],
    },
    opts.width ?? 640,
    opts.height ?? 220,
  );
}

/** Teaching hours lost by cause, stacked per month. */
export function causesChart(
  months: string[],
  byCause: { name: string; hours: number[]; color: string }[],
  opts: { title: string; unit: string; width?: number; height?: number },
): string {
  return render(
    {
      title: { text: opts.title, left: 'center', textStyle: { fontSize: 13 } },
      legend: { bottom: 0, itemGap: 16, itemWidth: 12, textStyle: { fontSize: 9 } },
      grid: { left: 8, right: 8, top: 36, bottom: 28, containLabel: true },
      xAxis: { type: 'category', data: months },
      yAxis: { type: 'value', axisLabel: { formatter: `{value} ${opts.unit}` } },
      series: byCause.map((c) => ({
        type: 'bar',
        stack: 'lost',
        name: c.name,
        data: c.hours.map((h) => Math.round(h * 10) / 10),
        itemStyle: { color: c.color },
      })),
    },
    opts.width ?? 640,
    opts.height ?? 220,
  );
}

/** Median download per ISP against the contracted rate (Mbit/s). */
export function speedChart(
  names: string[],
  medianMbps: (number | null)[],
  contractMbps: (number | null)[],
  opts: { title: string; measured: string; contract: string; width?: number; height?: number },
): string {
  return render(
    {
      title: { text: opts.title, left: 'center', textStyle: { fontSize: 13 } },
      legend: { bottom: 0, itemGap: 16, textStyle: { fontSize: 9 } },
      grid: { left: 8, right: 8, top: 36, bottom: 28, containLabel: true },
      xAxis: { type: 'category', data: names },
      yAxis: { type: 'value', axisLabel: { formatter: '{value} Mbit/s' } },
      series: [
        {
          type: 'bar',
          name: opts.contract,
          data: contractMbps.map((v) => v ?? '-'),
          itemStyle: { color: COLORS.contract },
        },
        {
          type: 'bar',
          name: opts.measured,
          data: medianMbps.map((v) => (v === null ? '-' : Math.round(v * 10) / 10)),
          itemStyle: { color: COLORS.up },
        },
      ],
    },
    opts.width ?? 640,
    opts.height ?? 220,
  );
}

export const CAUSE_COLORS = { wan_cut: '#ef6c00', power_or_box: '#6a1b9a', unknown: COLORS.none };
