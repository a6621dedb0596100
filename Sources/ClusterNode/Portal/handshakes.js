// Handshake codes: the list (GET /api/admin/handshakes, with GET
// /api/admin/items for the items' names), add (POST), edit (PUT
// /api/admin/handshakes/{code}), delete (DELETE, after a confirmation) and
// each code's client key (GET /api/admin/handshakes/{code}/client-key).

import * as api from './api.js';
import { $, h, replace, table, utcDay, count, badge, splitList, showError, showNotice, clearError, confirmDialog, copyText, focusOn } from './dom.js';
import { itemLabel, chargeWayText } from './items.js';

const columns = [
  { label: 'Code' }, { label: 'License items and their usage' }, { label: 'Validation' }, { label: 'Session password' }, { label: 'Actions', class: 'actions-col' },
];

function validationCell(validation) {
  const rules = validation || {};
  const rows = [['Domains', rules.domains], ['App IDs', rules.appIds], ['Processes', rules.processes]]
    .filter(([, list]) => Array.isArray(list) && list.length > 0);
  if (rows.length === 0) return h('span', { class: 'muted' }, 'any client');
  return h('dl', { class: 'mini-facts' }, rows.map(([label, list]) => [h('dt', null, label), h('dd', null, list.join(', '))]));
}

/// What this code uses of an item, beside the item's use over every code
/// (both from the code's `itemUsage`, taken at one time), its quantity, and
/// the part no code is known for (use counted before the server counted codes).
function usageText(usage, item) {
  const parts = [`this code: ${count(usage.usedByThisCode)} of the item's ${count(usage.used)} used (quantity ${count(item.quantity)})`];
  if (usage.usedUnattributed > 0) parts.push(`${count(usage.usedUnattributed)} of them from before use was counted per code`);
  return parts.join('; ');
}

function itemsCell(handshake, itemsById) {
  const ids = Array.isArray(handshake.items) ? handshake.items : [];
  if (ids.length === 0) return h('span', { class: 'muted' }, 'none');
  const usageById = new Map((Array.isArray(handshake.itemUsage) ? handshake.itemUsage : []).map((usage) => [usage.itemId, usage]));
  return h('div', null,
    h('ol', { class: 'item-list' }, ids.map((id) => {
      const item = itemsById.get(id);
      const usage = usageById.get(id);
      if (!item || !usage) return h('li', { title: id }, `${id} (no longer imported)`);
      return h('li', { title: id, 'data-item-id': id }, itemLabel(item), ' ',
        h('span', {
          class: 'muted small item-usage', 'data-test': 'handshake-item-usage',
          'data-used-by-code': String(usage.usedByThisCode), 'data-used': String(usage.used),
        }, usageText(usage, item)));
    })),
    h('p', { class: 'muted small' }, handshake.explicitOrder ? 'Tried in this order.' : 'Closest expiry first.'));
}

