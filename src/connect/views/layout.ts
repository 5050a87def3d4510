/**
 * The document around every connect page: `<html lang dir data-theme>`, the static
 * stylesheet and script, the nonce'd brand colours, a skip link, the header with the
 * application's identity, `<main>`, and the footer (theme buttons, Almanac credit).
 */
import { brandStyles } from '../branding/brand-css.js';
import { dir, t } from '../i18n/translator.js';
import type { Locale, MessageKey } from '../i18n/translator.js';
import { assetUrl } from '../static/index.js';
import { html, msg, raw, safeUrl } from './html.js';
import type { HtmlValue, SafeHtml } from './html.js';
import { icons } from './icons.js';
import type { PageViewModel, ThemeChoice } from './view-models.js';
import { FORM_FIELDS } from './view-models.js';

export const PRODUCT_NAME = 'Almanac';
const MAX_APP_NAME = 80;

/** The display name as shown: whitespace collapsed, at most 80 characters; undefined when blank. */
export function cleanAppName(name: string | undefined): string | undefined {
  const clean = name?.replace(/[\u0000-\u001f\u007f]/g, '').replace(/\s+/g, ' ').trim();
  if (!clean) return undefined;
  return clean.length > MAX_APP_NAME ? `${clean.slice(0, MAX_APP_NAME - 1)}…` : clean;
}

/** Markup for the app's name inside a sentence: isolated so it can't reorder RTL text. */
export function appNameHtml(name: string): SafeHtml {
  return html`<bdi class="app-name">${name}</bdi>`;
}

/** Plain-text form (for <title> and aria-label), with Unicode isolates in RTL pages. */
export function appNameText(locale: Locale, name: string): string {
  return dir(locale) === 'rtl' ? `\u2068${name}\u2069` : name;
}

/** "<app> …" when the app has a name, the generic sentence otherwise. */
export function appMsg(vm: Pick<PageViewModel, 'locale' | 'appName'>, key: MessageKey, genericKey: MessageKey): SafeHtml {
  const name = cleanAppName(vm.appName);
  // One wrapping element, so a flex container (a button) lays the sentence out as one item.
  return html`<span>${name ? msg(vm.locale, key, { app: appNameHtml(name) }) : msg(vm.locale, genericKey)}</span>`;
}

export function appText(vm: Pick<PageViewModel, 'locale' | 'appName'>, key: MessageKey, genericKey: MessageKey): string {
  const name = cleanAppName(vm.appName);
  return name ? t(vm.locale, key, { app: appNameText(vm.locale, name) }) : t(vm.locale, genericKey);
}

export function csrfField(token: string | undefined): SafeHtml {
  return token === undefined ? html`` : html`<input type="hidden" name="${FORM_FIELDS.csrf}" value="${token}">`;
}

/** A one-button POST form (the CSRF token included). */
export function postButton(opts: {
  action: string;
  csrfToken: string | undefined;
  label: HtmlValue;
  className: string;
  hidden?: Record<string, string>;
  ariaLabel?: string;
  formClass?: string;
}): SafeHtml {
  const hidden = Object.entries(opts.hidden ?? {}).map(([name, value]) => html`<input type="hidden" name="${name}" value="${value}">`);
  return html`<form class="${opts.formClass ?? 'inline-form'}" method="post" action="${safeUrl(opts.action)}">${csrfField(opts.csrfToken)}${hidden}<button type="submit" class="${opts.className}"${
    opts.ariaLabel ? html` aria-label="${opts.ariaLabel}"` : ''
  }>${opts.label}</button></form>`;
}

const NONCE = /^[A-Za-z0-9+/=_-]{8,128}$/;

function brandBlock(vm: Pick<PageViewModel, 'branding' | 'cspNonce'>): SafeHtml {
  const css = brandStyles(vm.branding);
  if (!css || !NONCE.test(vm.cspNonce)) return html``;
  return html`<style nonce="${vm.cspNonce}">${raw(css)}</style>`;
}

function logo(vm: PageViewModel): SafeHtml {
  const name = cleanAppName(vm.appName);
  const { logoUrl, logoDarkUrl } = vm.branding;
  const alt = name ?? '';
  if (logoUrl || logoDarkUrl) {
    const light = logoUrl ?? (logoDarkUrl as string);
    const dark = logoDarkUrl ?? light;
    if (vm.theme === 'dark') return html`<img class="brand-logo" src="${safeUrl(dark)}" alt="${alt}">`;
    if (vm.theme === 'light' || dark === light) return html`<img class="brand-logo" src="${safeUrl(light)}" alt="${alt}">`;
    return html`<picture><source srcset="${safeUrl(dark)}" media="(prefers-color-scheme: dark)"><img class="brand-logo" src="${safeUrl(light)}" alt="${alt}"></picture>`;
  }
  if (name) {
    const initial = [...name][0]?.toLocaleUpperCase(vm.locale) ?? '';
    return html`<span class="brand-monogram" aria-hidden="true">${initial}</span>`;
  }
  return html`<span class="brand-monogram brand-monogram--generic" aria-hidden="true">${icons.calendar()}</span>`;
}

