export { AlmanacClient } from './client.js';
export type { AlmanacClientOptions, AlmanacClientConfig, ClientEventMap } from './client.js';
export { Auth } from './auth.js';
export type { GetTokenOptions } from './auth.js';
export { Calendars } from './calendars.js';
export { Events } from './events.js';
export { Webhooks } from './webhooks.js';
export {
  AlmanacError,
  AuthenticationError,
  ValidationError,
  NotFoundError,
  ConflictError,
  RateLimitError,
  ServerError,
  NetworkError,
  TimeoutError,
} from './errors.js';
export type { ErrorContext } from './errors.js';
export type { RequestOptions, RetryOptions } from './http.js';
export { createPkcePair, generateCodeVerifier, generateCodeChallenge, generateState } from './pkce.js';
export type { PkcePair } from './pkce.js';
export * from './types.js';

// Mobiscroll-compatible names, so that switching an integration over is a matter of
// changing the import (and adding `baseUrl`). They are the same classes, not copies:
// `instanceof MobiscrollConnectError` catches every Almanac error.
export { AlmanacClient as MobiscrollConnectClient } from './client.js';
export { AlmanacError as MobiscrollConnectError } from './errors.js';
export type { AlmanacClientOptions as MobiscrollConnectConfig } from './client.js';
// The other names Mobiscroll's types module uses for the same shapes.
export type {
  EventCreateData as CreateEventData,
  EventUpdateData as UpdateEventData,
  EventDeleteParams as DeleteEventParams,
  EventAvailability as CalendarEventAvailability,
  EventPrivacy as CalendarEventPrivacy,
  EventStatus as CalendarEventStatus,
  RecurrenceMode as RecurrenceUpdateMode,
  Provider as ProviderName,
} from './types.js';
export { PROVIDERS as ProviderNames } from './types.js';
