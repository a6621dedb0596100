// Statistics: usage over time from GET /api/admin/stats, filtered by item,
// handshake code and period, as a trend line, a pie by handshake code for
// the period and one for today, and the table of buckets; the same figures
// as a CSV file (the same URL with format=csv, a plain link: a GET needs
// only the session cookie).

import * as api from './api.js';
import { h, replace, table, field, count, plural, unixUTC, showError, clearError } from './dom.js';
import { itemLabel } from './items.js';
import { trendChart, usagePie } from './chart.js';

const daySeconds = 86400;

const buckets = {
  '2h': { seconds: 2 * 3600, text: '2 h' },
  '1d': { seconds: daySeconds, text: '1 day' },
};

/// The periods to choose from; `days` null is the custom one.
const periods = [
  { value: '1', text: 'Last 24 hours', days: 1 },
  { value: '7', text: 'Last 7 days', days: 7 },
  { value: '30', text: 'Last 30 days', days: 30 },
  { value: '90', text: 'Last 90 days', days: 90 },
  { value: '400', text: 'Last 400 days', days: 400 },
  { value: 'custom', text: 'Custom dates', days: null },
];
const periodDefault = '7';
/// Longer periods switch the bucket to a day when chosen: 2-hour buckets
/// over months make a table nobody reads.
const twoHourBucketDaysMax = 7;
/// The trend line is never drawn narrower, even in a hidden or squeezed card.
const trendWidthMin = 280;

/// Midnight UTC of an <input type="date"> value, in Unix seconds, or null.
function dayStart(value) {
  const milliseconds = Date.parse(`${value}T00:00:00Z`);
  return /^\d{4}-\d{2}-\d{2}$/.test(value) && isFinite(milliseconds) ? milliseconds / 1000 : null;
}

/// The range to ask for: {from, to} in Unix seconds, or {problem} in words.
/// A "last N days" period ends where the current bucket ends, so every
/// bucket, the current one too, is whole.
function rangeOf(period, fromText, toText, bucket, nowSeconds) {
  const choice = periods.find((entry) => entry.value === period);
  if (choice && choice.days !== null) {
    const to = Math.ceil(nowSeconds / buckets[bucket].seconds) * buckets[bucket].seconds;
    return { from: to - choice.days * daySeconds, to };
  }
  const from = dayStart(fromText);
  const lastDay = dayStart(toText);
  if (from === null || lastDay === null) return { problem: 'Choose both dates of the custom period.' };
  if (lastDay < from) return { problem: 'The custom period ends before it starts: choose a later "To" date.' };
  return { from, to: lastDay + daySeconds };
}

function option(value, text, selected) {
  return h('option', { value, selected }, text);
}

/// Refills a filter's options, keeping the choice (even when the server no
/// longer lists it, so a filter never changes by itself).
function fillSelect(select, allText, values, labelOf) {
  const chosen = select.value;
  const all = Array.isArray(values) ? values.filter((value) => typeof value === 'string') : [];
  if (chosen && !all.includes(chosen)) all.push(chosen);
  replace(select, option('', allText, chosen === ''), all.map((value) => option(value, labelOf(value), value === chosen)));
}

const bucketColumns = [
  { label: 'Start (UTC)' }, { label: 'End (UTC)' }, { label: 'Grants', class: 'num' }, { label: 'Units', class: 'num' },
];

