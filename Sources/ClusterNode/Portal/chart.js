// Charts drawn as SVG by this code: a trend line of usage over time and a
// pie of usage by handshake code. Neither relies on colour alone: each
// chart carries a summary in words for screen readers, points carry their
// values as tooltips, and pie slices carry a hatching and a number that the
// legend table repeats. Colours come from style.css classes (the CSP allows
// no inline style); only geometry is set here.

import { h, table, count, plural, unixUTC } from './dom.js';

const svgNS = 'http://www.w3.org/2000/svg';

/// Creates an SVG element: svg('circle', {cx: 4, cy: 4, r: 2}, child…).
function svg(tag, attrs, ...children) {
  const element = document.createElementNS(svgNS, tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value !== undefined && value !== null) element.setAttribute(key, String(value));
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return element;
}

const sum = (entries, key) => entries.reduce((total, entry) => total + (Number(entry[key]) || 0), 0);
const units = (value) => plural(value, 'unit');
const grants = (value) => plural(value, 'grant');

// MARK: Trend line

const trendHeight = 240;
/// Room around the plot for the labels; on the right, for half a time label.
const margin = { top: 28, right: 36, bottom: 36, left: 60 };
/// Horizontal room one time label needs, so labels never overlap.
const xLabelWidthMin = 96;
/// Steps between time ticks, each a whole number of UTC hours or days.
const tickStepsSeconds = [2, 6, 12, 24, 48, 96, 168, 336, 720, 1440, 2160, 4320].map((hours) => hours * 3600);
/// More points than this on the line are drawn smaller, so they do not hide it.
const pointsFullSizeMax = 120;

/// Rounds `rough` up to 1, 2 or 5 times a power of ten (at least 1, as
/// units are whole numbers), so the value axis reads well.
function niceStep(rough) {
  if (rough <= 1) return 1;
  const power = 10 ** Math.floor(Math.log10(rough));
  const fraction = rough / power;
  return (fraction <= 1 ? 1 : fraction <= 2 ? 2 : fraction <= 5 ? 5 : 10) * power;
}

/// A tick's time: "11-24 14:00" when ticks are hours apart, else "2025-11-24".
function tickText(seconds, stepSeconds) {
  const text = new Date(seconds * 1000).toISOString();
  return stepSeconds < 86400 ? `${text.slice(5, 10)} ${text.slice(11, 16)}` : text.slice(0, 10);
}

