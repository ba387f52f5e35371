/* The /sparql page without JavaScript is a plain form: <textarea name="query"> sent by GET.
 * With JavaScript, the textarea becomes a YASQE editor (static/yasgui/, @zazuko/yasqe):
 * SPARQL highlighting, syntax checking, and completion of prefixes and variables.
 * The editor never touches the network: prefixes come from the bundled list and the
 * server's own (data-prefixes), not prefix.cc; no vocabulary look-ups (LOV); no query
 * requests (the form runs the query); no query kept in localStorage. The page's CSP
 * (connect-src none) would refuse any of these anyway. */
(function () {
  "use strict";

  function enhance() {
    var textarea = document.getElementById("query");
    var Yasqe = window.Yasqe;
    if (!textarea || !textarea.form || typeof Yasqe !== "function") return;
    var form = textarea.form;
    var predeclared = {};
    try {
      predeclared = JSON.parse(textarea.getAttribute("data-prefixes") || "{}");
    } catch (e) {
      predeclared = {};
    }

    // Prefix completion after PREFIX: the library's bundled list (no prefix.cc), with the
    // server's predeclared namespaces taking precedence; not cached in localStorage.
    var bundled = Yasqe.Autocompleters.prefixes;
    Yasqe.forkAutocompleter(
      "prefixes",
      {
        name: "kgPrefixes",
        persistenceId: null,
        get: function (yasqe) {
          return Promise.resolve(bundled.get(yasqe)).then(function (list) {
            var ours = Object.keys(predeclared).map(function (p) {
              return p + ": <" + predeclared[p] + ">";
            });
            var others = list.filter(function (line) {
              return !Object.prototype.hasOwnProperty.call(predeclared, line.split(":")[0]);
            });
            return ours.concat(others).sort();
          });
        },
      },
      false
    );
    // Only local completers: "property" and "class" would ask lov.linkeddata.es.
    Yasqe.defaults.autocompleters = ["kgPrefixes", "variables"];
    Yasqe.defaults.prefixCcApi = null;

    // The server predeclares its prefixes: to the syntax checker they are declared, and using
    // schema: and the like adds no PREFIX line (the completer reads the same parser state).
    Yasqe.defineMode("kg-sparql11", function (config) {
      var base = Yasqe.getMode(config, "sparql11");
      return Object.assign({}, base, {
        startState: function () {
          var state = base.startState();
          state.prefixes = Object.assign({}, predeclared, state.prefixes);
          return state;
        },
      });
    });

    function run() {
      textarea.value = yasqe.getValue();
      if (typeof form.requestSubmit === "function") form.requestSubmit();
      else form.submit();
    }

    var holder = document.createElement("div");
    holder.className = "kg-editor";
    textarea.parentNode.insertBefore(holder, textarea.nextSibling);
    var yasqe = new Yasqe(holder, {
      value: textarea.value,
      mode: "kg-sparql11",
      persistenceId: null, // the query is in the URL; a stored draft must not replace it
      consumeShareLink: null,
      showQueryButton: false, // the form's Run button submits; the editor sends nothing itself
      createShareableLink: function (editor) {
        return form.action + "?" + new URLSearchParams({ query: editor.getValue() }).toString();
      },
      requestConfig: { endpoint: form.action, method: "GET" }, // for the share popup's cURL line
      editorHeight: "18rem",
      extraKeys: { "Ctrl-Enter": run, "Cmd-Enter": run },
    });

    textarea.style.display = "none";
    yasqe.getInputField().setAttribute("aria-label", "SPARQL query");
    yasqe.on("change", function () {
      textarea.value = yasqe.getValue();
    });
    // The editor's own buttons (share, cURL) sit inside the form: they must not submit it,
    // nor must Enter in the share popup's text field.
    Array.prototype.forEach.call(holder.querySelectorAll("button"), function (b) {
      b.type = "button";
    });
    form.addEventListener("submit", function (event) {
      var active = document.activeElement;
      if (
        (event.submitter && holder.contains(event.submitter)) ||
        (active && active.tagName === "INPUT" && holder.contains(active))
      ) {
        event.preventDefault();
        return;
      }
      textarea.value = yasqe.getValue();
    });
    var label = document.querySelector('label[for="query"]');
    if (label) {
      label.addEventListener("click", function (event) {
        event.preventDefault();
        yasqe.focus();
      });
    }
    var button = form.querySelector('button[type="submit"]');
    if (button) button.title = "Run the query (Ctrl+Enter)";
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", enhance);
  else enhance();
})();
