// Cluster: this node and its peer (GET /api/health, and GET
// /api/admin/cluster in a pair, every 2 s), the switchover (POST
// /api/admin/cluster/switchover after a confirmation), the last drill and
// the list of drill reports (drills.js; fetched again when the last drill
// changes).
// The peer is another origin, so all that is shown of it is what this
// node's cluster status says.

import * as api from './api.js';
import { h, replace, facts, table, badge, dash, duration, utc, peerStateText, peerTone, safeURL, portalURL, showNotice, clearError, confirmDialog } from './dom.js';
import { roleBadge, degradedBadge, lagText, pollStatus } from './home.js';
import { drillsTable, drillRoute } from './drills.js';

function yesNo(value) {
  return value === true ? 'yes' : value === false ? 'no' : '—';
}

function lsnText(value) {
  return typeof value === 'number' ? String(value) : '—';
}

function snapshotText(snapshot) {
  if (!snapshot) return null;
  const done = snapshot.ackedBytes ?? snapshot.receivedBytes ?? snapshot.sentBytes;
  const total = snapshot.totalBytes;
  if (typeof done !== 'number') return 'in progress';
  if (typeof total !== 'number' || total === 0) return `${done.toLocaleString()} bytes so far`;
  return `${done.toLocaleString()} of ${total.toLocaleString()} bytes (${Math.floor(done * 100 / total)} %)`;
}

function urlCell(value) {
  const url = safeURL(value);
  return url ? h('a', { href: portalURL(url) }, url) : dash(value);
}

/// The last drill report as a two-column table (`lts drill`'s DrillReport.json).
function drillTable(drill) {
  const ms = (value) => (typeof value === 'number' ? duration(value) : '—');
  const acknowledged = drill.acknowledged || {};
  const rows = [
    ['Kind', drill.kind === 'switchover' ? 'planned switchover' : dash(drill.kind)],
    ['Result', typeof drill.passed === 'boolean' ? badge(drill.passed ? 'passed' : 'FAILED', drill.passed ? 'good' : 'bad') : '—'],
    drill.kind === 'switchover' ? ['Switchover requested at', utc(drill.switchoverAt)] : ['Fault at', utc(drill.faultAt)],
    ['Detection', ms(drill.detectionMs)],
    ['Promotion', ms(drill.promotionMs)],
    ['Client-visible outage', ms(drill.outageMs)],
    ['Old primary back', ms(drill.rejoinMs)],
    ['Primary after the drill', drill.newPrimary ? urlCell(drill.newPrimary) : '—'],
  ];
  if (typeof drill.backPromotionMs === 'number') {
    rows.push(['Switch back', `promotion ${ms(drill.backPromotionMs)}, outage ${ms(drill.backOutageMs)}`]);
  }
  rows.push(
    ['Clients', dash(drill.clients)],
    ['Grants acknowledged', `before ${dash(acknowledged.before)}, during ${dash(acknowledged.during)}, after ${dash(acknowledged.after)}`],
    ['Lost', dash(drill.lost)],
    ['Changed', dash(drill.changed)],
    ['Duplicated', dash(drill.duplicated)]);
  if (typeof drill.id === 'string') rows.push(['Report', h('a', { href: drillRoute(drill.id), 'data-test': 'last-drill-report' }, 'Printable report')]);
  return h('div', { class: 'table-wrap table-wrap-narrow' },
    h('table', { class: 'table table-keyvalue' },
      h('tbody', null, rows.map(([label, value]) => h('tr', null, h('th', { scope: 'row' }, label), h('td', null, value))))));
}

