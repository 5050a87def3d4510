// Progressive enhancement only: every page works without this file.
// 1. A submitted form's button is marked busy and further submits are ignored, so a
//    double click can't post a login or a finish twice.
// 2. Following a link to the iCloud help (#app-password-help) opens the disclosure.
(function () {
  'use strict';

  document.addEventListener('submit', function (event) {
    var form = event.target;
    if (!(form instanceof HTMLFormElement)) return;
    if (form.dataset.submitted === 'true') {
      event.preventDefault();
      return;
    }
    form.dataset.submitted = 'true';
    var button = event.submitter || form.querySelector('button[type="submit"]');
    if (button) button.setAttribute('aria-busy', 'true');
  });

  // Coming back with the browser's back button restores the page from cache: re-arm forms.
  window.addEventListener('pageshow', function () {
    document.querySelectorAll('form[data-submitted]').forEach(function (form) {
      delete form.dataset.submitted;
    });
    document.querySelectorAll('[aria-busy="true"]').forEach(function (el) {
      el.removeAttribute('aria-busy');
    });
  });

  function openHelp() {
    if (location.hash !== '#app-password-help') return;
    var details = document.getElementById('app-password-help');
    if (details && details.tagName === 'DETAILS') details.open = true;
  }
  window.addEventListener('hashchange', openHelp);
  openHelp();
})();
