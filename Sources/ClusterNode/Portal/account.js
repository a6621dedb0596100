// First visit (set the admin password), login, and change password.

import * as api from './api.js';
import { h, showError, showNotice, clearError } from './dom.js';

/// The server refuses shorter admin passwords (-20204).
const passwordLengthMin = 10;

/// A rough hint, not a policy: length counts most, then variety.
function strength(password) {
  if (password.length === 0) return { text: `At least ${passwordLengthMin} characters.`, tone: 'neutral' };
  if (password.length < passwordLengthMin) {
    return { text: `Too short: ${password.length} of at least ${passwordLengthMin} characters.`, tone: 'bad' };
  }
  const kinds = [/[a-z]/, /[A-Z]/, /[0-9]/, /[^A-Za-z0-9]/].filter((pattern) => pattern.test(password)).length;
  const repetitive = /^(.)\1+$/.test(password) || /^(?:0123456789|1234567890|abcdefghij|qwertyuiop)/i.test(password);
  let score = (password.length >= 14 ? 1 : 0) + (password.length >= 20 ? 1 : 0) + (kinds >= 3 ? 1 : 0) + (kinds === 4 ? 1 : 0);
  if (repetitive) score = 0;
  if (score <= 1) return { text: 'Weak: a longer password, or a mix of letters, digits and symbols, is harder to guess.', tone: 'warn' };
  if (score === 2) return { text: 'Fair.', tone: 'neutral' };
  return { text: 'Strong.', tone: 'good' };
}

function field(label, input, hint) {
  const id = input.id;
  return h('div', { class: 'field' },
    h('label', { for: id }, label),
    input,
    hint || null);
}

function passwordInput(id, dataTest, autocomplete) {
  return h('input', { type: 'password', id, name: id, 'data-test': dataTest, autocomplete, required: true, spellcheck: 'false' });
}

/// Disables the form's button while `work` runs, so a double click sends once.
async function busy(button, label, work) {
  const text = button.textContent;
  button.disabled = true;
  button.textContent = label;
  try {
    return await work();
  } finally {
    button.disabled = false;
    button.textContent = text;
  }
}

export const setupPage = {
  title: 'Set the admin password',
  auth: false,
  render(ctx) {
    const password = passwordInput('setup-password', 'setup-password', 'new-password');
    const again = passwordInput('setup-password-again', 'setup-password-again', 'new-password');
    const hint = h('p', { class: 'hint', id: 'setup-strength', 'aria-live': 'polite' });
    password.setAttribute('aria-describedby', 'setup-strength');
    password.minLength = passwordLengthMin;
    const updateHint = () => {
      const { text, tone } = strength(password.value);
      hint.textContent = text;
      hint.className = `hint hint-${tone}`;
    };
    password.addEventListener('input', updateHint);
    updateHint();
    const token = h('input', { type: 'text', id: 'setup-token', name: 'setup-token', 'data-test': 'setup-token', autocomplete: 'off',
      spellcheck: 'false', 'aria-describedby': 'setup-token-hint' });
    const tokenHint = h('p', { class: 'hint', id: 'setup-token-hint' },
      'Only when this browser is not on the server itself: the token the server logged when it first started (also in the setup-token file of its data directory).');
    const submit = h('button', { type: 'submit', class: 'button button-primary', 'data-test': 'setup-submit' }, 'Set password');
    const form = h('form', { class: 'card form narrow', novalidate: true },
      h('input', { type: 'text', name: 'username', value: 'admin', autocomplete: 'username', hidden: true, readonly: true }),
      h('p', null, 'Welcome. This is the first visit to this server: choose the password of the ', h('strong', null, 'admin'),
        ' user. You will need it to log in to this portal and to run drills.'),
      field('Password', password, hint),
      field('Password again', again),
      field('Setup token', token, tokenHint),
      h('div', { class: 'actions' }, submit));
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      clearError();
      if (password.value.length < passwordLengthMin || password.value.trim() === '') {
        showError(`The password needs at least ${passwordLengthMin} characters, not all of them spaces.`);
        password.focus();
        return;
      }
      if (password.value !== again.value) {
        showError('The two passwords differ: type the same password twice.');
        again.focus();
        return;
      }
      try {
        const body = { password: password.value };
        if (token.value.trim() !== '') body.setupToken = token.value.trim();
        await busy(submit, 'Setting…', () => api.post('admin/password', body));
        ctx.passwordWasSet();
      } catch (error) {
        if (!ctx.current) return;
        showError(error, { focus: true });
        if (error.code === api.codes.passwordSet) {
          document.getElementById('error').append(' ', h('a', { href: '#/login' }, 'Go to the login page'));
        }
      }
    });
    ctx.page.append(form);
    password.focus();
  },
};