export const clusterPage = {
  title: 'Cluster',
  auth: true,
  readsHealth: true,
  render(ctx) {
    const nodeURL = api.nodeURL;
    const values = {
      role: h('span', { 'data-test': 'cluster-role' }, '…'),
      term: h('span', null, '…'), lsn: h('span', null, '…'), flushed: h('span', null, '…'), commit: h('span', null, '…'),
      mode: h('span', null, '…'), degraded: h('span', null, '…'), switching: h('span', null, '…'),
      failovers: h('span', null, '…'), reconciled: h('span', null, '…'), checkpoint: h('span', null, '…'),
      peerURL: h('span', null, '…'), peerState: h('span', { 'data-test': 'cluster-peer-state' }, '…'),
      peerFlushed: h('span', null, '…'), lag: h('span', null, '…'), heard: h('span', null, '…'), snapshot: h('span', null, '…'),
      witnessURL: h('span', null, '…'), witnessState: h('span', { 'data-test': 'cluster-witness-state' }, '…'),
      witnessLease: h('span', null, '…'), witnessTerm: h('span', null, '…'),
    };
    const witnessCard = h('section', { class: 'card', 'data-test': 'witness-card', hidden: true }, h('h2', null, 'Witness'),
      h('p', { class: 'hint' }, 'The third party that decides terms: a primary takes writes only with its lease or its standby\'s acknowledgement, and the standby takes over only with its grant, so a cut link never makes two primaries.'),
      facts([['URL', values.witnessURL], ['From this node', values.witnessState], ['Lease', values.witnessLease],
        ['Highest term granted', values.witnessTerm]]));
    const serversArea = h('div', null, h('p', { class: 'muted' }, 'Loading…'));
    const peerCard = h('section', { class: 'card' }, h('h2', null, 'Peer'), facts([
      ['URL', values.peerURL], ['State', values.peerState], ['Flushed LSN', values.peerFlushed],
      ['Replication lag', values.lag], ['Last heard', values.heard], ['Snapshot', values.snapshot],
    ]));
    const pairArea = h('div', { class: 'grid' },
      h('section', { class: 'card' }, h('h2', null, 'This node'), facts([
        ['Role', values.role], ['Term', values.term], ['Log position (LSN)', values.lsn], ['Flushed LSN', values.flushed],
        ['Commit LSN', values.commit], ['Mode', values.mode], ['Degraded', values.degraded],
        ['Switchover in progress', values.switching], ['Failovers', values.failovers],
        ['Reconciled records', values.reconciled], ['Checkpoint / compacted LSN', values.checkpoint],
      ])),
      peerCard, witnessCard);
    const standaloneNote = h('p', { class: 'card lead', hidden: true },
      'This is a standalone node: it has no standby, so there is nothing to switch over to.');

    const switchover = h('button', { type: 'button', class: 'button button-primary', 'data-test': 'switchover', disabled: true }, 'Switchover');
    const switchHint = h('p', { class: 'hint' }, '…');
    const drillArea = h('div', { 'data-test': 'last-drill' }, h('p', { class: 'muted' }, 'Loading…'));
    const drillsArea = h('div', { 'data-test': 'drills' }, h('p', { class: 'muted' }, 'Loading…'));
    const updated = h('p', { class: 'muted small' }, 'Loading…');

    ctx.page.append(
      pairArea,
      standaloneNote,
      h('section', { class: 'card' }, h('h2', null, 'Servers'), serversArea),
      h('section', { class: 'card' },
        h('h2', null, 'Planned switchover'),
        h('p', null, 'Hands the primary role to the standby once it holds the whole log. Clients wait for a moment and follow the new primary; nothing acknowledged is lost. This node then serves as the standby.'),
        h('div', { class: 'actions' }, switchover),
        switchHint),
      h('section', { class: 'card' }, h('h2', null, 'Last drill'), drillArea),
      h('section', { class: 'card' }, h('h2', null, 'Drills'),
        h('p', { class: 'hint' }, 'The drill reports kept in the pair\'s log, newest first: both nodes list the same ones, and they survive restarts.'),
        drillsArea),
      updated);

    let role = null;
    let drillJSON = null;
    let drillsFor;
    let serversKey = null;

    switchover.addEventListener('click', async () => {
      const yes = await confirmDialog({
        title: 'Switch over to the standby?',
        text: 'The standby becomes the primary as soon as it holds the whole log, and this node becomes the standby. Clients pause for about a second and follow.',
        confirmLabel: 'Switch over',
      });
      if (!yes || !ctx.current) return;
      clearError();
      switchover.disabled = true;
      try {
        await api.post('admin/cluster/switchover', {});
        if (!ctx.current) return;
        showNotice('The switchover has started: the standby takes over once it holds the whole log. This page follows the change.', { focus: true });
      } catch (error) {
        ctx.fail(error, { focus: true });
      } finally {
        switchover.disabled = role !== 'primary';
      }
    });

    pollStatus(ctx, updated, (health, cluster) => {
      role = cluster ? cluster.role : health.role;
      replace(values.role, roleBadge(role));

      const standalone = cluster === null;
      standaloneNote.hidden = !standalone;
      peerCard.hidden = standalone;
      if (standalone) {
        // All a standalone node has is its health.
        values.term.textContent = dash(health.term);
        values.lsn.textContent = lsnText(health.lsn);
        for (const key of ['flushed', 'commit', 'switching', 'failovers', 'reconciled', 'checkpoint']) values[key].textContent = '—';
        values.mode.textContent = 'standalone';
        replace(values.degraded, degradedBadge(health.degraded));
      } else {
        values.term.textContent = dash(cluster.term);
        values.lsn.textContent = lsnText(cluster.lsn);
        values.flushed.textContent = lsnText(cluster.flushedLsn);
        values.commit.textContent = lsnText(cluster.commitLsn);
        values.mode.textContent = dash(cluster.mode);
        replace(values.degraded, degradedBadge(cluster.degraded));
        values.switching.textContent = yesNo(cluster.switchoverInProgress);
        values.failovers.textContent = typeof cluster.lastFailoverSilenceMs === 'number'
          ? `${dash(cluster.failoversTotal)} (the last after ${duration(cluster.lastFailoverSilenceMs)} of silence)`
          : dash(cluster.failoversTotal);
        values.reconciled.textContent = `${dash(cluster.reconciledTotal)}${cluster.reconcileOverrunsTotal ? `, ${cluster.reconcileOverrunsTotal} over quota` : ''}${cluster.reconcileQueue ? ' (queue not empty)' : ''}`;
        values.checkpoint.textContent = `${lsnText(cluster.checkpointLsn)} / ${lsnText(cluster.compactedLsn)}`;
        const peer = cluster.peer || {};
        const peerURL = safeURL(peer.url) || dash(peer.url);
        if (values.peerURL.textContent !== peerURL) replace(values.peerURL, urlCell(peer.url));
        replace(values.peerState, badge(peerStateText(peer.state), peerTone(peer.state)));
        values.peerFlushed.textContent = lsnText(peer.flushedLsn);
        values.lag.textContent = lagText(cluster);
        values.heard.textContent = typeof peer.lastHeardAgoMs === 'number' ? `${duration(peer.lastHeardAgoMs)} ago` : '—';
        values.snapshot.textContent = snapshotText(peer.snapshot)
          || (typeof peer.refusedDivergenceAtLsn === 'number' ? `refused: the logs diverge at LSN ${peer.refusedDivergenceAtLsn}` : 'none');
        const witness = cluster.witness && typeof cluster.witness === 'object' ? cluster.witness : null;
        witnessCard.hidden = witness === null;
        if (witness) {
          const witnessURL = safeURL(witness.url) || dash(witness.url);
          if (values.witnessURL.textContent !== witnessURL) replace(values.witnessURL, urlCell(witness.url));
          replace(values.witnessState, witness.reachable ? badge('reachable', 'good')
            : badge(witness.problem ? `unreachable: ${witness.problem}` : 'not reached yet', 'bad'));
          values.witnessLease.textContent = role !== 'primary' ? 'held by the primary'
            : witness.leaseRemainingMs > 0 ? `held, ${duration(witness.leaseRemainingMs)} left`
              : witness.standbyPromiseRemainingMs > 0 ? 'none: writing on the standby\'s acknowledgement' : 'none: not taking writes';
          values.witnessTerm.textContent = dash(witness.highestTerm);
        }
      }

      // The servers, this node first.
      const peer = cluster && cluster.peer;
      const key = JSON.stringify([role, peer && peer.url, peer && peer.state]);
      if (key !== serversKey) {
        serversKey = key;
        const rows = [h('tr', null,
          h('td', null, 'This node'), h('td', { class: 'break' }, urlCell(nodeURL)), h('td', null, roleBadge(role)))];
        if (peer) {
          const peerRole = role === 'primary' ? 'standby' : role === 'standby' ? 'primary' : null;
          rows.push(h('tr', null,
            h('td', null, 'Peer'), h('td', { class: 'break' }, urlCell(peer.url)),
            h('td', null, peerRole ? `${peerRole}, ` : '', badge(peerStateText(peer.state), peerTone(peer.state)))));
        }
        replace(serversArea, table({ 'data-test': 'servers-table' }, [{ label: 'Server' }, { label: 'URL' }, { label: 'Role / state' }], rows));
      }

      const busy = cluster && cluster.switchoverInProgress;
      switchover.disabled = role !== 'primary' || busy === true;
      if (standalone) switchHint.textContent = 'A standalone node cannot switch over.';
      else if (role === 'standby') switchHint.textContent = 'Only the primary can start a switchover: open the primary\'s portal.';
      else if (busy) switchHint.textContent = 'A switchover is in progress.';
      else if (peer && peer.state !== 'attached') switchHint.textContent = 'The standby is not attached: the server will refuse a switchover until it is.';
      else switchHint.textContent = 'Available: this node is the primary and its standby is attached.';

      const drill = cluster && cluster.lastDrill && typeof cluster.lastDrill === 'object' ? cluster.lastDrill : null;
      const json = JSON.stringify(drill);
      if (json !== drillJSON) {
        drillJSON = json;
        replace(drillArea, drill ? drillTable(drill) : h('p', { class: 'empty' }, 'No drill has been run on this pair.'));
      }
      const newestId = standalone ? null : (drill && drill.id) || '';
      if (newestId !== drillsFor) {
        drillsFor = newestId;
        if (newestId === null) {
          replace(drillsArea, h('p', { class: 'empty' }, 'A standalone node runs no drills.'));
        } else {
          api.get('admin/cluster/drills').then((drills) => {
            if (ctx.current && drillsFor === newestId) replace(drillsArea, drillsTable(drills));
          }, (error) => {
            if (!ctx.current) return;
            drillsFor = undefined;
            ctx.fail(error);
          });
        }
      }
      updated.textContent = `Updated every 2 s; last at ${new Date().toLocaleTimeString()}.`;
    });
  },
};
