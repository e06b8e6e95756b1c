import { useEffect, useRef, useState, type FormEvent } from 'react';
import { Link, Navigate, useLocation, useNavigate } from 'react-router';
import * as authApi from '../api/auth';
import { useAuth } from '../auth/AuthContext';
import { returnPath } from '../auth/RequireAuth';
import { mapAuthError } from '../auth/serverErrors';
import { useRetryCountdown } from '../auth/useRetryCountdown';
import { validateLogin, type FieldErrors } from '../auth/validation';
import { FormField } from '../components/FormField';
import { SubmitButton } from '../components/SubmitButton';
import { AuthCard, FormAlert } from './AuthCard';

export function LoginPage() {
  const { token, signIn, logoutReason } = useAuth();
  const location = useLocation();
  const navigate = useNavigate();
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [errors, setErrors] = useState<FieldErrors>({});
  const [formError, setFormError] = useState<string>();
  const [pending, setPending] = useState(false);
  const [retryLeft, startRetry] = useRetryCountdown();
  const emailRef = useRef<HTMLInputElement>(null);
  const passwordRef = useRef<HTMLInputElement>(null);
  const target = returnPath(location.state);

  useEffect(() => {
    document.title = 'Log in · chatcore';
  }, []);

  if (token && !pending) return <Navigate to={target} replace />;

  async function onSubmit(e: FormEvent) {
    e.preventDefault();
    if (pending) return;
    const v = validateLogin(email, password);
    setErrors(v);
    setFormError(undefined);
    if (v.email) return emailRef.current?.focus();
    if (v.password) return passwordRef.current?.focus();
    setPending(true);
    try {
      const res = await authApi.login(email.trim(), password);
      signIn(res);
      navigate(target, { replace: true });
    } catch (err) {
      const m = mapAuthError(err, 'login');
      setErrors(m.fields);
      setFormError(m.form);
      if (m.form === 'rate') startRetry(m.retryAfter ?? null);
      if (m.fields.email) emailRef.current?.focus();
      else if (m.fields.password) passwordRef.current?.focus();
    } finally {
      setPending(false);
    }
  }

  return (
    <AuthCard title="Log in">
      {logoutReason === 'expired' && !formError && (
        <div role="status" className="alert alert--info">
          Your session expired. Log in again to continue where you left off.
        </div>
      )}
      <FormAlert message={formError} retryLeft={retryLeft} />
      <form onSubmit={onSubmit} noValidate>
        <FormField
          ref={emailRef}
          label="Email"
          type="email"
          name="email"
          autoComplete="email"
          required
          value={email}
          onChange={(e) => setEmail(e.target.value)}
          error={errors.email}
        />
        <FormField
          ref={passwordRef}
          label="Password"
          type="password"
          name="password"
          autoComplete="current-password"
          required
          value={password}
          onChange={(e) => setPassword(e.target.value)}
          error={errors.password}
        />
        <SubmitButton pending={pending} disabled={retryLeft > 0}>
          Log in
        </SubmitButton>
      </form>
      <p className="auth__switch">
        New here?{' '}
        <Link to="/auth/register" state={location.state}>
          Create an account
        </Link>
      </p>
    </AuthCard>
  );
}
