// Usage Alerts: the email settings (GET /api/admin/alerts, saved with PUT
// /api/admin/alerts/settings), a test email (POST /api/admin/alerts/test),
// the thresholds watched (the crossed ones first, the others folded away)
// and the last 50 emails. The page data refreshes every 5 s; the form is refilled from it
// only while the admin has not started editing.

import * as api from './api.js';
import { h, replace, refill, table, field, facts, badge, dash, plural, unixUTC, safeURL, portalURL, refresher, focusOn } from './dom.js';

export const pollIntervalMs = 5000;

/// The usual port of each kind of SMTP security; changing the security
/// moves the port along while it is still one of these.
const defaultPorts = { starttls: 587, tls: 465, none: 25 };

function sourceText(source) {
  switch (source) {
    case 'portal': return 'saved in this portal';
    case 'config': return 'the node\'s configuration file, until they are saved here';
    case 'none': return 'none yet: no alert emails are sent until recipients and an SMTP server are saved';
    default: return dash(source);
  }
}

function statusBadge(email) {
  switch (email.status) {
    case 'sent': return badge('sent', 'good');
    case 'failed': return badge('failed', 'bad');
    case 'pending': return badge('pending', 'warn');
    default: return badge(dash(email.status), 'neutral');
  }
}

function statusCell(email) {
  // The API counts failed deliveries only: a first-time success has none.
  const attempts = typeof email.attempts === 'number' && email.attempts > 0 ? plural(email.attempts, 'failed attempt') : null;
  const next = email.status === 'pending' && typeof email.nextAttemptAt === 'number' ? `next at ${unixUTC(email.nextAttemptAt)}` : null;
  return h('div', null,
    statusBadge(email),
    attempts ? h('span', { class: 'muted small' }, ' ', attempts) : null,
    next ? h('p', { class: 'muted small email-next' }, next) : null,
    email.error ? h('p', { class: 'email-error small' }, email.error) : null);
}

/// Whether alerts can go out with these settings, in words.
function sendingText(settings) {
  if (typeof settings.smtpProblem === 'string' && settings.smtpProblem) return `no: ${settings.smtpProblem}`;
  if (!settings.smtp) return 'no: no SMTP server is set';
  if (!Array.isArray(settings.recipients) || settings.recipients.length === 0) return 'no: no recipients are set';
  return 'yes';
}

/// An email's lines, folded under a summary so the table stays short.
function linesCell(email, open) {
  const lines = Array.isArray(email.lines) ? email.lines : [];
  if (lines.length === 0) return h('span', { class: 'muted' }, 'none');
  return h('details', { class: 'email-lines', open },
    h('summary', null, plural(lines.length, 'line')),
    h('ul', null, lines.map((line) => h('li', null, line))));
}

const conditionColumns = [{ label: 'Condition' }, { label: 'State' }, { label: 'Alerted' }];
const emailColumns = [{ label: 'Time' }, { label: 'Subject' }, { label: 'Recipients' }, { label: 'Status' }, { label: 'Lines' }];

/// The number in a form field, null when it is empty (the server then
/// takes its default), or throws the sentence to show.
function numberIn(input, what, whole) {
  const text = input.value.trim();
  if (text === '') return null;
  const value = Number(text);
  if (!isFinite(value) || value <= 0 || (whole && !Number.isInteger(value))) {
    throw new Error(`${what}: type a ${whole ? 'whole ' : ''}number greater than 0.`);
  }
  return value;
}

/// `object` without its null entries: the API refuses an empty text or a
/// null number, and takes a missing one as "none" or its default.
function withoutNulls(object) {
  return Object.fromEntries(Object.entries(object).filter(([, value]) => value !== null));
}

