/* Save before submit: a JupyterLab 4 extension of the course's student set-up.
 *
 * nbgrader's Submit (Assignments tab) sends the notebooks as they are on disk; an answer typed
 * but not saved would be left out without a word. This plugin catches the click on Submit first:
 * when an open document has unsaved changes it saves them, says so, then lets the click through.
 *
 * Written by hand, no build step: it imports nothing (it uses only the application object that
 * JupyterLab passes to activate), so it registers itself the way a built extension's
 * remoteEntry does, as the container window._JUPYTERLAB["course-save-before-submit"].
 */
(function () {
  "use strict";
  const NAME = "course-save-before-submit";
  const SUBMIT = "#fetched_assignments_list button";  // nbgrader's assignment list, "Submit" buttons

  function notify(app, message, type) {
    app.commands.execute("apputils:notify", { message: message, type: type, options: { autoClose: 8000 } })
      .catch(function () { window.alert(message); });
  }

  function unsaved(app) {
    return Array.from(app.shell.widgets("main")).filter(function (w) {
      return w.context && w.context.model && w.context.model.dirty;
    });
  }

  const plugin = {
    id: NAME + ":plugin",
    description: "Saves open documents before nbgrader's Submit",
    autoStart: true,
    activate: function (app) {
      let passing = null;  // the button whose click goes through once its documents are saved
      document.addEventListener("click", function (event) {
        const button = event.target.closest ? event.target.closest(SUBMIT) : null;
        if (!button || button === passing || button.textContent.trim() !== "Submit") return;
        const documents = unsaved(app);
        if (!documents.length) return;
        event.preventDefault();
        event.stopImmediatePropagation();
        const paths = documents.map(function (w) { return w.context.path; }).join(", ");
        Promise.all(documents.map(function (w) { return w.context.save(); })).then(function () {
          notify(app, "提交前已保存 / Saved before submitting: " + paths, "info");
          passing = button;
          try { button.click(); } finally { passing = null; }
        }, function (error) {
          notify(app, "未能保存，未提交 / Could not save, nothing submitted: " + paths + " (" + error + ")",
                 "error");
        });
      }, true);
    }
  };

  window._JUPYTERLAB = window._JUPYTERLAB || {};
  window._JUPYTERLAB[NAME] = {
    init: function () { return Promise.resolve(); },
    get: function () {
      return Promise.resolve(function () { return { __esModule: true, "default": [plugin] }; });
    }
  };
})();