/// The add / edit form. `handshake` is null to add a new code.
function handshakeForm(ctx, { handshake, items, organizations, onDone }) {
  const editing = handshake !== null;
  const chosen = new Set(editing ? handshake.items : []);
  // Rows in the order shown: the code's items first, in its order, then the others.
  const ordered = editing ? handshake.items.slice() : [];
  for (const item of items) if (!ordered.includes(item.itemId)) ordered.push(item.itemId);
  const itemsById = new Map(items.map((item) => [item.itemId, item]));

  const codeInput = editing ? null : h('input', {
    type: 'text', id: 'handshake-code', 'data-test': 'handshake-code', required: true, autocomplete: 'off', spellcheck: 'false',
    placeholder: organizations.length ? `${organizations[0]}-project` : 'organization-project',
  });
  const explicitOrder = h('input', { type: 'checkbox', id: 'handshake-explicit-order', 'data-test': 'handshake-explicit-order', checked: editing && handshake.explicitOrder });
  const list = h('ol', { class: 'order-list', id: 'handshake-items' });

  const moveButton = (label, direction) => h('button', {
    type: 'button', class: 'button button-small button-icon', 'aria-label': label, title: label,
    onclick: (event) => {
      const row = event.currentTarget.closest('li');
      const other = direction < 0 ? row.previousElementSibling : row.nextElementSibling;
      if (!other) return;
      if (direction < 0) list.insertBefore(row, other);
      else list.insertBefore(other, row);
      // Moving an item only matters with a fixed order: turn it on.
      explicitOrder.checked = true;
      const button = event.currentTarget;
      updateMoveButtons();
      // At the top or bottom the button is disabled: its twin keeps the focus.
      const [up, down] = row.querySelectorAll('.order-buttons button');
      focusOn(button.disabled ? (button === up ? down : up) : button);
    },
  }, direction < 0 ? '↑' : '↓');

  for (const id of ordered) {
    const item = itemsById.get(id);
    const checkboxId = `handshake-item-${id}`;
    const name = item ? itemLabel(item) : id;
    list.append(h('li', { class: 'order-row', 'data-item-id': id },
      h('input', { type: 'checkbox', id: checkboxId, value: id, 'data-test': 'handshake-item', checked: chosen.has(id) }),
      h('label', { for: checkboxId },
        h('span', { class: 'strong' }, name),
        h('span', { class: 'muted small' }, item ? ` ${chargeWayText(item)}, quantity ${count(item.quantity)}, expires ${utcDay(item.expiresAt)}` : ' no longer imported')),
      h('span', { class: 'order-buttons' }, moveButton(`Move ${name} up`, -1), moveButton(`Move ${name} down`, 1))));
  }
  function updateMoveButtons() {
    const rows = Array.from(list.children);
    rows.forEach((row, index) => {
      const [up, down] = row.querySelectorAll('.order-buttons button');
      up.disabled = index === 0;
      down.disabled = index === rows.length - 1;
    });
  }
  updateMoveButtons();

  const rules = (editing && handshake.validation) || {};
  const textInput = (id, dataTest, values, placeholder) => h('input', {
    type: 'text', id, 'data-test': dataTest, value: (values || []).join(', '), placeholder, autocomplete: 'off', spellcheck: 'false',
  });
  const domains = textInput('validation-domains', 'validation-domains', rules.domains, 'e.g. example.com, *.example.org');
  const appIds = textInput('validation-app-ids', 'validation-app-ids', rules.appIds, 'e.g. com.example.scanner');
  const processes = textInput('validation-processes', 'validation-processes', rules.processes, 'e.g. scanner.exe');
  const sessionPassword = h('input', {
    type: 'password', id: 'handshake-session-password', 'data-test': 'handshake-session-password', autocomplete: 'new-password',
    placeholder: editing && handshake.hasSessionPassword ? 'Leave empty to keep the current one' : 'Optional',
  });
  const removePassword = editing && handshake.hasSessionPassword
    ? h('input', { type: 'checkbox', id: 'handshake-remove-password', 'data-test': 'handshake-remove-password' })
    : null;

  const save = h('button', { type: 'submit', class: 'button button-primary', 'data-test': 'save-handshake' }, editing ? 'Save changes' : 'Save the new code');
  const cancel = h('button', { type: 'button', class: 'button', 'data-test': 'cancel-handshake', onclick: () => onDone(null, editing ? handshake.code : null) }, 'Cancel');

  const field = (label, input, hint) => h('div', { class: 'field' }, h('label', { for: input.id }, label), input, hint ? h('p', { class: 'hint' }, hint) : null);
  const form = h('form', { class: 'card form', novalidate: true, 'aria-labelledby': 'handshake-form-title' },
    h('h2', { id: 'handshake-form-title' }, editing ? `Edit handshake code ${handshake.code}` : 'Add a handshake code'),
    editing
      ? h('p', null, 'Code: ', h('code', null, handshake.code))
      : field('Code', codeInput, 'The organization ID of an imported license, a "-", then a name of letters, digits, ".", "_" and "-".'),
    h('fieldset', { class: 'fieldset' },
      h('legend', null, 'License items'),
      items.length === 0 && !editing
        ? h('p', { class: 'empty' }, 'No license items yet: import a license file first.')
        : list,
      h('div', { class: 'check' }, explicitOrder, h('label', { for: 'handshake-explicit-order' }, 'Use the checked items in the order shown')),
      h('p', { class: 'hint' }, 'Otherwise a grant tries the item closest to its expiry first, then the most specific one.')),
    h('fieldset', { class: 'fieldset' },
      h('legend', null, 'Validation'),
      h('p', { class: 'hint' }, 'Comma-separated. An empty field allows any value.'),
      h('div', { class: 'field-grid' },
        field('Allowed web domains', domains),
        field('Allowed app IDs', appIds),
        field('Allowed process names', processes))),
    h('fieldset', { class: 'fieldset' },
      h('legend', null, 'Session password'),
      field('Session password', sessionPassword, 'Clients must send it with every call when set.'),
      removePassword ? h('div', { class: 'check' }, removePassword, h('label', { for: 'handshake-remove-password' }, 'Remove the session password')) : null),
    h('div', { class: 'actions' }, save, cancel));

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearError();
    const code = editing ? handshake.code : codeInput.value.trim();
    if (!code) {
      showError('Type the handshake code.');
      codeInput.focus();
      return;
    }
    const boxes = Array.from(list.querySelectorAll('input[data-test=handshake-item]'));
    const selected = boxes.filter((box) => box.checked).map((box) => box.value);
    if (selected.length === 0) {
      showError('Check one or more license items.');
      focusOn(boxes[0]);
      return;
    }
    const body = {
      items: selected,
      explicitOrder: explicitOrder.checked,
      validation: { domains: splitList(domains.value), appIds: splitList(appIds.value), processes: splitList(processes.value) },
    };
    // The API keeps the session password when the field is left out and
    // removes it when it is "".
    if (removePassword && removePassword.checked) body.sessionPassword = '';
    else if (sessionPassword.value) body.sessionPassword = sessionPassword.value;
    save.disabled = true;
    try {
      if (editing) await api.put('admin/handshakes/' + encodeURIComponent(code), body);
      else await api.post('admin/handshakes', Object.assign({ code }, body));
      if (!ctx.current) return;
      onDone(editing ? `The handshake code ${code} is saved.` : `The handshake code ${code} is added.`, code);
    } catch (error) {
      ctx.fail(error, { focus: true });
    } finally {
      save.disabled = false;
    }
  });
  return form;
}