export const alertsPage = {
  title: 'Usage Alerts',
  auth: true,
  render(ctx) {
    const text = (id, attrs) => h('input', Object.assign({ type: 'text', id, 'data-test': id, autocomplete: 'off', spellcheck: 'false' }, attrs));
    const number = (id, attrs) => h('input', Object.assign({ type: 'number', id, 'data-test': id, min: 0, step: 1, inputmode: 'numeric' }, attrs));
    const inputs = {
      recipients: text('alerts-recipients', { placeholder: 'ops@example.com; oncall@example.com' }),
      checkMinutes: number('alerts-check-minutes', { step: 'any' }),
      standbyLagMinutes: number('alerts-standby-lag', { min: 1 }),
      host: text('smtp-host', { placeholder: 'smtp.example.com' }),
      port: number('smtp-port', { min: 1, max: 65535 }),
      security: h('select', { id: 'smtp-security', 'data-test': 'smtp-security' },
        h('option', { value: 'starttls' }, 'STARTTLS'), h('option', { value: 'tls' }, 'TLS'), h('option', { value: 'none' }, 'None (plain text)')),
      username: text('smtp-username', { autocomplete: 'off' }),
      password: h('input', { type: 'password', id: 'smtp-password', 'data-test': 'smtp-password', autocomplete: 'new-password' }),
      clearPassword: h('input', { type: 'checkbox', id: 'smtp-clear-password', 'data-test': 'smtp-clear-password' }),
      from: text('smtp-from', { placeholder: 'lts@example.com' }),
    };
    const clearPasswordRow = h('div', { class: 'check' }, inputs.clearPassword, h('label', { for: 'smtp-clear-password' }, 'Clear the saved password'));
    const save = h('button', { type: 'submit', class: 'button button-primary', 'data-test': 'save-alerts' }, 'Save');
    const sendTest = h('button', { type: 'button', class: 'button', 'data-test': 'send-test-email' }, 'Send test email');
    const formStatus = h('div', { class: 'message', 'data-test': 'alerts-form-status', role: 'status', hidden: true });
    const testHint = h('p', { class: 'hint', hidden: true }, 'The test email uses the saved settings: save your changes first.');

    const form = h('form', { class: 'card form', novalidate: true, 'aria-labelledby': 'alerts-form-title' },
      h('h2', { id: 'alerts-form-title' }, 'Email settings'),
      field('Recipients', inputs.recipients, 'Email addresses, separated by ";".'),
      h('div', { class: 'field-grid' },
        field('Check every (minutes)', inputs.checkMinutes, 'How often the thresholds are checked; empty for the default.'),
        field('Standby lag alert after (minutes)', inputs.standbyLagMinutes, 'An email when the standby is behind or away this long.')),
      h('fieldset', { class: 'fieldset' },
        h('legend', null, 'SMTP server'),
        h('p', { class: 'hint' }, 'Leave every field empty to send no email.'),
        h('div', { class: 'field-grid' },
          field('Host', inputs.host),
          field('Port', inputs.port, 'Empty: 587 for STARTTLS, 465 for TLS, 25 for none.'),
          field('Security', inputs.security),
          field('User name', inputs.username, 'Empty when the server needs no login.'),
          h('div', { class: 'field' },
            h('label', { for: 'smtp-password' }, 'Password'),
            inputs.password,
            h('p', { class: 'hint' }, 'Leave empty to keep the saved one.'),
            clearPasswordRow),
          field('From address', inputs.from))),
      h('div', { class: 'actions' }, save, sendTest),
      testHint,
      formStatus);

    const stateValues = {
      source: h('span', { 'data-test': 'alerts-source' }, '…'),
      sending: h('span', { 'data-test': 'alerts-sending' }, '…'),
      last: h('span', null, '…'),
      next: h('span', null, '…'),
    };
    const conditionsArea = h('div', null, h('p', { class: 'muted' }, 'Loading…'));
    const emailsArea = h('div', null, h('p', { class: 'muted' }, 'Loading…'));
    const updated = h('p', { class: 'muted small', 'aria-live': 'off' }, 'Loading…');

    ctx.page.append(
      h('section', { class: 'card' },
        h('h2', null, 'Checks'),
        facts([
          ['Settings from', stateValues.source], ['Alerts can be sent', stateValues.sending],
          ['Last check', stateValues.last], ['Next check', stateValues.next],
        ])),
      form,
      h('section', { class: 'card' }, h('h2', null, 'Conditions'), conditionsArea),
      h('section', { class: 'card' }, h('h2', null, 'Last 50 emails'), emailsArea),
      updated);

    /// True once the admin typed in the form: polls then leave it alone.
    let editing = false;
    let settingsJSON = null;
    let conditionsJSON = null;
    let emailsJSON = null;

    /// Says how the admin's action went beside the form, and moves the
    /// focus there (the button that was pressed is busy meanwhile).
    const say = (tone, message) => {
      formStatus.className = `message message-${tone}`;
      formStatus.textContent = message;
      formStatus.hidden = false;
      focusOn(formStatus);
    };
    /// Shows a failure beside the form (a standby's refusal with a link to
    /// the primary's portal); a lost session goes to the login page.
    const sayError = (error) => {
      if (error && error.code === api.codes.notLoggedIn) {
        ctx.fail(error);
        return;
      }
      say('error', error instanceof api.ApiError ? error.text : error.message);
      const primary = error instanceof api.ApiError ? safeURL(error.primary) : null;
      if (primary) formStatus.append(' ', h('a', { href: portalURL(primary) }, 'Open the primary\'s portal'));
    };
    const setEditing = (value) => {
      editing = value;
      testHint.hidden = !value;
    };

    const fill = (settings) => {
      const smtp = settings.smtp || {};
      inputs.recipients.value = Array.isArray(settings.recipients) ? settings.recipients.join('; ') : '';
      inputs.checkMinutes.value = settings.checkMinutes ?? '';
      inputs.standbyLagMinutes.value = settings.standbyLagMinutes ?? '';
      inputs.host.value = smtp.host || '';
      inputs.port.value = smtp.port ?? '';
      inputs.security.value = defaultPorts[smtp.security] ? smtp.security : 'starttls';
      inputs.username.value = smtp.username || '';
      inputs.password.value = '';
      inputs.password.placeholder = smtp.passwordSet ? 'unchanged' : '';
      inputs.password.disabled = false;
      inputs.clearPassword.checked = false;
      clearPasswordRow.hidden = !smtp.passwordSet;
      inputs.from.value = smtp.from || '';
      settingsJSON = JSON.stringify(settings);
      setEditing(false);
    };

    /// The PUT body from the form, or throws the sentence to show.
    const body = () => {
      // No mail server at all (its saved password goes with it).
      const noSMTP = ['host', 'port', 'username', 'password', 'from'].every((name) => inputs[name].value.trim() === '');
      let smtp = null;
      if (!noSMTP) {
        smtp = withoutNulls({
          host: inputs.host.value.trim(),
          port: numberIn(inputs.port, 'Port', true),
          security: inputs.security.value,
          username: inputs.username.value.trim() || null,
          from: inputs.from.value.trim() || null,
        });
        // The server keeps the saved password when the field is left out.
        if (inputs.clearPassword.checked) Object.assign(smtp, { password: '', clearPassword: true });
        else if (inputs.password.value) smtp.password = inputs.password.value;
      }
      return Object.assign(withoutNulls({
        recipients: inputs.recipients.value,
        checkMinutes: numberIn(inputs.checkMinutes, 'Check every', false),
        standbyLagMinutes: numberIn(inputs.standbyLagMinutes, 'Standby lag alert after', true),
      }), { smtp });
    };

    const showConditions = (conditions) => {
      const json = JSON.stringify(conditions);
      if (json === conditionsJSON) return;
      conditionsJSON = json;
      if (conditions.length === 0) {
        replace(conditionsArea, h('p', { class: 'empty' }, 'No thresholds to watch: they come with the license items.'));
        return;
      }
      // The crossed thresholds in sight; the others (most of them) folded
      // under a summary, so the page stays short. Each in the server's order.
      const crossed = conditions.filter((condition) => condition.crossed);
      const others = conditions.filter((condition) => !condition.crossed);
      const conditionsTable = (list) => table({ 'data-test': 'conditions-table' }, conditionColumns, list.map((condition) => h('tr', { 'data-key': condition.key, 'data-crossed': condition.crossed ? 'yes' : 'no' },
        h('td', { class: 'break' }, dash(condition.text)),
        h('td', null, condition.crossed ? badge('crossed', 'warn') : badge('not crossed', 'good')),
        h('td', { class: 'nowrap' }, typeof condition.alertedAt === 'number' ? unixUTC(condition.alertedAt) : 'not alerted'))));
      // A refresh keeps the fold as the admin left it.
      const wasOpen = Boolean(conditionsArea.querySelector('details[data-test=conditions-folded][open]'));
      refill(conditionsArea,
        h('p', { class: 'muted', 'data-test': 'conditions-summary' }, `${crossed.length} of ${plural(conditions.length, 'threshold')} crossed.`),
        crossed.length > 0 ? conditionsTable(crossed) : null,
        others.length > 0
          ? h('details', { class: 'folded', 'data-test': 'conditions-folded', open: wasOpen },
            h('summary', null, `${plural(others.length, 'threshold')} not crossed`),
            conditionsTable(others))
          : null);
    };

    const showEmails = (emails) => {
      const json = JSON.stringify(emails);
      if (json === emailsJSON) return;
      emailsJSON = json;
      if (emails.length === 0) {
        replace(emailsArea, h('p', { class: 'empty' }, 'No emails yet.'));
        return;
      }
      // A refresh keeps the lines the admin unfolded.
      const open = new Set(Array.from(emailsArea.querySelectorAll('tr[data-email-id]'))
        .filter((row) => row.querySelector('details[open]')).map((row) => row.dataset.emailId));
      refill(emailsArea, table({ 'data-test': 'emails-table' }, emailColumns, emails.map((email) => h('tr', { 'data-email-id': email.id, 'data-status': email.status },
        h('td', { class: 'nowrap' }, unixUTC(email.at)),
        h('td', { class: 'break' }, dash(email.subject), email.test ? [' ', badge('test', 'info')] : null),
        h('td', { class: 'break' }, Array.isArray(email.recipients) ? email.recipients.join('; ') : '—'),
        h('td', null, statusCell(email)),
        h('td', null, linesCell(email, open.has(String(email.id))))))));
    };

    const show = (alerts) => {
      stateValues.source.textContent = sourceText(alerts.source);
      stateValues.sending.textContent = alerts.settings ? sendingText(alerts.settings) : '—';
      stateValues.last.textContent = typeof alerts.lastCheckAt === 'number' ? unixUTC(alerts.lastCheckAt) : 'not yet';
      stateValues.next.textContent = typeof alerts.nextCheckAt === 'number' ? unixUTC(alerts.nextCheckAt) : '—';
      if (alerts.settings && !editing && JSON.stringify(alerts.settings) !== settingsJSON) fill(alerts.settings);
      showConditions(Array.isArray(alerts.conditions) ? alerts.conditions : []);
      showEmails(Array.isArray(alerts.emails) ? alerts.emails : []);
    };

    const refresh = refresher(ctx, updated, pollIntervalMs / 1000, () => api.get('admin/alerts'), (alerts) => {
      show(alerts);
      updated.textContent = `Updated every 5 s; last at ${new Date().toLocaleTimeString()}.`;
    });

    form.addEventListener('input', () => setEditing(true));
    inputs.security.addEventListener('change', () => {
      const port = Number(inputs.port.value);
      if (inputs.port.value === '' || Object.values(defaultPorts).includes(port)) inputs.port.value = defaultPorts[inputs.security.value];
    });
    inputs.clearPassword.addEventListener('change', () => {
      inputs.password.disabled = inputs.clearPassword.checked;
      if (inputs.clearPassword.checked) inputs.password.value = '';
    });

    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      formStatus.hidden = true;
      let request;
      try {
        request = body();
      } catch (problem) {
        say('error', problem.message);
        return;
      }
      save.disabled = true;
      try {
        const settings = await api.put('admin/alerts/settings', request);
        if (!ctx.current) return;
        fill(settings);
        say('notice', 'The alert settings are saved.');
        await refresh();
      } catch (error) {
        if (ctx.current) sayError(error);
      } finally {
        save.disabled = false;
      }
    });

    sendTest.addEventListener('click', async () => {
      formStatus.hidden = true;
      sendTest.disabled = true;
      sendTest.textContent = 'Sending…';
      try {
        const answer = await api.post('admin/alerts/test', {});
        if (!ctx.current) return;
        const recipients = answer && Array.isArray(answer.recipients) ? answer.recipients.join('; ') : 'the recipients';
        say('notice', `Test email sent to ${recipients}.`);
        await refresh();
      } catch (error) {
        if (ctx.current) sayError(error);
      } finally {
        sendTest.disabled = false;
        sendTest.textContent = 'Send test email';
      }
    });

    ctx.poll(refresh, pollIntervalMs);
  },
};
