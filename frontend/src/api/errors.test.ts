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

  it('reads the field from a word of the code', () => {
    expect(new ApiError(409, { detail: 'taken', code: 'email_taken' }).fieldErrors).toEqual({ email: 'taken' });
    expect(new ApiError(422, { detail: 'too short', code: 'weak_password' }).fieldErrors).toEqual({ password: 'too short' });
  });

  it('maps the errors list beside a one-sentence detail', () => {
    const error = new ApiError(422, {
      detail: 'invalid request: generator.n: must be at least 1',
      code: 'invalid_request',
      errors: [{ loc: ['body', 'generator', 'n'], msg: 'Input should be greater than or equal to 1' }],
    });
    expect(error.message).toBe('invalid request: generator.n: must be at least 1');
    expect(error.fieldErrors).toEqual({ n: 'Input should be greater than or equal to 1' });
  });

  it('normalizes dotted field names of input errors', () => {
    expect(new ApiError(422, { detail: 'bad shape', code: 'invalid_input', field: 'A.shape' }).fieldErrors).toEqual({ a: 'bad shape' });
    expect(new ApiError(422, { detail: 'bad', code: 'invalid_input', field: 'options.preconditioner' }).fieldErrors).toEqual({
      preconditioner: 'bad',
    });
  });

  it('keeps other messages on the form', () => {
    const error = new ApiError(401, { detail: 'Wrong e-mail or password.', code: 'invalid_credentials' });
    expect(error.fieldErrors).toEqual({ form: 'Wrong e-mail or password.' });
    expect(error.message).toBe('Wrong e-mail or password.');
  });

  it('describes a body without detail', () => {
    expect(new ApiError(502, undefined).message).toBe('The server failed to handle the request (HTTP 502). Try again in a moment.');
    expect(new ApiError(404, {}).message).toBe('The request failed with HTTP 404.');
  });
});
