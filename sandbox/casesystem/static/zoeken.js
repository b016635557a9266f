// Loads the kenmerk search results after the configured delay (a slow index, as in real systems).
// Until then the region says "Bezig met zoeken..." and is aria-busy.
(function () {
  var region = document.querySelector('section[aria-label="Zoekresultaten"]');
  if (!region) { return; }
  var delay = parseInt(region.getAttribute("data-vertraging") || "0", 10);
  function done(html) { region.innerHTML = html; region.setAttribute("aria-busy", "false"); }
  window.setTimeout(function () {
    fetch(region.getAttribute("data-bron"), { credentials: "same-origin", headers: { "X-Requested-With": "fetch" } })
      .then(function (response) {
        if (response.status === 401) {
          window.location.href = "/inloggen?verlopen=1&next=" + encodeURIComponent(window.location.pathname + window.location.search);
          return null;
        }
        if (!response.ok) { done('<p role="alert">Er is een fout opgetreden bij het zoeken.</p>'); return null; }
        return response.text().then(done);
      })
      .catch(function () { done('<p role="alert">Er is een fout opgetreden bij het zoeken.</p>'); });
  }, delay);
})();
