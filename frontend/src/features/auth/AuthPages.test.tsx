import { screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { endSession, REFRESH_TOKEN_KEY } from '../../auth/session';
import { jsonResponses, renderRoutes } from '../../test/render';
import { LoginPage, RegisterPage } from './AuthPages';

const routes = [
  { path: '/login', element: <LoginPage /> },
  { path: '/register', element: <RegisterPage /> },
  { path: '/tasks', element: <p>History page</p> },
  { path: '/tasks/new', element: <p>New task page</p> },
];

afterEach(() => {
  endSession();
  vi.unstubAllGlobals();
});

describe('RegisterPage', () => {
  it('shows checks before sending anything', async () => {
    const server = jsonResponses();
    vi.stubGlobal('fetch', server.fetch);
    renderRoutes(routes, '/register');
    await userEvent.type(screen.getByLabelText('E-mail'), 'not-an-address');
    await userEvent.type(screen.getByLabelText('Password'), 'short');
    await userEvent.click(screen.getByRole('button', { name: 'Sign up' }));
    expect(screen.getByLabelText('E-mail')).toHaveAccessibleDescription(/valid e-mail address/);
    expect(screen.getByLabelText('Password')).toHaveAccessibleDescription(/at least 8 characters/i);
    expect(server.calls).toHaveLength(0);
  });

  it('shows the API error next to the e-mail field', async () => {
    const server = jsonResponses({
      status: 422,
      body: { detail: [{ loc: ['body', 'email'], msg: 'This e-mail address is already registered.' }] },
    });
    vi.stubGlobal('fetch', server.fetch);
    renderRoutes(routes, '/register');
    await userEvent.type(screen.getByLabelText('E-mail'), 'taken@example.com');
    await userEvent.type(screen.getByLabelText('Password'), 'long enough password');
    await userEvent.click(screen.getByRole('button', { name: 'Sign up' }));
    expect(await screen.findByText('This e-mail address is already registered.')).toBeInTheDocument();
    expect(screen.getByLabelText('E-mail')).toHaveAttribute('aria-invalid', 'true');
  });

  it('signs up, logs in and opens the new task page', async () => {
    const server = jsonResponses(
      { status: 201, body: { user_id: 'u1', email: 'new@example.com' } },
      { status: 200, body: { access_token: 'a', refresh_token: 'r', token_type: 'bearer', expires_in: 900 } },
    );
    vi.stubGlobal('fetch', server.fetch);
    renderRoutes(routes, '/register');
    await userEvent.type(screen.getByLabelText('E-mail'), 'new@example.com');
    await userEvent.type(screen.getByLabelText('Password'), 'long enough password');
    await userEvent.click(screen.getByRole('button', { name: 'Sign up' }));
    expect(await screen.findByText('New task page')).toBeInTheDocument();
    expect(server.calls[1]!.headers.get('Content-Type')).toBe('application/x-www-form-urlencoded');
    expect(await server.calls[1]!.text()).toBe('username=new%40example.com&password=long+enough+password');
    expect(localStorage.getItem(REFRESH_TOKEN_KEY)).toBe('r');
  });
});

describe('LoginPage', () => {
  it('shows a rejected login on the form', async () => {
    const server = jsonResponses({ status: 401, body: { detail: 'Wrong e-mail or password.', code: 'invalid_credentials' } });
    vi.stubGlobal('fetch', server.fetch);
    renderRoutes(routes, '/login');
    await userEvent.type(screen.getByLabelText('E-mail'), 'me@example.com');
    await userEvent.type(screen.getByLabelText('Password'), 'wrong password');
    await userEvent.click(screen.getByRole('button', { name: 'Log in' }));
    expect(await screen.findByRole('alert')).toHaveTextContent('Wrong e-mail or password.');
  });
});