export const handshakesPage = {
  title: 'Handshake Codes',
  auth: true,
  render(ctx) {
    const add = h('button', { type: 'button', class: 'button button-primary', 'data-test': 'add-handshake' }, 'Add handshake code');
    const formSlot = h('div');
    const keySlot = h('div');
    const listArea = h('div', { 'aria-live': 'polite' }, h('p', { class: 'muted' }, 'Loading handshake codes…'));
    let items = [];
    let handshakes = [];
    /// The code being edited, '' while adding, null with no form open.
    let formCode = null;

    ctx.page.append(
      h('p', { class: 'lead' }, 'A handshake code (a project) names the license items a client draws on and the rules the client must meet.'),
      h('div', { class: 'toolbar' }, add),
      formSlot,
      keySlot,
      h('section', { class: 'card' }, h('h2', null, 'Handshake codes'), listArea));

    /// The control of a code's row (`selector`), or the row itself.
    const rowOf = (code) => listArea.querySelector(`tr[data-code="${CSS.escape(code)}"]`);
    const controlOf = (code, selector) => {
      const row = code === null ? null : rowOf(code);
      return row ? row.querySelector(selector) : null;
    };
    /// Closes the form; the focus goes to the row of the code saved (with
    /// `message` said), or back to the button that opened the form.
    const closeForm = async (message, code) => {
      formSlot.replaceChildren();
      formCode = null;
      add.disabled = false;
      if (!message) {
        focusOn(controlOf(code, '[data-test=edit-handshake]') || add);
        return;
      }
      showNotice(message);
      await load();
      if (ctx.current) focusOn(rowOf(code) || $('notice'));
    };
    const openForm = (handshake) => {
      clearError();
      const organizations = Array.from(new Set(handshakes.map((entry) => entry.organizationId).filter(Boolean)));
      const form = handshakeForm(ctx, { handshake, items, organizations, onDone: closeForm });
      formSlot.replaceChildren(form);
      formCode = handshake ? handshake.code : '';
      add.disabled = handshake === null;
      form.scrollIntoView({ block: 'start', behavior: 'smooth' });
      const first = form.querySelector('input[data-test=handshake-code]') || form.querySelector('input');
      if (first) first.focus({ preventScroll: true });
    };
    add.addEventListener('click', () => openForm(null));

    const remove = async (handshake) => {
      const yes = await confirmDialog({
        title: `Delete the handshake code ${handshake.code}?`,
        text: 'Clients that use it are refused from then on (-20110). Its past grants are kept.',
        confirmLabel: 'Delete',
      });
      if (!yes || !ctx.current) return;
      clearError();
      try {
        await api.del('admin/handshakes/' + encodeURIComponent(handshake.code));
        if (!ctx.current) return;
        if (formCode === handshake.code) closeForm(null, null);
        showNotice(`The handshake code ${handshake.code} is deleted.`, { focus: true });
        await load();
      } catch (error) {
        ctx.fail(error, { focus: true });
      }
    };

    const showKey = async (handshake) => {
      clearError();
      let answer;
      try {
        answer = await api.get('admin/handshakes/' + encodeURIComponent(handshake.code) + '/client-key');
      } catch (error) {
        ctx.fail(error, { focus: true });
        return;
      }
      if (!ctx.current) return;
      const key = h('code', { class: 'client-key', 'data-test': 'client-key' }, answer.clientKey);
      const copy = h('button', { type: 'button', class: 'button button-small', 'data-test': 'copy-client-key' }, 'Copy');
      copy.addEventListener('click', () => copyText(answer.clientKey, key, 'The client key'));
      const close = h('button', {
        type: 'button', class: 'button button-small', 'aria-label': `Close the client key of ${handshake.code}`,
        onclick: () => {
          keySlot.replaceChildren();
          focusOn(controlOf(handshake.code, '[data-test=show-client-key]') || add);
        },
      }, 'Close');
      const title = h('h2', null, `Client key of ${handshake.code}`);
      keySlot.replaceChildren(h('section', { class: 'card' },
        title,
        h('p', { class: 'muted' }, 'One string with the servers, this code and the certificates to trust: give it to the client in place of separate settings (lts client authorize --key KEY …).'),
        key,
        h('div', { class: 'row-actions' }, copy, close)));
      keySlot.scrollIntoView({ block: 'start', behavior: 'smooth' });
      focusOn(title);
    };

    const row = (handshake, itemsById) => h('tr', { 'data-code': handshake.code },
      h('td', null, h('code', { class: 'strong' }, handshake.code)),
      h('td', null, itemsCell(handshake, itemsById)),
      h('td', null, validationCell(handshake.validation)),
      h('td', null, handshake.hasSessionPassword ? badge('set', 'info') : h('span', { class: 'muted' }, 'none')),
      h('td', { class: 'actions-col' },
        h('div', { class: 'row-actions' },
          h('button', { type: 'button', class: 'button button-small', 'data-test': 'show-client-key', 'aria-label': `Client key of ${handshake.code}`, onclick: () => showKey(handshake) }, 'Client key'),
          h('button', { type: 'button', class: 'button button-small', 'data-test': 'edit-handshake', 'aria-label': `Edit ${handshake.code}`, onclick: () => openForm(handshake) }, 'Edit'),
          h('button', { type: 'button', class: 'button button-small button-danger-quiet', 'data-test': 'delete-handshake', 'aria-label': `Delete ${handshake.code}`, onclick: () => remove(handshake) }, 'Delete'))));

    const load = async () => {
      let answers;
      try {
        answers = await Promise.all([api.get('admin/handshakes'), api.get('admin/items')]);
      } catch (error) {
        if (!ctx.current) return;
        replace(listArea, h('p', { class: 'muted' }, 'The handshake codes could not be loaded.'));
        ctx.fail(error);
        return;
      }
      if (!ctx.current) return;
      [handshakes, items] = answers.map((answer) => (Array.isArray(answer) ? answer : []));
      const itemsById = new Map(items.map((item) => [item.itemId, item]));
      if (handshakes.length === 0) {
        replace(listArea, h('p', { class: 'empty' }, 'No handshake codes yet. Importing a license file creates one; or add one above.'));
        return;
      }
      replace(listArea, table({ 'data-test': 'handshakes-table' }, columns, handshakes.map((handshake) => row(handshake, itemsById))));
    };

    return load();
  },
};