export const statsPage = {
  title: 'Statistics',
  auth: true,
  render(ctx) {
    const select = (id, children) => h('select', { id, 'data-test': id }, children);
    const itemSelect = select('stats-item', option('', 'All items', true));
    const codeSelect = select('stats-code', option('', 'All codes', true));
    const periodSelect = select('stats-period', periods.map((entry) => option(entry.value, entry.text, entry.value === periodDefault)));
    const bucketSelect = select('stats-bucket', [option('2h', '2 hours', true), option('1d', '1 day', false)]);
    const today = new Date().toISOString().slice(0, 10);
    const fromInput = h('input', { type: 'date', id: 'stats-from', 'data-test': 'stats-from', max: today });
    const toInput = h('input', { type: 'date', id: 'stats-to', 'data-test': 'stats-to', max: today, value: today });
    const customFields = h('div', { class: 'field-grid', hidden: true },
      field('From (UTC)', fromInput), field('To (UTC, the whole day)', toInput));
    const exportLink = h('a', { class: 'button', 'data-test': 'stats-csv', download: true, 'aria-disabled': 'true' }, 'Export CSV');
    const refresh = h('button', { type: 'button', class: 'button', 'data-test': 'stats-refresh' }, 'Refresh');
    const form = h('form', { class: 'card form', novalidate: true, 'aria-label': 'Filters' },
      h('div', { class: 'field-grid' },
        field('License item', itemSelect),
        field('Handshake code', codeSelect),
        field('Period', periodSelect),
        field('Bucket', bucketSelect)),
      customFields,
      h('div', { class: 'actions' }, refresh, exportLink),
      h('p', { class: 'hint' }, 'Times are UTC. The CSV file has one line per bucket, item and code.'));

    const totals = h('p', { class: 'muted', 'data-test': 'stats-totals', 'aria-live': 'polite' }, 'Loading…');
    const trendArea = h('div', { class: 'chart-area' });
    const periodPieArea = h('div', null);
    const todayPieArea = h('div', null);
    const showEmpty = h('input', { type: 'checkbox', id: 'stats-show-empty', 'data-test': 'stats-show-empty' });
    const tableArea = h('div', null);

    ctx.page.append(
      form,
      h('section', { class: 'card' }, h('h2', null, 'Usage over time'), totals, trendArea),
      h('div', { class: 'grid' },
        h('section', { class: 'card' }, h('h2', null, 'By handshake code, in the period'), periodPieArea),
        h('section', { class: 'card' }, h('h2', null, 'By handshake code, today (UTC)'), todayPieArea)),
      h('section', { class: 'card' },
        h('div', { class: 'card-head' },
          h('h2', null, 'Buckets'),
          h('div', { class: 'check' }, showEmpty, h('label', { for: 'stats-show-empty' }, 'Show empty buckets'))),
        tableArea));

    /// The answer shown, so a resize or the checkbox redraws without asking again.
    let shown = null;
    /// Counts requests: a slow answer to an older filter is dropped.
    let requests = 0;
    let itemLabels = new Map();

    const drawTrend = () => {
      if (!shown) return;
      const rows = Array.isArray(shown.rows) ? shown.rows : [];
      if (rows.length === 0) {
        replace(trendArea, h('p', { class: 'empty' }, 'No buckets in this period.'));
        return;
      }
      const bucket = buckets[shown.bucket] || buckets[bucketSelect.value];
      replace(trendArea, trendChart(rows, Math.max(trendArea.clientWidth, trendWidthMin), bucket.text, 'stats-trend'));
    };

    const drawTable = () => {
      if (!shown) return;
      const rows = Array.isArray(shown.rows) ? shown.rows : [];
      const listed = showEmpty.checked ? rows : rows.filter((row) => row.grants > 0 || row.units > 0);
      if (listed.length === 0) {
        replace(tableArea, h('p', { class: 'empty' }, rows.length === 0 ? 'No buckets in this period.' : 'No usage in this period.'));
        return;
      }
      replace(tableArea,
        table({ 'data-test': 'stats-table' }, bucketColumns, listed.map((row) => h('tr', { 'data-start': row.start, 'data-grants': row.grants, 'data-units': row.units },
          h('td', { class: 'nowrap' }, unixUTC(row.start, false)),
          h('td', { class: 'nowrap' }, unixUTC(row.end, false)),
          h('td', { class: 'num' }, count(row.grants)),
          h('td', { class: 'num' }, count(row.units))))),
        h('p', { class: 'muted small table-note' }, showEmpty.checked
          ? `${rows.length} buckets.`
          : `${listed.length} of ${rows.length} buckets had usage.`));
    };

    const show = (stats) => {
      shown = stats;
      const rows = Array.isArray(stats.rows) ? stats.rows : [];
      const units = rows.reduce((total, row) => total + row.units, 0);
      const grants = rows.reduce((total, row) => total + row.grants, 0);
      totals.textContent = `${plural(units, 'unit')} in ${plural(grants, 'grant')} from ${unixUTC(stats.from, false)} to ${unixUTC(stats.to, false)}.`;
      drawTrend();
      replace(periodPieArea, usagePie(stats.byCode, 'pie-period', 'in the period'));
      replace(todayPieArea, usagePie(stats.byCodeToday, 'pie-today', 'today'));
      drawTable();
    };

    const load = async () => {
      const range = rangeOf(periodSelect.value, fromInput.value, toInput.value, bucketSelect.value, Math.floor(Date.now() / 1000));
      if (range.problem) {
        showError(range.problem);
        return;
      }
      const query = new URLSearchParams();
      if (itemSelect.value) query.set('item', itemSelect.value);
      if (codeSelect.value) query.set('code', codeSelect.value);
      query.set('from', String(range.from));
      query.set('to', String(range.to));
      query.set('bucket', bucketSelect.value);
      const request = ++requests;
      let stats;
      try {
        stats = await api.get('admin/stats?' + query);
      } catch (error) {
        if (!ctx.current || request !== requests) return;
        totals.textContent = 'The statistics could not be loaded.';
        ctx.fail(error);
        return;
      }
      if (!ctx.current || request !== requests) return;
      clearError();
      fillSelect(itemSelect, 'All items', stats.items, (id) => itemLabels.get(id) || id);
      fillSelect(codeSelect, 'All codes', stats.codes, (code) => code);
      query.set('format', 'csv');
      exportLink.href = `${api.prefix}/api/admin/stats?${query}`;
      exportLink.removeAttribute('aria-disabled');
      show(stats);
    };

    periodSelect.addEventListener('change', () => {
      const choice = periods.find((entry) => entry.value === periodSelect.value);
      customFields.hidden = choice.days !== null;
      if (choice.days !== null) bucketSelect.value = choice.days > twoHourBucketDaysMax ? '1d' : '2h';
      else if (!fromInput.value) fromInput.value = new Date(Date.now() - 6 * daySeconds * 1000).toISOString().slice(0, 10);
      load();
    });
    for (const input of [itemSelect, codeSelect, bucketSelect, fromInput, toInput]) input.addEventListener('change', load);
    refresh.addEventListener('click', load);
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      load();
    });
    showEmpty.addEventListener('change', drawTable);

    // The trend line is drawn at the width it has, so its text stays legible on a phone.
    let drawnWidth = 0;
    const resized = new ResizeObserver(() => {
      if (trendArea.clientWidth === drawnWidth) return;
      drawnWidth = trendArea.clientWidth;
      drawTrend();
    });
    resized.observe(trendArea);
    ctx.onLeave(() => resized.disconnect());

    // Items are named as everywhere (itemLabel) when the list can be read; by ID otherwise.
    const labels = api.get('admin/items').then((items) => {
      itemLabels = new Map((Array.isArray(items) ? items : []).map((item) => [item.itemId, itemLabel(item)]));
    }, () => {});
    return labels.then(load);
  },
};
