// Drills: the drill reports kept in the pair's log (GET
// /api/admin/cluster/drills, newest first), as a list on the Cluster page,
// and one report as a printable page (#/drill?id=ID, from GET
// /api/admin/cluster/drills/{id}) with a link to its JSON. Both nodes keep
// the same reports. The report's fields are described in the README
// ("Drills"); its times are defined once, in the report's `definitions`.

import * as api from './api.js';
import { h, replace, table, badge, dash, duration, utc, safeURL } from './dom.js';

const ms = (value) => (typeof value === 'number' ? duration(value) : '—');

function resultBadge(drill) {
  if (typeof drill.passed !== 'boolean') return '—';
  return badge(drill.passed ? 'passed' : 'FAILED', drill.passed ? 'good' : 'bad');
}

/// A planned switchover is never called a fault.
function kindText(kind) {
  if (kind === 'failover') return 'failover (injected fault)';
  if (kind === 'switchover') return 'planned switchover';
  return dash(kind);
}

function eventAt(drill) {
  return drill.kind === 'switchover' ? drill.switchoverAt : (drill.faultAt ?? drill.switchoverAt);
}

/// The hash route of one report's page.
export function drillRoute(id) {
  return `#/drill?id=${encodeURIComponent(id)}`;
}

/// The URL of one report's JSON on this node (the session cookie opens it).
function jsonURL(id) {
  return `${api.prefix}/api/admin/cluster/drills/${encodeURIComponent(id)}`;
}

function problemsText(drill) {
  return `lost ${dash(drill.lost)}, changed ${dash(drill.changed ?? 0)}, duplicated ${dash(drill.duplicated)}`;
}

/// The list of kept drills, newest first, for the Cluster page.
export function drillsTable(drills) {
  if (!Array.isArray(drills) || drills.length === 0) {
    return h('p', { class: 'empty' }, 'No drill report is kept yet: run lts drill failover or lts drill switchover (see the README, "Drills").');
  }
  const rows = drills.filter((drill) => drill && typeof drill === 'object').map((drill) => {
    const id = typeof drill.id === 'string' ? drill.id : null;
    // Each row's links carry the drill in their names, so no two share one.
    const which = `the ${kindText(drill.kind)} drill of ${utc(drill.startedAt ?? eventAt(drill))} (${id ? id.slice(0, 8) : ''})`;
    return h('tr', { 'data-test': 'drill-row' },
      h('td', null, utc(drill.startedAt ?? eventAt(drill))),
      h('td', null, kindText(drill.kind)),
      h('td', null, resultBadge(drill)),
      h('td', null, ms(drill.detectionMs)),
      h('td', null, ms(drill.promotionMs)),
      h('td', null, ms(drill.outageMs)),
      h('td', null, problemsText(drill)),
      h('td', { class: 'actions-col' }, id
        ? [h('a', { href: drillRoute(id), 'data-test': 'drill-report-link', 'aria-label': `Report of ${which}` }, 'Report'), ' · ',
          h('a', { href: jsonURL(id), 'data-test': 'drill-json-link', target: '_blank', rel: 'noopener', 'aria-label': `JSON of ${which}` }, 'JSON')]
        : '—'));
  });
  return table({ 'data-test': 'drills-table' },
    [{ label: 'Started' }, { label: 'Kind' }, { label: 'Result' }, { label: 'Detection' }, { label: 'Promotion' },
      { label: 'Outage' }, { label: 'Problems' }, { label: 'Open', class: 'actions-col' }], rows);
}

function keyValue(rows, attrs) {
  return h('div', { class: 'table-wrap table-wrap-narrow' },
    h('table', Object.assign({ class: 'table table-keyvalue' }, attrs || {}),
      h('tbody', null, rows.map(([label, value]) => h('tr', null, h('th', { scope: 'row' }, label), h('td', null, value))))));
}

function urlText(value) {
  return safeURL(value) || dash(value);
}

function idList(ids) {
  return Array.isArray(ids) && ids.length ? ids.join(', ') : 'none';
}

