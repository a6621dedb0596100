// Audit: the admin audit log (GET /api/admin/audit), newest first, with
// filters (action, actor, any text), pages of 50 (newer/older) and CSV and
// JSON exports of what the filters select (up to 1,000 entries).

import * as api from './api.js';
import { h, replace, table, badge, field, utc, dash, clearError } from './dom.js';

const pageSize = 50;
const exportMax = 1000;

/// The actions the server records (README, "Audit log").
const actions = [
  'login', 'lockout', 'logout', 'password-set', 'password-change', 'password-reset', 'license-import',
  'handshake-create', 'handshake-update', 'handshake-delete', 'alert-settings', 'alert-test', 'switchover', 'drill-report',
];

const columns = [
  { label: 'Time (UTC)' }, { label: 'Actor' }, { label: 'Address' }, { label: 'Action' }, { label: 'Object' }, { label: 'Result' },
];

function resultBadge(result) {
  return typeof result === 'string' && result === 'ok' ? badge('ok', 'good') : badge(dash(result), 'bad');
}

function entryRow(entry) {
  return h('tr', { 'data-audit-id': entry.id, 'data-action': entry.action, 'data-result': entry.result },
    h('td', { class: 'nowrap' }, utc(entry.at)),
    h('td', null, dash(entry.actor)),
    h('td', { class: 'nowrap' }, dash(entry.address)),
    h('td', { class: 'nowrap' }, dash(entry.action)),
    h('td', { class: 'break' }, dash(entry.object)),
    h('td', null, resultBadge(entry.result)));
}

export const auditPage = {
  title: 'Audit',
  auth: true,
  render(ctx) {
    const actionSelect = h('select', { id: 'audit-action', 'data-test': 'audit-action' },
      h('option', { value: '', selected: true }, 'All actions'),
      actions.map((action) => h('option', { value: action }, action)));
    const actorInput = h('input', { type: 'text', id: 'audit-actor', 'data-test': 'audit-actor', maxlength: 256, autocomplete: 'off' });
    const textInput = h('input', { type: 'text', id: 'audit-text', 'data-test': 'audit-text', maxlength: 256, autocomplete: 'off' });
    const apply = h('button', { type: 'submit', class: 'button button-primary', 'data-test': 'audit-apply' }, 'Apply');
    const csvLink = h('a', { class: 'button', 'data-test': 'audit-csv', download: 'lts-audit.csv' }, 'Export CSV');
    const jsonLink = h('a', { class: 'button', 'data-test': 'audit-json', download: 'lts-audit.json' }, 'Export JSON');
    const form = h('form', { class: 'card form', novalidate: true, 'aria-label': 'Filters' },
      h('div', { class: 'field-grid' },
        field('Action', actionSelect),
        field('Actor contains', actorInput),
        field('Any field contains', textInput)),
      h('div', { class: 'actions' }, apply, csvLink, jsonLink),
      h('p', { class: 'hint' }, `Times are UTC. Exports hold the newest ${exportMax.toLocaleString('en-US')} entries the filters select.`));

    const newer = h('button', { type: 'button', class: 'button button-small', 'data-test': 'audit-newer', disabled: true }, 'Newer');
    const older = h('button', { type: 'button', class: 'button button-small', 'data-test': 'audit-older', disabled: true }, 'Older');
    const status = h('p', { class: 'muted small', 'data-test': 'audit-status', 'aria-live': 'polite' }, 'Loading…');
    const listArea = h('div', null);

    ctx.page.append(form,
      h('section', { class: 'card' },
        h('div', { class: 'card-head' }, h('h2', null, 'Admin actions'), h('div', { class: 'toolbar' }, newer, older)),
        listArea, status));

    /// The `before` of each page shown so far (null: the newest); the last is the page shown.
    let pages = [null];
    /// Counts requests: a slow answer to an older query is dropped.
    let requests = 0;

    const filters = () => {
      const query = new URLSearchParams();
      if (actionSelect.value) query.set('action', actionSelect.value);
      if (actorInput.value.trim()) query.set('actor', actorInput.value.trim());
      if (textInput.value.trim()) query.set('text', textInput.value.trim());
      return query;
    };

    const exportHref = (format) => {
      const query = filters();
      query.set('limit', String(exportMax));
      query.set('format', format);
      return `${api.prefix}/api/admin/audit?${query}`;
    };

    const load = async () => {
      const query = filters();
      const before = pages[pages.length - 1];
      if (before !== null) query.set('before', String(before));
      // One more than a page tells whether there is an older one.
      query.set('limit', String(pageSize + 1));
      const request = ++requests;
      let entries;
      try {
        entries = await api.get('admin/audit?' + query);
      } catch (error) {
        if (!ctx.current || request !== requests) return;
        status.textContent = 'The audit log could not be loaded.';
        ctx.fail(error);
        return;
      }
      if (!ctx.current || request !== requests) return;
      clearError();
      const list = Array.isArray(entries) ? entries : [];
      const shown = list.slice(0, pageSize);
      const hasOlder = list.length > pageSize;
      csvLink.href = exportHref('csv');
      jsonLink.href = exportHref('json');
      if (shown.length === 0) {
        replace(listArea, h('p', { class: 'empty' }, pages.length > 1 ? 'No older entries.' : 'No audit entries match.'));
      } else {
        replace(listArea, table({ 'data-test': 'audit-table' }, columns, shown.map(entryRow)));
      }
      newer.disabled = pages.length <= 1;
      older.disabled = !hasOlder;
      older.dataset.before = hasOlder ? String(shown[shown.length - 1].id) : '';
      status.textContent = shown.length === 0 ? '' : `Page ${pages.length}: ${shown.length} entr${shown.length === 1 ? 'y' : 'ies'}, newest first.`;
    };

    const restart = () => {
      pages = [null];
      load();
    };
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      restart();
    });
    actionSelect.addEventListener('change', restart);
    newer.addEventListener('click', () => {
      if (pages.length > 1) pages.pop();
      load();
    });
    older.addEventListener('click', () => {
      if (!older.dataset.before) return;
      pages.push(Number(older.dataset.before));
      load();
    });
    return load();
  },
};
