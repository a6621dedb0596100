// Small DOM helpers. Text from the server goes in with textContent only,
// never as HTML, so nothing it says can run as script.

import { ApiError } from './api.js';

/// Creates an element: h('a', {href: '#/x', 'data-test': 'nav'}, 'text', child…).
/// Attributes: `class`, `text`, `on<event>` (a listener), booleans (set
/// when true, left out when false), anything else as a string attribute.
export function h(tag, attrs, ...children) {
  const element = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith('on') && typeof value === 'function') {
      element.addEventListener(key.slice(2), value);
    } else if (key === 'text') {
      element.textContent = String(value);
    } else if (value === true) {
      element.setAttribute(key, '');
    } else {
      element.setAttribute(key, String(value));
    }
  }
  append(element, children);
  return element;
}

function append(element, children) {
  for (const child of children) {
    if (child === undefined || child === null || child === false) continue;
    if (Array.isArray(child)) append(element, child);
    else element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

export const $ = (id) => document.getElementById(id);

export function replace(element, ...children) {
  element.replaceChildren();
  append(element, children);
}

// MARK: Focus

/// Moves the keyboard focus to `element` (a heading, a message, a table
/// row: what an action changed), so a keyboard or screen reader user goes
/// on from there instead of from the top of the page. An element that is
/// not focusable of itself becomes focusable by script only (tabindex -1).
export function focusOn(element) {
  if (!element || !element.isConnected || element.hidden) return;
  if (element.tabIndex < 0 && !element.hasAttribute('tabindex')) element.setAttribute('tabindex', '-1');
  element.focus();
}

/// Replaces an area's content as `replace` does; when the focus was in it
/// (a refresh while the admin reads), it goes to the control at the same
/// place in the new content, not back to the top of the page.
export function refill(area, ...children) {
  const focusables = () => Array.from(area.querySelectorAll('a[href], button, input, select, textarea, summary, [tabindex]'));
  const index = area.contains(document.activeElement) ? focusables().indexOf(document.activeElement) : -1;
  replace(area, ...children);
  if (index < 0) return;
  const now = focusables();
  focusOn(now[Math.min(index, now.length - 1)] || area);
}

// MARK: Messages

const errorArea = () => $('error');
const noticeArea = () => $('notice');

/// Shows an error in words: an ApiError as "message (code)", anything else
/// by its message. A standby's refusal links to the primary's portal.
/// `focus`: the answer to an action the admin took moves the focus there.
export function showError(error, { focus = false } = {}) {
  const area = errorArea();
  const parts = [];
  if (error instanceof ApiError) {
    parts.push(error.text);
    const primary = safeURL(error.primary);
    if (primary) {
      parts.push(' ', h('a', { href: portalURL(primary) }, 'Open the primary\'s portal'));
    }
  } else if (typeof error === 'string') {
    parts.push(error);
  } else {
    parts.push(error && error.message ? error.message : String(error));
  }
  replace(area, ...parts);
  area.hidden = false;
  clearNotice();
  revealIfHidden(area);
  if (focus) focusOn(area);
}

/// Scrolls a message into sight when the page is scrolled past it (a long
/// form's error shows at the top of the page).
function revealIfHidden(element) {
  const box = element.getBoundingClientRect();
  if (box.top < 0 || box.bottom > window.innerHeight) element.scrollIntoView({ block: 'nearest' });
}

export function clearError() {
  const area = errorArea();
  area.hidden = true;
  area.replaceChildren();
}

/// Shows what an action did; `focus` moves the focus to it (when the
/// action's own control is gone or busy).
export function showNotice(text, { focus = false } = {}) {
  const area = noticeArea();
  area.textContent = text;
  area.hidden = false;
  clearError();
  revealIfHidden(area);
  if (focus) focusOn(area);
}

export function clearNotice() {
  const area = noticeArea();
  area.hidden = true;
  area.textContent = '';
}

// MARK: Confirmation dialog

let pendingConfirm = null;

/// Asks in a modal dialog; resolves to true when the user confirms.
export function confirmDialog({ title, text, confirmLabel = 'Confirm', danger = true }) {
  const dialog = $('confirm-dialog');
  if (pendingConfirm) pendingConfirm(false);
  $('confirm-title').textContent = title;
  $('confirm-text').textContent = text;
  const ok = $('confirm-ok');
  ok.textContent = confirmLabel;
  ok.classList.toggle('button-danger', danger);
  ok.classList.toggle('button-primary', !danger);
  return new Promise((resolve) => {
    pendingConfirm = (answer) => {
      pendingConfirm = null;
      if (dialog.open) dialog.close();
      resolve(answer);
    };
    dialog.showModal();
    $('confirm-cancel').focus();
  });
}

export function installDialog() {
  const dialog = $('confirm-dialog');
  $('confirm-ok').addEventListener('click', () => pendingConfirm && pendingConfirm(true));
  $('confirm-cancel').addEventListener('click', () => pendingConfirm && pendingConfirm(false));
  // Escape closes a modal dialog by itself: count it as "cancel".
  dialog.addEventListener('close', () => pendingConfirm && pendingConfirm(false));
  $('confirm-form').addEventListener('submit', (event) => event.preventDefault());
}

export function closeDialog() {
  if (pendingConfirm) pendingConfirm(false);
}

// MARK: Formatting

/// `value` when it is an http(s) URL, else null (a URL from the server
/// becomes a link only when it cannot run script).
export function safeURL(value) {
  if (typeof value !== 'string' || !value) return null;
  try {
    const url = new URL(value, location.href);
    return url.protocol === 'https:' || url.protocol === 'http:' ? url.href : null;
  } catch (e) {
    return null;
  }
}

/// The portal of the node whose base URL is `base` ("https://host/dls/").
export function portalURL(base) {
  return (base.endsWith('/') ? base : base + '/') + 'page/#/index.html';
}

export function dash(value) {
  return value === undefined || value === null || value === '' ? '—' : String(value);
}

/// Milliseconds in words: "850 ms", "3.2 s", "4 min 5 s".
export function duration(ms) {
  if (typeof ms !== 'number' || !isFinite(ms)) return '—';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60000) return `${(ms / 1000).toFixed(1)} s`;
  const seconds = Math.round(ms / 1000);
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ${seconds % 60} s`;
  return `${Math.floor(seconds / 3600)} h ${Math.floor(seconds % 3600 / 60)} min`;
}

/// "2027-12-31T23:59:59Z" → "2027-12-31 23:59:59 UTC".
export function utc(text) {
  if (typeof text !== 'string' || !text) return '—';
  const match = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2}:\d{2})(?:\.\d+)?Z$/.exec(text);
  return match ? `${match[1]} ${match[2]} UTC` : text;
}

/// Unix seconds → "2027-12-31 23:59:59 UTC"; `withSeconds` false drops the
/// seconds ("2027-12-31 23:59 UTC").
export function unixUTC(seconds, withSeconds = true) {
  if (typeof seconds !== 'number' || !isFinite(seconds)) return '—';
  const text = utc(new Date(seconds * 1000).toISOString());
  return withSeconds ? text : text.replace(/:\d{2} UTC$/, ' UTC');
}

/// The words for a peer's state (README, "HTTP API").
export function peerStateText(state) {
  switch (state) {
    case 'attached': return 'attached';
    case 'sendingSnapshot': return 'sending a snapshot';
    case 'receivingSnapshot': return 'receiving a snapshot';
    case 'diverged': return 'diverged';
    case 'unreachable': return 'unreachable';
    default: return dash(state);
  }
}

/// A status word with a colour that tells good, warning and bad apart;
/// the word alone carries the meaning.
export function badge(text, tone, attrs) {
  return h('span', Object.assign({ class: `badge badge-${tone || 'neutral'}` }, attrs || {}), text);
}

export function peerTone(state) {
  if (state === 'attached') return 'good';
  if (state === 'sendingSnapshot' || state === 'receivingSnapshot') return 'warn';
  if (state === 'diverged' || state === 'unreachable') return 'bad';
  return 'neutral';
}

/// A form field: its label above the input (which must have an id), and
/// an optional hint below.
export function field(label, input, hint) {
  return h('div', { class: 'field' },
    h('label', { for: input.id }, label),
    input,
    hint ? h('p', { class: 'hint' }, hint) : null);
}

/// A definition list of [label, value, attrs?] rows; value may be a node.
export function facts(rows) {
  return h('dl', { class: 'facts' }, rows.map(([label, value, attrs]) => [
    h('dt', null, label),
    h('dd', attrs || null, value instanceof Node ? value : dash(value)),
  ]));
}

/// A table in a horizontally scrolling container (between phone and desktop
/// widths the table scrolls, never the page); on a phone its rows stack as cards, each cell under
/// its column's name (data-label). `columns`: [{label, class?}]; `rows`: tr
/// elements.
export function table(attrs, columns, rows) {
  for (const row of rows) {
    Array.from(row.children).forEach((cell, index) => {
      if (columns[index]) cell.setAttribute('data-label', columns[index].label);
      // One box for the cell's content, so a stacked cell is two columns: name and content.
      const content = h('div', { class: 'cell' });
      content.append(...cell.childNodes);
      cell.append(content);
    });
  }
  return h('div', { class: 'table-wrap' },
    h('table', Object.assign({ class: 'table table-stack' }, attrs),
      h('thead', null, h('tr', null, columns.map((column) => h('th', { scope: 'col', class: column.class }, column.label)))),
      h('tbody', null, rows)));
}

/// "1000000" → "1,000,000" (the same on every browser locale).
export function count(value) {
  return typeof value === 'number' ? value.toLocaleString('en-US') : dash(value);
}

/// A count and its noun: plural(1, 'unit') → "1 unit", plural(1200, 'unit') → "1,200 units".
export function plural(value, noun) {
  return `${count(value)} ${noun}${value === 1 ? '' : 's'}`;
}

/// "2027-12-31T23:59:59Z" → "2027-12-31": the day, in UTC.
export function utcDay(text) {
  if (typeof text !== 'string' || !text) return '—';
  const match = /^(\d{4}-\d{2}-\d{2})T/.exec(text);
  return match ? match[1] : text;
}

/// Splits "a, b ,c" into ["a","b","c"] (empty entries dropped).
export function splitList(text) {
  return text.split(',').map((part) => part.trim()).filter((part) => part.length > 0);
}

/// Copies `text` to the clipboard, or, without clipboard access, selects
/// `element` so Ctrl+C copies it; says which in the notice area.
export async function copyText(text, element, what) {
  try {
    if (!navigator.clipboard || !window.isSecureContext) throw new Error('no clipboard');
    await navigator.clipboard.writeText(text);
    showNotice(`${what} is copied.`);
  } catch (e) {
    const range = document.createRange();
    range.selectNodeContents(element);
    const selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
    showNotice(`${what} is selected: press Ctrl+C (⌘C) to copy it.`);
  }
}

/// A refresh for `ctx.poll`: `load` fetches, `show` draws what it got. A
/// failed refresh shows in `updated` and the error area until one works again.
export function refresher(ctx, updated, everySeconds, load, show) {
  let failed = false;
  return async () => {
    let data;
    try {
      data = await load();
    } catch (error) {
      if (!ctx.current) return;
      failed = true;
      updated.textContent = `Could not refresh at ${new Date().toLocaleTimeString()}; retrying every ${everySeconds} s.`;
      ctx.fail(error);
      return;
    }
    if (!ctx.current) return;
    if (failed) {
      failed = false;
      clearError();
    }
    show(data);
  };
}
