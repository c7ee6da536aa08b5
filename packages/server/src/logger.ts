import pino, { type Logger } from 'pino';

/** Removes credentials from a request URL before it is logged: `?token=abc` → `?token=[redacted]`. */
export function redactUrl(url: string | undefined): string {
  if (!url) return '';
  return url.replace(/([?&](?:token|access_token|jwt)=)[^&#]*/gi, '$1[redacted]');
}

/** The default logger. Header paths that carry credentials are redacted by pino itself. */
export function createDefaultLogger(): Logger {
  return pino({
    level: 'info',
    redact: { paths: ['req.headers.authorization', 'req.headers.cookie', 'token'], censor: '[redacted]' },
  });
}