export const loginPage = {
  title: 'Log in',
  auth: false,
  render(ctx) {
    const user = h('input', { type: 'text', id: 'login-user', name: 'username', value: 'admin', readonly: true, autocomplete: 'username' });
    const password = passwordInput('login-password', 'login-password', 'current-password');
    const submit = h('button', { type: 'submit', class: 'button button-primary', 'data-test': 'login-submit' }, 'Log in');
    const form = h('form', { class: 'card form narrow', novalidate: true },
      field('User name', user),
      field('Password', password),
      h('div', { class: 'actions' }, submit));
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      clearError();
      if (!password.value) {
        showError('Type the admin password.');
        password.focus();
        return;
      }
      try {
        const answer = await busy(submit, 'Logging in…', () => api.post('admin/login', { password: password.value }));
        // The session token itself stays in the HttpOnly cookie; only the CSRF token is kept.
        ctx.loggedIn(answer && answer.csrf);
      } catch (error) {
        if (!ctx.current) return;
        password.value = '';
        password.focus();
        showError(error);
        if (error.code === api.codes.noPasswordYet) {
          document.getElementById('error').append(' ', h('a', { href: '#/setup' }, 'Set the admin password'));
        }
      }
    });
    ctx.page.append(form);
    password.focus();
  },
};

export const passwordPage = {
  title: 'Change Password',
  auth: true,
  render(ctx) {
    const old = passwordInput('old-password', 'old-password', 'current-password');
    const fresh = passwordInput('new-password', 'new-password', 'new-password');
    const again = passwordInput('new-password-again', 'new-password-again', 'new-password');
    const hint = h('p', { class: 'hint', id: 'new-strength', 'aria-live': 'polite' });
    fresh.setAttribute('aria-describedby', 'new-strength');
    const updateHint = () => {
      const { text, tone } = strength(fresh.value);
      hint.textContent = text;
      hint.className = `hint hint-${tone}`;
    };
    fresh.addEventListener('input', updateHint);
    updateHint();
    const submit = h('button', { type: 'submit', class: 'button button-primary', 'data-test': 'change-password' }, 'Change password');
    const form = h('form', { class: 'card form narrow', novalidate: true },
      h('input', { type: 'text', name: 'username', value: 'admin', autocomplete: 'username', hidden: true, readonly: true }),
      field('Current password', old),
      field('New password', fresh, hint),
      field('New password again', again),
      h('div', { class: 'actions' }, submit),
      h('p', { class: 'muted small' }, 'Changing the password ends every other session of the admin.'));
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      clearError();
      if (!old.value) {
        showError('Type the current password.');
        old.focus();
        return;
      }
      if (fresh.value.length < passwordLengthMin) {
        showError(`The new password needs at least ${passwordLengthMin} characters.`);
        fresh.focus();
        return;
      }
      if (fresh.value !== again.value) {
        showError('The two new passwords differ: type the same password twice.');
        again.focus();
        return;
      }
      try {
        await busy(submit, 'Changing…', () => api.post('admin/password/change', { old: old.value, new: fresh.value }));
        if (!ctx.current) return;
        old.value = fresh.value = again.value = '';
        updateHint();
        showNotice('The password is changed.', { focus: true });
      } catch (error) {
        ctx.fail(error, { focus: true });
      }
    });
    ctx.page.append(form);
  },
};
