import { useState, type FormEvent } from 'react';
import { Link, Navigate, useLocation, useNavigate, useSearchParams } from 'react-router';
import { register } from '../../api/auth';
import { ApiError } from '../../api/errors';
import { useAuth } from '../../auth/AuthProvider';
import { FormField } from '../../components/FormField';

type FieldErrors = Partial<Record<'email' | 'password' | 'form', string>>;

const MIN_PASSWORD_LENGTH = 8;

/** Checks the fields before they are sent; the API checks them again. */
export function validateCredentials(email: string, password: string, isSignUp: boolean): FieldErrors {
  const errors: FieldErrors = {};
  if (!email.trim()) errors.email = 'Enter your e-mail address.';
  else if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email.trim())) errors.email = 'Enter a valid e-mail address, like name@example.com.';
  if (!password) errors.password = 'Enter your password.';
  else if (isSignUp && password.length < MIN_PASSWORD_LENGTH)
    errors.password = `Use at least ${MIN_PASSWORD_LENGTH} characters.`;
  return errors;
}

function apiFieldErrors(error: unknown): FieldErrors {
  if (error instanceof ApiError) {
    const { email, username, password, form, ...rest } = error.fieldErrors;
    const other = Object.values(rest).join(' ');
    return {
      email: email ?? username,
      password,
      form: [form, other].filter(Boolean).join(' ') || undefined,
    };
  }
  return { form: error instanceof Error ? error.message : 'Something went wrong. Try again.' };
}

function CredentialsForm({ mode }: { mode: 'login' | 'register' }) {
  const auth = useAuth();
  const navigate = useNavigate();
  const location = useLocation();
  const [searchParams] = useSearchParams();
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [errors, setErrors] = useState<FieldErrors>({});
  const [busy, setBusy] = useState(false);
  const isSignUp = mode === 'register';
  const next = searchParams.get('next') ?? '/tasks';
  let submitLabel = isSignUp ? 'Sign up' : 'Log in';
  if (busy) submitLabel = 'Please wait…';

  if (auth.status === 'signed-in') return <Navigate to={next} replace />;

  async function handleSubmit(event: FormEvent) {
    event.preventDefault();
    const found = validateCredentials(email, password, isSignUp);
    setErrors(found);
    if (Object.keys(found).length > 0) return;
    setBusy(true);
    try {
      if (isSignUp) await register(email.trim(), password);
      await auth.login(email.trim(), password);
      navigate(isSignUp ? '/tasks/new' : next, { replace: true });
    } catch (error) {
      setErrors(apiFieldErrors(error));
    } finally {
      setBusy(false);
    }
  }

  return (
    <main className="auth-page">
      <h1>{isSignUp ? 'Create an account' : 'Log in'}</h1>
      {location.state && (location.state as { expired?: boolean }).expired ? (
        <p className="notice">Your session ended. Log in again to continue.</p>
      ) : null}
      <form onSubmit={handleSubmit} noValidate aria-label={isSignUp ? 'Sign up' : 'Log in'}>
        <FormField
          label="E-mail"
          type="email"
          name="email"
          autoComplete="email"
          value={email}
          onChange={(event) => setEmail(event.target.value)}
          error={errors.email}
          required
        />
        <FormField
          label="Password"
          type="password"
          name="password"
          autoComplete={isSignUp ? 'new-password' : 'current-password'}
          value={password}
          onChange={(event) => setPassword(event.target.value)}
          error={errors.password}
          hint={isSignUp ? `At least ${MIN_PASSWORD_LENGTH} characters.` : undefined}
          required
        />
        {errors.form ? (
          <p role="alert" className="form-error">
            {errors.form}
          </p>
        ) : null}
        <button type="submit" disabled={busy}>
          {submitLabel}
        </button>
      </form>
      <p>
        {isSignUp ? (
          <>
            Already have an account? <Link to="/login">Log in</Link>
          </>
        ) : (
          <>
            New here? <Link to="/register">Create an account</Link>
          </>
        )}
      </p>
    </main>
  );
}

export function LoginPage() {
  return <CredentialsForm mode="login" />;
}

export function RegisterPage() {
  return <CredentialsForm mode="register" />;
}
