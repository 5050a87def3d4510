export * from './branding.js';
export * from './brand-css.js';
export * from './color.js';
export * from './theme.js';