/// One report, every field, as a page that prints on its own (print.css
/// leaves out the portal's navigation and buttons).
function reportView(drill) {
  const acknowledged = drill.acknowledged || {};
  const definitions = drill.definitions && typeof drill.definitions === 'object' ? drill.definitions : {};
  const load = drill.load && typeof drill.load === 'object' ? drill.load : {};
  const event = drill.kind === 'switchover' ? 'Switchover requested at' : 'Fault injected at';
  const summary = keyValue([
    ['Report ID', dash(drill.id)],
    ['Kind', kindText(drill.kind)],
    ['Verdict', h('span', null, resultBadge(drill), ' ', dash(drill.verdict))],
    ['Run by', dash(drill.ranBy)],
    ['Started', utc(drill.startedAt)],
    ['Ended', utc(drill.endedAt)],
    [event, utc(eventAt(drill))],
    ['How', dash(drill.injection)],
    ['Term', `${dash(drill.termBefore)} → ${dash(drill.termAfter)}`],
    ['Primary after the drill', urlText(drill.newPrimary)],
    ['Load', `${dash(drill.clients)} clients on ${dash(load.handshakeCode)} for ${typeof drill.loadSeconds === 'number' ? drill.loadSeconds.toFixed(1) : '—'} s`
      + (load.drillItem === true ? ' (the drill item: no customer quota used)' : load.drillItem === false ? ' (a customer\'s handshake code: its quota was used)' : '')],
  ], { 'data-test': 'drill-summary' });
  const measures = [
    ['Detection', drill.detectionMs, definitions.detectionMs],
    ['Promotion', drill.promotionMs, definitions.promotionMs],
    ['Client-visible outage', drill.outageMs, definitions.outageMs],
    ['Old primary back', drill.rejoinMs, definitions.rejoinMs],
  ];
  if (typeof drill.backPromotionMs === 'number') {
    measures.push(['Switch back: promotion', drill.backPromotionMs, 'as promotion, for the switchover back'],
      ['Switch back: outage', drill.backOutageMs, 'as outage, for the switchover back']);
  }
  const measuresTable = table({ 'data-test': 'drill-measures' }, [{ label: 'Measure' }, { label: 'Value' }, { label: 'Definition' }],
    measures.map(([label, value, definition]) => h('tr', null, h('td', null, label), h('td', null, ms(value)), h('td', null, dash(definition)))));
  const nodes = Array.isArray(drill.nodes) ? drill.nodes.filter((node) => node && typeof node === 'object') : [];
  const pid = (before, after) => (before === after || after === undefined || after === null ? dash(before) : `${dash(before)} → ${dash(after)}`);
  const nodesTable = table({ 'data-test': 'drill-nodes' },
    [{ label: 'URL' }, { label: 'Node UUID' }, { label: 'Version' }, { label: 'Role' }, { label: 'pid' }],
    nodes.map((node) => h('tr', null,
      h('td', { class: 'break' }, urlText(node.url)), h('td', { class: 'break' }, dash(node.uuid)), h('td', null, dash(node.version)),
      h('td', null, `${dash(node.roleBefore)} → ${dash(node.roleAfter)}`), h('td', null, pid(node.pidBefore, node.pidAfter)))));
  const grants = keyValue([
    ['Acknowledged before', dash(acknowledged.before)],
    ['Acknowledged during', dash(acknowledged.during)],
    ['Acknowledged after', dash(acknowledged.after)],
    ['Lost (acknowledged, not listed)', `${dash(drill.lost)}: ${idList(drill.lostIds)}`],
    ['Changed (listed under another grant)', `${dash(drill.changed ?? 0)}: ${idList(drill.changedIds)}`],
    ['Duplicated (listed twice)', `${dash(drill.duplicated)}: ${idList(drill.duplicatedIds)}`],
  ], { 'data-test': 'drill-grants' });
  return [
    h('section', { class: 'card' }, h('h2', null, 'Summary'), summary),
    h('section', { class: 'card' }, h('h2', null, 'Measures'), measuresTable),
    h('section', { class: 'card' }, h('h2', null, 'Nodes'), nodesTable),
    h('section', { class: 'card' }, h('h2', null, 'Grants'),
      h('p', { class: 'hint' }, 'Checked against the grant list of the primary after the drill, by the request IDs the clients were answered.'), grants),
  ];
}

export const drillPage = {
  title: 'Drill report',
  auth: true,
  render(ctx) {
    const params = new URLSearchParams(location.hash.split('?')[1] || '');
    const id = params.get('id') || '';
    const body = h('div', { 'data-test': 'drill-report' }, h('p', { class: 'muted' }, 'Loading…'));
    const print = h('button', { type: 'button', class: 'button button-primary', 'data-test': 'drill-print' }, 'Print');
    print.addEventListener('click', () => window.print());
    ctx.page.append(
      h('div', { class: 'actions no-print' },
        h('a', { class: 'button', href: '#/cluster' }, 'Back to Cluster'), print,
        h('a', { class: 'button', href: jsonURL(id), target: '_blank', rel: 'noopener', 'data-test': 'drill-json' }, 'JSON')),
      body);
    api.get(`admin/cluster/drills/${encodeURIComponent(id)}`).then((drill) => {
      if (!ctx.current) return;
      replace(body, ...reportView(drill && typeof drill === 'object' ? drill : {}));
    }, (error) => {
      if (!ctx.current) return;
      replace(body, h('p', { class: 'empty' }, 'No such drill report.'));
      ctx.fail(error);
    });
  },
};