/// A line of units over time, `width` pixels wide.
/// - Parameters:
///   - rows: the buckets, oldest first: [{start, end, grants, units}], at least one.
///   - width: the width to draw at, in CSS pixels.
///   - bucketText: the bucket's length in words ("2 h"), for the summary.
///   - dataTest: the chart's data-test.
/// - Returns: an `svg` element with role="img" and a summary as its aria-label.
export function trendChart(rows, width, bucketText, dataTest) {
  const plotWidth = Math.max(width - margin.left - margin.right, 60);
  const plotHeight = trendHeight - margin.top - margin.bottom;
  const from = rows[0].start;
  const to = rows[rows.length - 1].end;
  const span = Math.max(to - from, 1);
  const peak = rows.reduce((best, row) => (row.units > best.units ? row : best), rows[0]);
  const valueStep = niceStep(peak.units / 4);
  const valueTop = Math.max(Math.ceil(peak.units / valueStep), 1) * valueStep;
  const x = (seconds) => margin.left + (seconds - from) / span * plotWidth;
  const y = (units) => margin.top + plotHeight - units / valueTop * plotHeight;

  const valueTicks = [];
  for (let value = 0; value <= valueTop; value += valueStep) {
    valueTicks.push(svg('g', { class: 'chart-tick' },
      svg('line', { class: 'chart-grid', x1: margin.left, x2: margin.left + plotWidth, y1: y(value), y2: y(value) }),
      svg('text', { x: margin.left - 8, y: y(value), 'text-anchor': 'end', 'dominant-baseline': 'middle' }, count(value))));
  }

  const ticksMax = Math.max(Math.floor(plotWidth / xLabelWidthMin), 1);
  const timeStep = tickStepsSeconds.find((step) => span / step <= ticksMax) || tickStepsSeconds[tickStepsSeconds.length - 1];
  const timeTicks = [];
  for (let seconds = Math.ceil(from / timeStep) * timeStep; seconds <= to; seconds += timeStep) {
    timeTicks.push(svg('g', { class: 'chart-tick' },
      svg('line', { class: 'chart-axis', x1: x(seconds), x2: x(seconds), y1: margin.top + plotHeight, y2: margin.top + plotHeight + 5 }),
      svg('text', { x: x(seconds), y: margin.top + plotHeight + 20, 'text-anchor': 'middle' }, tickText(seconds, timeStep))));
  }

  const middle = (row) => (row.start + row.end) / 2;
  const line = rows.map((row, index) => `${index === 0 ? 'M' : 'L'}${x(middle(row)).toFixed(1)},${y(row.units).toFixed(1)}`).join(' ');
  const radius = rows.length > pointsFullSizeMax ? 1.5 : 3;
  const points = rows.map((row) => svg('circle', { class: 'chart-point', cx: x(middle(row)).toFixed(1), cy: y(row.units).toFixed(1), r: radius },
    svg('title', null, `${unixUTC(row.start, false)} to ${unixUTC(row.end, false)}: ${units(row.units)} in ${grants(row.grants)}`)));

  const total = sum(rows, 'units');
  const summary = `Usage from ${unixUTC(from, false)} to ${unixUTC(to, false)} in ${rows.length} buckets of ${bucketText}: `
    + (total === 0
      ? 'no usage.'
      : `${units(total)} in ${grants(sum(rows, 'grants'))}; the busiest bucket, from ${unixUTC(peak.start, false)}, had ${units(peak.units)}.`);

  return svg('svg', {
    class: 'chart chart-trend', role: 'img', 'aria-label': summary,
    width, height: trendHeight, viewBox: `0 0 ${width} ${trendHeight}`, 'data-test': dataTest, 'data-buckets': rows.length,
  },
  valueTicks,
  svg('text', { class: 'chart-unit', x: margin.left - 8, y: margin.top - 14, 'text-anchor': 'end' }, 'units'),
  svg('line', { class: 'chart-axis', x1: margin.left, x2: margin.left, y1: margin.top, y2: margin.top + plotHeight }),
  svg('line', { class: 'chart-axis', x1: margin.left, x2: margin.left + plotWidth, y1: margin.top + plotHeight, y2: margin.top + plotHeight }),
  timeTicks,
  svg('path', { class: 'chart-line', d: line }),
  points);
}

// MARK: Pie

const pieRadius = 90;
const pieCentre = 100;
/// Slices smaller than this share of the whole carry no number on the pie
/// (it would not fit); the legend still lists them with their hatching.
const sliceLabelShareMin = 0.04;
/// Fills, in turn: a colour class (style.css .slice-N) and a hatching each.
const sliceColoursCount = 8;
const hatchings = [
  [],
  [['path', { d: 'M-2,2 l4,-4 M0,8 l8,-8 M6,10 l4,-4' }]],
  [['circle', { cx: 4, cy: 4, r: 1.6 }]],
  [['path', { d: 'M0,4 h8' }]],
  [['path', { d: 'M-2,2 l4,-4 M0,8 l8,-8 M6,10 l4,-4 M-2,6 l4,4 M0,0 l8,8 M6,-2 l4,4' }]],
  [['path', { d: 'M4,0 v8' }]],
  [['path', { d: 'M-2,6 l4,4 M0,0 l8,8 M6,-2 l4,4' }]],
  [['path', { d: 'M0,4 h8 M4,0 v8' }]],
];

/// Each pie's patterns need ids of their own in the document.
let pieCount = 0;

function percentText(share) {
  const text = (share * 100).toFixed(1);
  return `${text.endsWith('.0') ? text.slice(0, -2) : text} %`;
}

function pattern(id, index) {
  return svg('pattern', { id, width: 8, height: 8, patternUnits: 'userSpaceOnUse' },
    svg('rect', { class: `slice-${index % sliceColoursCount}`, width: 8, height: 8 }),
    hatchings[index % hatchings.length].map(([tag, attrs]) => svg(tag, Object.assign({ class: 'slice-hatch' }, attrs))));
}

function point(angle, radius) {
  return [pieCentre + radius * Math.cos(angle), pieCentre + radius * Math.sin(angle)].map((value) => value.toFixed(2));
}

