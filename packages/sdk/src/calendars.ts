import type { ClientCore } from './client.js';
import type { RequestOptions } from './http.js';
import type { Calendar } from './types.js';

/** `client.calendars`. */
export class Calendars {
  readonly #core: ClientCore;

  constructor(core: ClientCore) {
    this.#core = core;
  }

  /**
   * Every calendar across the user's connected accounts, as a bare array.
   * A `free-busy` token gets an AuthenticationError (403).
   */
  async list(options?: RequestOptions): Promise<Calendar[]> {
    return this.#core.call<Calendar[]>({ method: 'GET', path: '/calendars' }, options);
  }
}
