import { describe, expect, it } from 'vitest';
import { charLength, validateEmail, validateLogin, validatePassword, validateRegister, validateUsername } from './validation';

describe('validation mirrors the server rules', () => {
  it('checks email format after trimming', () => {
    expect(validateEmail('  a@example.com ')).toBeUndefined();
    expect(validateEmail('')).toMatch(/enter your email/i);
    expect(validateEmail('nope')).toMatch(/valid email/i);
    expect(validateEmail('a@b')).toMatch(/valid email/i);
    expect(validateEmail('a b@example.com')).toMatch(/valid email/i);
  });

  it('checks password length 8..=128 in Unicode scalar values', () => {
    expect(validatePassword('1234567')).toMatch(/at least 8/);
    expect(validatePassword('12345678')).toBeUndefined();
    expect(validatePassword('x'.repeat(128))).toBeUndefined();
    expect(validatePassword('x'.repeat(129))).toMatch(/at most 128/);
    // 8 emoji are 16 UTF-16 units but 8 characters
    expect(charLength('😀'.repeat(8))).toBe(8);
    expect(validatePassword('😀'.repeat(7))).toMatch(/at least 8/);
  });

  it('checks the optional username: 3..=32 of [A-Za-z0-9_.-]', () => {
    expect(validateUsername('')).toBeUndefined();
    expect(validateUsername('ab')).toMatch(/3 to 32/);
    expect(validateUsername('a'.repeat(33))).toMatch(/3 to 32/);
    expect(validateUsername('bad name')).toMatch(/letters, digits/);
    expect(validateUsername('ok_name.1-2')).toBeUndefined();
  });

  it('login only requires a password to be present', () => {
    expect(validateLogin('a@example.com', 'short')).toEqual({});
    expect(validateLogin('x', '')).toHaveProperty('password');
    expect(validateRegister('a@example.com', 'short', 'x!')).toEqual({
      password: expect.any(String),
      username: expect.any(String),
    });
  });
});