/// Usage by handshake code as a pie and its legend table, or a sentence
/// when there was no usage.
/// - Parameters:
///   - entries: [{code, grants, units}], in any order.
///   - dataTest: the data-test of the wrapper; its legend table gets
///     `dataTest + '-legend'`.
///   - caption: what the pie shows, for its summary ("in this period").
export function usagePie(entries, dataTest, caption) {
  const slices = (Array.isArray(entries) ? entries : [])
    .filter((entry) => entry && typeof entry.code === 'string')
    .sort((a, b) => (b.units - a.units) || a.code.localeCompare(b.code));
  const total = sum(slices, 'units');
  if (total <= 0) return h('p', { class: 'empty', 'data-test': dataTest }, 'No usage in this period.');

  const prefix = `pie-${++pieCount}-`;
  const drawn = slices.filter((slice) => slice.units > 0);
  const shapes = [];
  const labels = [];
  let angle = -Math.PI / 2;
  slices.forEach((slice, index) => {
    if (slice.units <= 0) return;
    const share = slice.units / total;
    const fill = `url(#${prefix}${index})`;
    const title = svg('title', null, `${index + 1}. ${slice.code}: ${units(slice.units)} (${percentText(share)})`);
    // An arc from a point to itself draws nothing: a lone slice is a circle.
    if (drawn.length === 1) {
      shapes.push(svg('circle', { class: 'pie-slice', cx: pieCentre, cy: pieCentre, r: pieRadius, fill }, title));
    } else {
      const end = angle + share * 2 * Math.PI;
      const [x0, y0] = point(angle, pieRadius);
      const [x1, y1] = point(end, pieRadius);
      const large = share > 0.5 ? 1 : 0;
      shapes.push(svg('path', { class: 'pie-slice', d: `M${pieCentre},${pieCentre} L${x0},${y0} A${pieRadius},${pieRadius} 0 ${large} 1 ${x1},${y1} Z`, fill }, title));
    }
    if (share >= sliceLabelShareMin) {
      const middle = angle + share * Math.PI;
      const [x, y] = drawn.length === 1 ? [pieCentre, pieCentre] : point(middle, pieRadius * 0.62);
      labels.push(svg('text', { class: 'pie-label', x, y, 'text-anchor': 'middle', 'dominant-baseline': 'central' }, index + 1));
    }
    angle += share * 2 * Math.PI;
  });

  const summary = `Usage by handshake code ${caption}, ${units(total)}: `
    + slices.map((slice, index) => `${index + 1}. ${slice.code} ${units(slice.units)} (${percentText(slice.units / total)})`).join('; ') + '.';
  const pie = svg('svg', { class: 'chart chart-pie', role: 'img', 'aria-label': summary, viewBox: '0 0 200 200', width: 200, height: 200 },
    svg('defs', null, slices.map((slice, index) => pattern(prefix + index, index))),
    shapes, labels);

  const swatch = (index) => svg('svg', { class: 'swatch', viewBox: '0 0 16 16', width: 16, height: 16, 'aria-hidden': 'true' },
    svg('rect', { x: 0.5, y: 0.5, width: 15, height: 15, rx: 2, fill: `url(#${prefix}${index})`, class: 'swatch-box' }));
  const rows = slices.map((slice, index) => h('tr', { 'data-code': slice.code, 'data-units': slice.units },
    h('td', { class: 'nowrap' }, h('span', { class: 'legend-key' }, swatch(index), String(index + 1))),
    h('td', { class: 'break' }, h('code', null, slice.code)),
    h('td', { class: 'num' }, count(slice.grants)),
    h('td', { class: 'num' }, count(slice.units)),
    h('td', { class: 'num' }, percentText(slice.units / total))));
  rows.push(h('tr', { class: 'total-row', 'data-total-units': total },
    h('td', { class: 'legend-blank' }, ''),
    h('td', { class: 'strong' }, 'Total'),
    h('td', { class: 'num strong' }, count(sum(slices, 'grants'))),
    h('td', { class: 'num strong' }, count(total)),
    h('td', { class: 'num strong' }, '100 %')));
  const legend = table({ 'data-test': dataTest + '-legend', class: 'table table-stack legend-table' },
    [{ label: 'Slice' }, { label: 'Handshake code' }, { label: 'Grants', class: 'num' }, { label: 'Units', class: 'num' }, { label: 'Share', class: 'num' }],
    rows);
  return h('div', { class: 'pie-block', 'data-test': dataTest }, h('div', { class: 'pie-figure' }, pie), legend);
}
