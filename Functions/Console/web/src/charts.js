// Charts drawn by Chart.js (pinned in package.json), only the parts the console uses. Each canvas also carries its
// numbers as data-chart (labels and series), the same the chart draws, for tests and for anyone reading the page's
// source.
import {
  BarController, BarElement, CategoryScale, Chart, Filler, Legend, LineController, LineElement, LinearScale, PointElement, Tooltip,
} from 'chart.js';
import { h } from './dom.js';
import { short } from './format.js';

Chart.register(BarController, BarElement, CategoryScale, Filler, Legend, LineController, LineElement, LinearScale, PointElement, Tooltip);
Chart.defaults.font.family = getComputedStyle(document.documentElement).getPropertyValue('--font').trim() || 'system-ui, sans-serif';
Chart.defaults.color = '#4b5563';
Chart.defaults.animation = false;

export const palette = ['#2563eb', '#f59e0b', '#10b981', '#8b5cf6', '#ec4899', '#ef4444', '#14b8a6', '#64748b'];

const live = new Set();

/** Destroys every chart of the page being left. */
export function destroyCharts() {
  for (const chart of live) {
    chart.destroy();
  }
  live.clear();
}

/**
 * A chart over days. series: [{label, data, color?, type?}]; options: {stacked, money, name}. Returns the element to
 * place in the page.
 */
export function dayChart(name, labels, series, { stacked = false, kind = 'bar', format = short } = {}) {
  const canvas = h('canvas', {
    role: 'img',
    'aria-label': name,
    dataset: { chart: name, series: JSON.stringify({ labels, series: series.map((s) => ({ label: s.label, data: s.data })) }) },
  });
  const holder = h('div', { class: 'chart' }, canvas);
  const chart = new Chart(canvas, {
    type: kind,
    data: {
      labels: labels.map((d) => d.slice(5)),
      datasets: series.map((s, i) => ({
        label: s.label,
        data: s.data,
        backgroundColor: s.color ?? palette[i % palette.length],
        borderColor: s.color ?? palette[i % palette.length],
        borderWidth: kind === 'line' ? 2 : 0,
        pointRadius: kind === 'line' ? 2 : 0,
        fill: kind === 'line' ? { target: 'origin', above: `${s.color ?? palette[i % palette.length]}22` } : undefined,
        tension: 0.25,
        maxBarThickness: 28,
      })),
    },
    options: {
      responsive: true,
      maintainAspectRatio: false,
      interaction: { mode: 'index', intersect: false },
      plugins: {
        legend: { display: series.length > 1, position: 'bottom', labels: { boxWidth: 12, boxHeight: 12 } },
        tooltip: { callbacks: { label: (item) => `${item.dataset.label}: ${format(item.parsed.y)}` } },
      },
      scales: {
        x: { stacked, grid: { display: false } },
        y: { stacked, beginAtZero: true, ticks: { callback: (value) => format(value), maxTicksLimit: 6 }, grid: { color: '#eef0f3' } },
      },
    },
  });
  live.add(chart);
  return holder;
}