function themeSwitch(vm: PageViewModel & { csrfToken?: string }, choice: ThemeChoice): SafeHtml {
  const option = (value: 'light' | 'dark' | 'auto', label: MessageKey, icon: SafeHtml, title?: MessageKey) =>
    html`<button type="submit" name="${FORM_FIELDS.theme}" value="${value}" class="theme-option" aria-pressed="${
      choice.current === value ? 'true' : 'false'
    }"${title ? html` title="${t(vm.locale, title)}"` : ''}>${icon}<span>${t(vm.locale, label)}</span></button>`;
  return html`<form class="theme-switch" method="post" action="${safeUrl(choice.action)}">
${csrfField(vm.csrfToken)}<input type="hidden" name="${FORM_FIELDS.returnTo}" value="${choice.returnTo}">
<fieldset><legend class="theme-legend">${t(vm.locale, 'theme.legend')}</legend><div class="theme-options">${option('light', 'theme.light', icons.sun())}${option(
    'dark',
    'theme.dark',
    icons.moon(),
  )}${option('auto', 'theme.auto', icons.device(), 'theme.autoLabel')}</div></fieldset>
</form>`;
}

export interface DocumentOptions {
  /** The page's own title; the document title adds the app's name. */
  title: string;
  body: SafeHtml;
  /** Header's "Back to <app>": a POST (cancel, in a session) or a GET link. */
  back?: { post: string } | { href: string };
  /** The header's line next to the logo; default: "<app> wants to connect to your calendars". */
  identity?: SafeHtml;
}

type DocumentViewModel = Omit<PageViewModel, 'csrfToken'> & { csrfToken?: string };

export function renderDocument(vm: DocumentViewModel, opts: DocumentOptions): string {
  const { locale } = vm;
  const name = cleanAppName(vm.appName);
  const title = name ? `${opts.title} · ${appNameText(locale, name)}` : opts.title;
  const colorScheme = vm.theme === 'auto' ? 'light dark' : vm.theme;
  const backLabel = html`${icons.back()}${appMsg(vm, 'nav.backToApp', 'nav.backToAppGeneric')}`;
  let back: SafeHtml = html``;
  if (opts.back && 'post' in opts.back) {
    back = postButton({ action: opts.back.post, csrfToken: vm.csrfToken, label: backLabel, className: 'back-link', formClass: 'back-form' });
  } else if (opts.back && 'href' in opts.back) {
    back = html`<a class="back-link" href="${safeUrl(opts.back.href)}">${backLabel}</a>`;
  }
  const footerCredit = vm.branding.hideFooter
    ? html``
    : html`<p class="credit">${icons.lock()}<span>${msg(locale, 'layout.poweredBy', { product: html`<span class="product">${PRODUCT_NAME}</span>` })}</span></p>`;
  const themeControls = vm.themeChoice && vm.csrfToken !== undefined ? themeSwitch(vm as PageViewModel, vm.themeChoice) : html``;
  const footer = footerCredit.value || themeControls.value ? html`<footer class="site-footer">${themeControls}${footerCredit}</footer>` : html``;

  const doc = html`<!doctype html>
<html lang="${locale}" dir="${dir(locale)}" data-theme="${vm.theme}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="${colorScheme}">
<meta name="robots" content="noindex, nofollow">
<meta name="referrer" content="same-origin">
<title>${title}</title>
<link rel="icon" href="${assetUrl('favicon.svg')}" type="image/svg+xml">
<link rel="stylesheet" href="${assetUrl('connect.css')}">
${brandBlock(vm)}
<script src="${assetUrl('connect.js')}" defer></script>
</head>
<body>
<a class="skip-link" href="#main">${t(locale, 'layout.skipToContent')}</a>
<div class="page">
<header class="masthead">
${back.value ? html`<div class="topbar">${back}</div>` : ''}
<div class="brand">${logo(vm as PageViewModel)}<p class="identity">${opts.identity ?? appMsg(vm, 'identity.wantsToConnect', 'identity.wantsToConnectGeneric')}</p></div>
</header>
<main id="main" class="card" tabindex="-1">
${opts.body}
</main>
${footer}
</div>
</body>
</html>
`;
  return doc.value;
}
