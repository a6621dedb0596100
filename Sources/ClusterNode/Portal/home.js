// Home: this node's identity and role, and the pair's health, polled
// every 2 s from GET /api/health and (in a pair) GET /api/admin/cluster.

import * as api from './api.js';
import { h, replace, facts, badge, dash, duration, peerStateText, peerTone, safeURL, portalURL, copyText, refresher } from './dom.js';

export const pollIntervalMs = 2000;

/// "p50 2 ms · p99 9 ms" from the cluster status' replicationLagMs.
export function lagText(cluster) {
  const lag = cluster && cluster.replicationLagMs;
  const parts = [];
  if (lag && typeof lag.p50 === 'number') parts.push(`p50 ${duration(lag.p50)} · p99 ${duration(lag.p99)} · max ${duration(lag.max)}`);
  const records = cluster && cluster.peer && cluster.peer.lagRecords;
  if (typeof records === 'number') parts.push(`${records} record${records === 1 ? '' : 's'} behind`);
  return parts.length ? parts.join('; ') : '—';
}

export function roleBadge(role, attrs) {
  const tone = role === 'primary' ? 'good' : role === 'standby' ? 'info' : 'neutral';
  return badge(dash(role), tone, attrs);
}

export function degradedBadge(degraded) {
  if (degraded === true) return badge('yes: the primary answers without its standby', 'warn');
  if (degraded === false) return badge('no', 'good');
  return document.createTextNode('—');
}

/// Polls this node's health and, in a pair, its cluster status every
/// `pollIntervalMs` for a page: a failed refresh shows in `updated` and the
/// error area until one works again; each fresh status goes to `show`.
export function pollStatus(ctx, updated, show) {
  const load = async () => {
    const health = await api.get('health');
    // A standalone node has no cluster status (its route answers 404).
    const cluster = health.role !== 'standalone' ? await api.get('admin/cluster') : null;
    return { health, cluster };
  };
  ctx.poll(refresher(ctx, updated, pollIntervalMs / 1000, load, ({ health, cluster }) => {
    ctx.showHealth(health);
    show(health, cluster);
  }), pollIntervalMs);
}

export const homePage = {
  title: 'Home',
  auth: true,
  readsHealth: true,
  render(ctx) {
    const uuid = h('code', { class: 'uuid', 'data-test': 'server-uuid' }, '…');
    const copy = h('button', { type: 'button', class: 'button button-small', 'data-test': 'copy-uuid' }, 'Copy');
    copy.addEventListener('click', () => copyText(uuid.textContent, uuid, 'The server UUID'));
    const cell = (dataTest) => h('span', { 'data-test': dataTest }, '…');
    const values = {
      nodeUUID: h('code', { class: 'uuid', 'data-test': 'node-uuid' }, '…'),
      version: h('span', null, '…'),
      role: cell('role'),
      term: cell('term'),
      lsn: cell('lsn'),
      mode: h('span', null, '…'),
      peerURL: h('span', null, '…'),
      peerState: cell('peer-state'),
      lag: h('span', null, '…'),
      heartbeat: h('span', null, '…'),
      degraded: h('span', null, '…'),
    };
    const updated = h('p', { class: 'muted small', 'aria-live': 'off' }, 'Loading…');

    ctx.page.append(
      h('div', { class: 'grid' },
        h('section', { class: 'card' },
          h('h2', null, 'This server'),
          facts([
            ['Server UUID', h('span', { class: 'uuid-row' }, uuid, copy)],
            ['This node', values.nodeUUID],
            ['Version', values.version],
            ['Role', values.role],
            ['Term', values.term],
            ['Log position (LSN)', values.lsn],
          ])),
        h('section', { class: 'card' },
          h('h2', null, 'Main + standby'),
          facts([
            ['Mode', values.mode],
            ['Peer', values.peerURL],
            ['Peer state', values.peerState],
            ['Replication lag', values.lag],
            ['Last heard from the peer', values.heartbeat],
            ['Degraded', values.degraded],
          ]))),
      updated);

    pollStatus(ctx, updated, (health, cluster) => {
      // The cluster's UUID is the one license files are bound to: the same on both nodes.
      if (uuid.textContent !== dash(health.clusterUuid)) uuid.textContent = dash(health.clusterUuid);
      values.nodeUUID.textContent = dash(health.uuid);
      values.version.textContent = dash(health.version);
      replace(values.role, roleBadge(health.role));
      values.term.textContent = dash(health.term);
      values.lsn.textContent = dash(health.lsn);
      const peer = health.peer;
      if (!peer) {
        values.mode.textContent = 'standalone (no standby)';
        values.peerURL.textContent = '—';
        values.peerState.textContent = 'no peer';
        values.lag.textContent = '—';
        values.heartbeat.textContent = '—';
        replace(values.degraded, degradedBadge(health.degraded));
      } else {
        values.mode.textContent = cluster && cluster.mode ? `main + standby, ${cluster.mode}` : 'main + standby';
        const url = safeURL(peer.url);
        if (values.peerURL.textContent !== (url || dash(peer.url))) {
          replace(values.peerURL, url ? h('a', { href: portalURL(url) }, url) : dash(peer.url));
        }
        replace(values.peerState, badge(peerStateText(peer.state), peerTone(peer.state)));
        values.lag.textContent = lagText(cluster);
        const ago = cluster && cluster.peer && cluster.peer.lastHeardAgoMs;
        values.heartbeat.textContent = typeof ago === 'number' ? `${duration(ago)} ago` : '—';
        replace(values.degraded, degradedBadge(health.degraded));
      }
      updated.textContent = `Updated every 2 s; last at ${new Date().toLocaleTimeString()}.`;
    });
  },
};
