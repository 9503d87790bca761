/** The sign-in page: name and password to `POST /api/v1/session`; says plainly when to try again. */
import { api, ApiFailure, type User } from '../api.ts';
import { fill, h } from '../dom.ts';
import { lang, setLang, t } from '../i18n.ts';
import { field } from '../ui.ts';

export function renderSignIn(root: HTMLElement, done: (user: User, csrf: string) => void): void {
  const username = h('input', { name: 'username', autocomplete: 'username', required: true });
  const password = h('input', {
    name: 'password',
    type: 'password',
    autocomplete: 'current-password',
    required: true,
  });
  const message = h('p', { class: 'error', role: 'alert', 'data-testid': 'signin-error', hidden: true });
  const submit = h('button', { type: 'submit', class: 'primary' }, t('signIn'));
  const form = h(
    'form',
    { class: 'signin card', 'data-testid': 'signin' },
    h('h1', {}, t('appName')),
    field(t('username'), username),
    field(t('password'), password),
    submit,
    message,
    h(
      'button',
      {
        type: 'button',
        class: 'link',
        onclick: () => setLang(lang() === 'id' ? 'en' : 'id'),
      },
      lang() === 'id' ? 'English' : 'Bahasa Indonesia',
    ),
  );
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    submit.disabled = true;
    message.hidden = true;
    api
      .post<{ user: User; csrfToken: string }>('/session', {
        username: username.value.trim(),
        password: password.value,
      })
      .then(
        (r) => done(r.user, r.csrfToken),
        (err: unknown) => {
          message.hidden = false;
          if (err instanceof ApiFailure && err.status === 429)
            message.textContent = t('tooManyTries', { s: err.retryAfterS ?? 1 });
          else if (err instanceof ApiFailure && err.status === 401) message.textContent = t('wrongPassword');
          else message.textContent = `${t('error')}: ${err instanceof Error ? err.message : String(err)}`;
          password.value = '';
          password.focus();
        },
      )
      .finally(() => {
        submit.disabled = false;
      });
  });
  fill(root, h('div', { class: 'signin-page' }, form));
  username.focus();
}
