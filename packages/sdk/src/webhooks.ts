import type { ClientCore } from './client.js';
import type { RequestOptions } from './http.js';
import type { WebhookSubscribeData, WebhookSubscribeResponse, WebhookSubscriptionsResponse, WebhookUnsubscribeData, WebhookUnsubscribeResponse } from './types.js';

/**
 * `client.webhooks`: subscribe the user's calendars to change deliveries at the client's
 * webhook URL. Verify what arrives with the `standardwebhooks` package and the client's
 * `whsec_` secret (see Almanac's docs/webhooks.md).
 */
export class Webhooks {
  readonly #core: ClientCore;

  constructor(core: ClientCore) {
    this.#core = core;
  }

  /** Idempotent per calendar: subscribing again answers the existing subscription. */
  async subscribe(data: WebhookSubscribeData, options?: RequestOptions): Promise<WebhookSubscribeResponse> {
    return this.#core.call<WebhookSubscribeResponse>({ method: 'POST', path: '/subscribe-webhook', body: data }, options);
  }

  async unsubscribe(data: WebhookUnsubscribeData, options?: RequestOptions): Promise<WebhookUnsubscribeResponse> {
    return this.#core.call<WebhookUnsubscribeResponse>({ method: 'POST', path: '/unsubscribe-webhook', body: data }, options);
  }

  /** Almanac extra: the user's subscriptions made by this client. */
  async list(options?: RequestOptions): Promise<WebhookSubscriptionsResponse> {
    return this.#core.call<WebhookSubscriptionsResponse>({ method: 'GET', path: '/webhook-subscriptions' }, options);
  }
}
