/* Keep the page's filters in the URL query (history.replaceState: no reload, no re-render),
   so a view can be bookmarked and shared. Keys must match dash_app.state.Filters.to_query. */
(function () {
  var FILTER_KEYS = ["start", "end", "category", "kind", "channel", "unit", "level", "subcategory"];

  function sync(keys, values) {
    var params = new URLSearchParams(window.location.search);
    keys.forEach(function (key, i) {
      var value = values[i];
      if (Array.isArray(value)) { value = value.join(","); }
      if (value === null || value === undefined || value === "") {
        params.delete(key);
      } else {
        params.set(key, String(value));
      }
    });
    var query = params.toString();
    var url = window.location.pathname + (query ? "?" + query : "");
    window.history.replaceState(window.history.state, "", url);
    return query;
  }

  function withFilters(extra) {
    return function () {
      return sync(FILTER_KEYS.concat(extra), Array.prototype.slice.call(arguments));
    };
  }

  window.dash_clientside = Object.assign({}, window.dash_clientside, {
    t137: {
      sync_filters: withFilters([]),
      sync_kpi: withFilters(["kpi"]),
      sync_map: withFilters(["kpi", "overlay"]),
      sync_trends: withFilters(["kpi", "by"]),
      sync_cases: withFilters(["area"]),
      sync_public: function (level, kpi) { return sync(["level", "kpi"], [level, kpi]); }
    }
  });
})();
