/* Shared helpers of the PSA pages: every XHR carries the CSRF token; one Prev / Page n of m / Next pager; money in
   the partner's currency and times in one format and one zone (the page's, named once on it); feedback next to
   what the user acted on. */
(function () {
  var meta = document.querySelector('meta[name="csrf-token"]');
  var zoneMeta = document.querySelector('meta[name="psa-timezone"]');
  var currencyMeta = document.querySelector('meta[name="psa-currency"]');
  var ZONE = (zoneMeta && zoneMeta.getAttribute('content')) || 'UTC';
  var CURRENCY = (currencyMeta && currencyMeta.getAttribute('content')) || 'USD';

  window.psaFetch = function (url, options) {
    options = options || {};
    options.credentials = 'same-origin';
    options.headers = Object.assign({'Accept': 'application/json'}, options.headers || {});
    if (meta && options.method && options.method !== 'GET') {
      options.headers['X-CSRFToken'] = meta.getAttribute('content');
    }
    if (options.json !== undefined) {
      options.headers['Content-Type'] = 'application/json';
      options.body = JSON.stringify(options.json);
      delete options.json;
    }
    return fetch(url, options).then(function (resp) {
      return resp.json().catch(function () { return {}; }).then(function (body) {
        return {ok: resp.ok, status: resp.status, body: body};
      });
    });
  };

  /* Prev / "Page n of m" / Next into the element `el` (empty when one page); onPage(p) loads page p. */
  window.psaPager = function (el, page, total, size, onPage) {
    var pages = Math.max(1, Math.ceil(total / size));
    var $el = $(el).empty();
    if (pages <= 1) { return; }
    var prev = $('<button type="button" class="btn btn-default btn-xs">&lsaquo; Prev</button>').prop('disabled', page <= 1);
    var next = $('<button type="button" class="btn btn-default btn-xs">Next &rsaquo;</button>').prop('disabled', page >= pages);
    prev.on('click', function () { onPage(page - 1); });
    next.on('click', function () { onPage(page + 1); });
    $el.append(prev, $('<span class="recon-page"></span>').text(' Page ' + page + ' of ' + pages + ' '), next);
  };

  /* The page's zone and currency (from its <meta> tags). */
  window.psaZone = ZONE;
  window.psaCurrency = CURRENCY;

  /* An amount in the partner's currency with separators: psaMoney("169678.46") -> "$169,678.46". */
  window.psaMoney = function (value, currency) {
    var n = Number(value || 0);
    try { return n.toLocaleString('en-US', {style: 'currency', currency: currency || CURRENCY}); }
    catch (e) { return (currency || CURRENCY) + ' ' + n.toFixed(2).replace(/\B(?=(\d{3})+(?!\d))/g, ','); }
  };

  /* A moment as "YYYY-MM-DD HH:MM" in the page's zone ("Monday, YYYY-MM-DD HH:MM" with {weekday: true}); the
     server's psa_when filter writes the same. ISO text without an offset is UTC (SQLite gives those). A date
     alone stays as it is. */
  var parts = null;
  window.psaWhen = function (iso, options) {
    options = options || {};
    if (!iso) { return options.empty || ''; }
    var text = String(iso);
    if (/^\d{4}-\d{2}-\d{2}$/.test(text)) { return text; }
    text = text.replace(' ', 'T').replace(/(\.\d{3})\d+/, '$1');
    if (!/(Z|[+-]\d{2}:?\d{2})$/i.test(text)) { text += 'Z'; }
    var moment = new Date(text);
    if (isNaN(moment.getTime())) { return String(iso); }
    if (!parts) {
      parts = new Intl.DateTimeFormat('en-US', {timeZone: ZONE, weekday: 'long', year: 'numeric', month: '2-digit',
                                                 day: '2-digit', hour: '2-digit', minute: '2-digit', hourCycle: 'h23'});
    }
    var p = {};
    parts.formatToParts(moment).forEach(function (part) { p[part.type] = part.value; });
    var out = p.year + '-' + p.month + '-' + p.day + ' ' + (p.hour === '24' ? '00' : p.hour) + ':' + p.minute;
    return options.weekday ? p.weekday + ', ' + out : out;
  };

  /* Schedule days in words, as the server's psa_days filter: ["mon","wed","fri"] -> "Monday, Wednesday and Friday". */
  var DAYS = [['mon', 'Monday'], ['tue', 'Tuesday'], ['wed', 'Wednesday'], ['thu', 'Thursday'], ['fri', 'Friday'],
              ['sat', 'Saturday'], ['sun', 'Sunday']];
  window.psaDays = function (days) {
    var chosen = DAYS.filter(function (d) { return (days || []).indexOf(d[0]) >= 0; }).map(function (d) { return d[1]; });
    if (chosen.length === 7) { return 'every day'; }
    if (chosen.join() === 'Monday,Tuesday,Wednesday,Thursday,Friday') { return 'Monday to Friday'; }
    if (!chosen.length) { return 'no day'; }
    return chosen.length === 1 ? chosen[0] : chosen.slice(0, -1).join(', ') + ' and ' + chosen[chosen.length - 1];
  };

  /* Feedback right where the user acted: `kind` is success, danger, info or warning. `place` is a jQuery element
     the message goes after ("after"), before ("before") or replaces the content of ("into"). Returns it. */
  window.psaNotice = function ($place, kind, text, how) {
    var $box = $('<div class="alert psa-notice" role="status" aria-live="polite"></div>').addClass('alert-' + kind).text(text);
    if (how === 'into') { $place.empty().append($box); }
    else if (how === 'before') { $place.before($box); }
    else { $place.after($box); }
    return $box;
  };

  /* Server-rendered amounts: <span data-psa-money="169678.46">USD 169,678.46</span> -> "$169,678.46". */
  function formatMarked(root) {
    (root || document).querySelectorAll('[data-psa-money]').forEach(function (el) {
      el.textContent = window.psaMoney(el.getAttribute('data-psa-money'), el.getAttribute('data-currency') || undefined);
    });
  }
  window.psaFormatMarked = formatMarked;
  formatMarked(document);
})();
