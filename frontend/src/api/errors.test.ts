import { describe, expect, it } from 'vitest';
import { ApiError } from './errors';

describe('ApiError', () => {
  it('maps a FastAPI validation list to fields', () => {
    const error = new ApiError(422, {
      detail: [
        { loc: ['body', 'email'], msg: 'value is not a valid email address' },
        { loc: ['body', 'password'], msg: 'String should have at least 8 characters' },
      ],
    });
    expect(error.fieldErrors.email).toBe('value is not a valid email address');
    expect(error.fieldErrors.password).toBe('String should have at least 8 characters');
  });

  it('uses an explicit field member', () => {
    const error = new ApiError(409, { detail: 'already registered', code: 'conflict', field: 'email' });
    expect(error.fieldErrors).toEqual({ email: 'already registered' });
    expect(error.code).toBe('conflict');
  });

  it('guesses the field from the code', () => {
    expect(new ApiError(409, { detail: 'taken', code: 'email_taken' }).fieldErrors).toEqual({ email: 'taken' });
  });

  it('keeps other messages on the form', () => {
    const error = new ApiError(401, { detail: 'Wrong e-mail or password.', code: 'invalid_credentials' });
    expect(error.fieldErrors).toEqual({ form: 'Wrong e-mail or password.' });
    expect(error.message).toBe('Wrong e-mail or password.');
  });

  it('describes a body without detail', () => {
    expect(new ApiError(502, undefined).message).toBe('Request failed with status 502.');
  });
});
