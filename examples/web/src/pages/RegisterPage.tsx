import { useEffect, useRef, useState, type FormEvent } from 'react';
import { Link, Navigate, useLocation, useNavigate } from 'react-router';
import * as authApi from '../api/auth';
import { useAuth } from '../auth/AuthContext';
import { returnPath } from '../auth/RequireAuth';
import { mapAuthError } from '../auth/serverErrors';
import { useRetryCountdown } from '../auth/useRetryCountdown';
import { validateRegister, type FieldErrors } from '../auth/validation';
import { FormField } from '../components/FormField';
import { SubmitButton } from '../components/SubmitButton';
import { AuthCard, FormAlert } from './AuthCard';

export function RegisterPage() {
  const { token, signIn } = useAuth();
  const location = useLocation();
  const navigate = useNavigate();
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [username, setUsername] = useState('');
  const [errors, setErrors] = useState<FieldErrors>({});
  const [formError, setFormError] = useState<string>();
  const [pending, setPending] = useState(false);
  const [retryLeft, startRetry] = useRetryCountdown();
  const refs = {
    email: useRef<HTMLInputElement>(null),
    password: useRef<HTMLInputElement>(null),
    username: useRef<HTMLInputElement>(null),
  };
  const target = returnPath(location.state);

  useEffect(() => {
    document.title = 'Create account · chatcore';
  }, []);

  if (token && !pending) return <Navigate to={target} replace />;

  function focusFirst(errs: FieldErrors) {
    for (const k of ['email', 'password', 'username'] as const) {
      if (errs[k]) {
        refs[k].current?.focus();
        return;
      }
    }
  }

  async function onSubmit(e: FormEvent) {
    e.preventDefault();
    if (pending) return;
    const v = validateRegister(email, password, username);
    setErrors(v);
    setFormError(undefined);
    if (Object.keys(v).length) return focusFirst(v);
    setPending(true);
    try {
      const res = await authApi.register({
        email: email.trim(),
        password,
        username: username.trim() || undefined,
      });
      signIn(res);
      navigate(target, { replace: true });
    } catch (err) {
      const m = mapAuthError(err, 'register');
      setErrors(m.fields);
      setFormError(m.form);
      if (m.form === 'rate') startRetry(m.retryAfter ?? null);
      focusFirst(m.fields);
    } finally {
      setPending(false);
    }
  }

  return (
    <AuthCard title="Create account">
      <FormAlert message={formError} retryLeft={retryLeft} />
      <form onSubmit={onSubmit} noValidate>
        <FormField
          ref={refs.email}
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
          ref={refs.password}
          label="Password"
          type="password"
          name="password"
          autoComplete="new-password"
          required
          hint="8 to 128 characters."
          value={password}
          onChange={(e) => setPassword(e.target.value)}
          error={errors.password}
        />
        <FormField
          ref={refs.username}
          label="Username"
          type="text"
          name="username"
          autoComplete="username"
          hint="Optional. 3 to 32 letters, digits, _ . or -."
          value={username}
          onChange={(e) => setUsername(e.target.value)}
          error={errors.username}
        />
        <SubmitButton pending={pending} disabled={retryLeft > 0}>
          Create account
        </SubmitButton>
      </form>
      <p className="auth__switch">
        Already have an account?{' '}
        <Link to="/auth/login" state={location.state}>
          Log in
        </Link>
      </p>
    </AuthCard>
  );
}
