// License Items: import a license file (POST /api/admin/licenses with the
// file's bytes) and the table of activated items (GET /api/admin/items).

import * as api from './api.js';
import { h, replace, table, badge, dash, utc, utcDay, count, showError, showNotice, clearError } from './dom.js';

/// Words for a charge way; `window` is a device item's counting window.
export function chargeWayText(item) {
  switch (item.chargeWay) {
    case 'scan': return 'per scan';
    case 'device': return item.activeWindow ? `per device, each ${item.activeWindow}` : 'per device';
    case 'concurrentInstance': return 'concurrent instances';
    case 'concurrentDevice': return 'concurrent devices';
    case 'domain': return 'per web domain';
    default: return dash(item.chargeWay);
  }
}

function graceBadge(state) {
  switch (state) {
    case 'none': return badge('in force', 'good');
    case 'quota': return badge('over quota, in grace', 'warn');
    case 'expiry': return badge('expired, in grace', 'warn');
    case 'expired': return badge('expired', 'bad');
    default: return badge(dash(state), 'neutral');
  }
}

/// The item's name everywhere in the portal, the one alert emails use too
/// (the API's displayName: product, edition and the start of the ID,
/// "dbr js (item 3f2a1b9c)"), so two items of one product stay apart.
export function itemLabel(item) {
  return item.displayName || item.itemId;
}

const columns = [
  { label: 'Item' }, { label: 'Charge way' },
  { label: 'Quantity', class: 'num' }, { label: 'Used', class: 'num' }, { label: 'Remaining', class: 'num' },
  { label: 'Starts' }, { label: 'Expires' }, { label: 'Grace state' }, { label: 'License alias' },
];

function itemRow(item) {
  return h('tr', { 'data-item-id': item.itemId, 'data-product': item.product },
    h('td', { class: 'strong', title: `Item ID ${item.itemId}` }, itemLabel(item)),
    h('td', null, chargeWayText(item)),
    h('td', { class: 'num' }, count(item.quantity)),
    h('td', { class: 'num' }, count(item.used)),
    h('td', { class: 'num' }, count(item.remaining)),
    h('td', { class: 'nowrap', title: utc(item.startsAt) }, utcDay(item.startsAt)),
    h('td', { class: 'nowrap', title: utc(item.expiresAt) }, utcDay(item.expiresAt)),
    h('td', null, graceBadge(item.graceState)),
    h('td', { title: item.licenseId ? `License ID ${item.licenseId}` : null }, dash(item.alias)));
}

export const itemsPage = {
  title: 'License Items',
  auth: true,
  render(ctx) {
    const input = h('input', { type: 'file', id: 'license-file', class: 'file-input', 'data-test': 'license-file' });
    const chosen = h('span', { class: 'muted', id: 'license-file-name' }, 'No file selected.');
    const importButton = h('button', { type: 'submit', class: 'button button-primary', 'data-test': 'import' }, 'Import');
    input.addEventListener('change', () => {
      const file = input.files && input.files[0];
      chosen.textContent = file ? `${file.name} (${file.size.toLocaleString()} bytes)` : 'No file selected.';
    });
    const form = h('form', { class: 'import-row', novalidate: true },
      h('label', { for: 'license-file', class: 'button file-label' }, 'Select File'),
      input, chosen, importButton);

    const listArea = h('div', { 'aria-live': 'polite' }, h('p', { class: 'muted' }, 'Loading license items…'));
    const refresh = h('button', { type: 'button', class: 'button button-small' }, 'Refresh');

    ctx.page.append(
      h('section', { class: 'card' },
        h('h2', null, 'Import a License File'),
        h('p', { class: 'muted' }, 'A license file comes signed from the vendor. Its items are counted from the moment it is imported, and a handshake code is created for it.'),
        form),
      h('section', { class: 'card' },
        h('div', { class: 'card-head' }, h('h2', null, 'Activated License Items'), refresh),
        listArea));

    const load = async () => {
      let items;
      try {
        items = await api.get('admin/items');
      } catch (error) {
        if (!ctx.current) return;
        replace(listArea, h('p', { class: 'muted' }, 'The license items could not be loaded.'));
        ctx.fail(error);
        return;
      }
      if (!ctx.current) return;
      if (!Array.isArray(items) || items.length === 0) {
        replace(listArea, h('p', { class: 'empty' }, 'No license items yet. Import a license file above to activate its items.'));
        return;
      }
      replace(listArea, table({ 'data-test': 'items-table' }, columns, items.map(itemRow)),
        h('p', { class: 'muted small table-note' }, 'Dates are UTC; an item keeps working for 7 days past its expiry (grace).'));
    };
    refresh.addEventListener('click', () => { clearError(); load(); });

    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      clearError();
      const file = input.files && input.files[0];
      if (!file) {
        showError('Select a license file first.', { focus: true });
        return;
      }
      importButton.disabled = true;
      importButton.textContent = 'Importing…';
      try {
        const bytes = await file.arrayBuffer();
        const answer = await api.post('admin/licenses', bytes);
        if (!ctx.current) return;
        const count = Array.isArray(answer.items) ? answer.items.length : 0;
        form.reset();
        chosen.textContent = 'No file selected.';
        showNotice(`Imported license ${answer.licenseId}: ${count} item${count === 1 ? '' : 's'}. ` +
          `The handshake code ${answer.handshakeCode} was created for it.`, { focus: true });
        await load();
      } catch (error) {
        ctx.fail(error, { focus: true });
      } finally {
        importButton.disabled = false;
        importButton.textContent = 'Import';
      }
    });

    return load();
  },
};
