// Small enhancements every page shares; every page works without them.
(function () {
  'use strict';
  // Buttons that undo something ask first (the form still works without script).
  document.addEventListener('submit', function (event) {
    var button = event.submitter;
    var question = button && button.getAttribute('data-confirm');
    if (question && !window.confirm(question)) { event.preventDefault(); }
  });
})();
