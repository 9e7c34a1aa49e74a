/* The exposure report's page script.
 *
 * Every value that came from AWS is put on the page with textContent (or drawn on the
 * graph's canvas): never innerHTML. Data comes from the JSON script blocks of the page;
 * a VPC's detail block is parsed only when the VPC is opened.
 */
(function () {
  "use strict";

  var DATA = JSON.parse(document.getElementById("ivs-data").textContent);
  // Severities come from the data, highest first; each one's colour is the stylesheet's
  // custom property of its name (--critical), which the graph's canvas needs as a value.
  var SEVERITIES = DATA.severities;
  var SEV_RANK = {};
  var SEV_COLOR = {};
  var rootStyle = getComputedStyle(document.documentElement);
  SEVERITIES.forEach(function (sev, i) {
    SEV_RANK[sev] = SEVERITIES.length - i;
    SEV_COLOR[sev] = rootStyle.getPropertyValue("--" + sev).trim();
  });
  var ZONE_FIXED = { prod: "#4263eb", staging: "#1098ad", dev: "#37b24d", shared: "#9775fa", unknown: "#a5adba" };
  var ZONE_MORE = ["#f76707", "#e64980", "#74b816", "#15aabf", "#ae3ec9", "#fab005", "#495057"];
  var RULES = {};
  DATA.rules.forEach(function (r) { RULES[r.id] = r; });
  var NAMES = DATA.account_names || {}; // account id -> its name, where the document has it
  // paths are stored as indexes into one table of hops
  DATA.findings.forEach(function (f) {
    f.path = f.path.map(function (i) { var h = DATA.hops[i]; return { hop: h[0], why: h[1] }; });
  });
  var PAGE = 100; // findings rows shown per step
  var ENI_LIMIT = 24; // ENIs drawn per opened subnet before "+N more"
  var VPC_LIMIT = 24; // VPCs drawn per opened zone before "+N more"
  var MANY_VPCS = 40; // above this many VPCs the graph starts at the zone level

  // ---- small DOM helpers (text only) ------------------------------------------------
  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }
  function add(parent) {
    for (var i = 1; i < arguments.length; i++) {
      var child = arguments[i];
      if (child === null || child === undefined) continue;
      parent.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
    }
    return parent;
  }
  function clear(node) { while (node.firstChild) node.removeChild(node.firstChild); return node; }
  function byId(id) { return document.getElementById(id); }
  function plural(n, one, many) { return Number(n).toLocaleString("en-US") + " " + (n === 1 ? one : (many || one + "s")); }
  function fmt(n) { return Number(n).toLocaleString("en-US"); }
  function pill(sev) { var p = el("span", "pill sev-" + sev, sev); return p; }
  function zoneColor(zone) {
    if (!zone) return "#a5adba";
    if (ZONE_FIXED[zone]) return ZONE_FIXED[zone];
    var order = DATA.zones.order.filter(function (z) { return !ZONE_FIXED[z]; });
    var i = order.indexOf(zone);
    return ZONE_MORE[(i < 0 ? zone.length : i) % ZONE_MORE.length];
  }
  // an account as the page shows it: "payments-prod (123456789012)", or its id
  function acctName(id) { return id && NAMES[id] ? NAMES[id] + " (" + id + ")" : String(id || ""); }
  function acctShort(id) { return (id && NAMES[id]) || String(id || ""); }
  function shortTime(iso) { return iso ? String(iso).replace("T", " ").replace(/\.\d+/, "").replace("Z", " UTC") : "-"; }
  function traffic(parts) {
    return parts.map(function (p) {
      if (p.protocol === "all") return "all traffic";
      if (p.protocol === "other") return "other protocols";
      return p.protocol + " " + p.ports;
    }).join("; ");
  }

  // ---- tooltip ------------------------------------------------------------------------
  var tip = byId("tip");
  function showTip(event, title, lines) {
    clear(tip);
    add(tip, el("div", "tt", title));
    lines.forEach(function (line) {
      var row = el("div", "tl" + (line.bad ? " bad" : ""), line.text);
      add(tip, row);
    });
    tip.hidden = false;
    moveTip(event);
  }
  function moveTip(event) {
    var x = event.clientX + 14, y = event.clientY + 14;
    var w = tip.offsetWidth, h = tip.offsetHeight;
    if (x + w > window.innerWidth - 8) x = event.clientX - w - 14;
    if (y + h > window.innerHeight - 8) y = event.clientY - h - 14;
    tip.style.left = x + "px";
    tip.style.top = y + "px";
  }
  function hideTip() { tip.hidden = true; }

  // ---- header and summary ---------------------------------------------------------------
  function renderHeader() {
    var meta = byId("meta");
    var snap = String(DATA.meta.snapshot || "snapshot");
    var parts = [
      ["Snapshot", snap.split("/").filter(Boolean).pop() || snap],
      ["Collected", shortTime(DATA.meta.collected_at)],
      ["Analysed", shortTime(DATA.meta.generated_at)]
    ];
    parts.forEach(function (p) {
      var span = el("span");
      add(span, p[0] + " ", el("b", null, p[1]));
      add(meta, span);
    });
    var s = DATA.summary;
    var verdict = byId("verdict");
    verdict.className = "top-right verdict";
    var worstSev = SEVERITIES.filter(function (x) { return s.severity[x] > 0; })[0];
    add(verdict, el("div", "v-title", "Highest severity"));
    var verdictText = worstSev ? worstSev.toUpperCase() : (s.places ? "No findings" : "Nothing assessed");
    add(verdict, el("div", "v-main " + (worstSev || !s.places ? "bad" : "good"), verdictText));
    if (s.not_assessed) add(verdict, el("div", "v-title", plural(s.not_assessed, "account-region") + " not assessed"));
  }

  function renderSummary() {
    var s = DATA.summary;
    var total = byId("total-findings");
    total.textContent = fmt(s.findings);
    total.setAttribute("data-count", String(s.findings));
    var bar = byId("sev-bar"), tiles = byId("sev-tiles");
    if (SEVERITIES.some(function (x) { return (s.severity[x] || 0) >= 1000; })) tiles.classList.add("wide");
    SEVERITIES.forEach(function (sev) {
      var n = s.severity[sev] || 0;
      if (n && s.findings) {
        var seg = el("span");
        seg.style.width = (100 * n / s.findings) + "%";
        seg.style.background = SEV_COLOR[sev];
        add(bar, seg);
      }
      var tile = el("div", "sev-tile sev-" + sev + (n ? "" : " zero"));
      tile.setAttribute("data-severity", sev);
      var num = el("div", "n", fmt(n));
      num.setAttribute("data-count", String(n));
      add(tile, num, el("div", "l", sev));
      add(tiles, tile);
    });

    var reach = byId("reach"), accts = {}, vpcs = {}, res = {}, crit = {};
    DATA.findings.forEach(function (f) {
      if (f.account) accts[f.account] = true;
      if (f.vpc) vpcs[f.vpc] = true;
      res[f.resource] = true;
      if (f.severity === SEVERITIES[0]) crit[f.resource] = true;
    });
    [["Accounts with findings", fmt(Object.keys(accts).length) + " of " + fmt(s.accounts)],
     ["VPCs with findings", fmt(Object.keys(vpcs).length) + " of " + fmt(s.vpcs)],
     ["Resources named in findings", Object.keys(res).length],
     ["Resources with a " + SEVERITIES[0] + " finding", Object.keys(crit).length]].forEach(function (row) {
      add(reach, el("span", null, row[0]), el("span", "v", typeof row[1] === "number" ? fmt(row[1]) : row[1]));
    });
    var risks = [["accepted", "Accepted risks (still listed)", s.accepted || 0]];
    var expired = DATA.findings.filter(function (f) { return f.acceptance_expired; }).length;
    if (expired) risks.push(["acceptance-expired", "Acceptances expired: findings again", expired]);
    if (DATA.baseline || DATA.findings.some(function (f) { return f.change; })) {
      risks.push(["new", "New since the baseline", DATA.findings.filter(function (f) { return f.change === "new"; }).length]);
      risks.push(["fixed", "Fixed since the baseline", (DATA.fixed || []).length]);
    }
    risks.forEach(function (row) {
      var v = el("span", "v", fmt(row[2]));
      v.setAttribute("data-count", String(row[2]));
      var name = el("span", null, row[1]);
      name.setAttribute("data-stat", row[0]);
      add(reach, name, v);
    });

    var cov = byId("coverage");
    function stat(n, label, cls, key) {
      var box = el("div", "stat" + (cls ? " " + cls : ""));
      var num = el("div", "n", fmt(n));
      num.setAttribute("data-count", String(n));
      if (key) box.setAttribute("data-stat", key);
      add(box, num, el("div", "l", label));
      add(cov, box);
    }
    stat(s.places, (s.places === 1 ? "account-region" : "account-regions") + " assessed: " + plural(s.accounts, "account") + " in " + plural(s.regions, "region"), "good", "assessed");
    stat(s.not_assessed, "not assessed: not known to be clean", s.not_assessed ? "bad" : "", "not-assessed");
    stat(s.vpcs, s.vpcs === 1 ? "VPC" : "VPCs", "", "vpcs");
    stat(s.enis, "network interfaces in " + plural(s.subnets, "subnet"), "", "enis");

    var gaps = byId("gaps");
    if (DATA.not_assessed.length) {
      var box = el("div", "gaps");
      add(box, el("div", "muted", "Not assessed"));
      var list = el("ul");
      DATA.not_assessed.forEach(function (g) {
        var li = el("li");
        li.setAttribute("data-gap", (g.account || "") + "/" + (g.region || ""));
        add(li, el("span", "mono", (acctName(g.account) || "?") + " · " + (g.region || "?")), el("span", "err", g.error || "error"));
        if (g.message) li.title = String(g.message);
        add(list, li);
      });
      add(box, list);
      add(gaps, box);
    }
    var unseen = Object.keys(DATA.kinds_not_seen || {});
    if (unseen.length) {
      var det = el("details", "unseen");
      add(det, el("summary", null, plural(unseen.length, "kind") + " of data absent from some places"));
      var ul = el("ul");
      unseen.sort().forEach(function (k) {
        add(ul, el("li", null, k + ": " + plural(DATA.kinds_not_seen[k].length, "place")));
      });
      add(det, ul);
      add(gaps, det);
    }
    var unplaced = DATA.not_placed || { count: 0, items: [] };
    if (unplaced.count) {
      var box2 = el("details", "unplaced");
      box2.setAttribute("data-stat", "not-placed");
      add(box2, el("summary", null, plural(unplaced.count, "thing") + " read but not placed: not assessed"));
      var items = el("ul");
      unplaced.items.forEach(function (x) {
        var li = el("li");
        li.setAttribute("data-not-placed", x.resource);
        add(li, el("span", "mono", x.kind + " · " + x.resource), el("span", "err", x.reason));
        li.title = (x.account || "?") + " · " + (x.region || "?");
        add(items, li);
      });
      if (unplaced.items.length < unplaced.count) add(items, el("li", "muted", fmt(unplaced.count - unplaced.items.length) + " more not listed"));
      add(box2, items);
      add(gaps, box2);
    }

    bars(byId("by-control"), Object.keys(s.controls).map(function (c) {
      return { name: c, n: s.controls[c] };
    }), null);
    bars(byId("by-rule"), Object.keys(s.rules).map(function (r) {
      return { name: RULES[r] ? RULES[r].title : r, n: s.rules[r], sev: RULES[r] && RULES[r].severity, key: r };
    }), function (item) { setRuleFilter(item.key); }, true);
  }

  var PORT_NAMES = { 21: "FTP", 22: "SSH", 23: "Telnet", 25: "SMTP", 53: "DNS", 80: "HTTP", 443: "HTTPS", 445: "SMB", 1433: "SQL Server", 1521: "Oracle", 2049: "NFS", 3306: "MySQL", 3389: "RDP", 5432: "PostgreSQL", 5601: "Kibana", 5985: "WinRM", 5986: "WinRM", 6379: "Redis", 8080: "HTTP alt", 8443: "HTTPS alt", 9200: "Elasticsearch", 11211: "Memcached", 27017: "MongoDB" };

  function renderPorts() {
    var groups = {}, resources = {}, vpcs = {};
    DATA.findings.forEach(function (f) {
      if (f.source !== "internet" || f.rule.indexOf("internet-exposed") !== 0 || !f.protocol) return;
      resources[f.resource] = true;
      if (f.vpc) vpcs[f.vpc] = true;
      String(f.ports).split(",").forEach(function (piece) {
        var key = f.protocol + " " + piece;
        var g = groups[key] || (groups[key] = { name: key, res: {}, sev: f.severity, n: 0, port: piece });
        if (!g.res[f.resource]) { g.res[f.resource] = true; g.n += 1; }
        if (SEV_RANK[f.severity] > SEV_RANK[g.sev]) g.sev = f.severity;
      });
    });
    var items = Object.keys(groups).map(function (k) {
      var g = groups[k], known = PORT_NAMES[g.port];
      return { name: g.name + (known ? " · " + known : ""), n: g.n, sev: g.sev, key: g.name };
    }).sort(function (a, b) { return SEV_RANK[b.sev] - SEV_RANK[a.sev] || b.n - a.n || (a.name < b.name ? -1 : 1); });
    var count = Object.keys(resources).length;
    byId("inet-hint").textContent = count
      ? fmt(count) + (count === 1 ? " resource in " : " resources in ") + fmt(Object.keys(vpcs).length) + (Object.keys(vpcs).length === 1 ? " VPC" : " VPCs") + " can be opened from the internet, by port (resources per port). Click a port to list its findings."
      : "Nothing in the assessed accounts can be opened from the internet.";
    var box = byId("by-port");
    if (!items.length) { add(box, el("div", "empty", "No internet exposure.")); return; }
    var top = items.slice(0, 12);
    bars(box, top, function (item) {
      state.text = item.key.split(" ")[1];
      state.rule = ""; byId("rule-filter").value = "";
      byId("text-filter").value = state.text;
      state.zoneTo = null; state.limit = PAGE;
      renderTable();
      byId("findings-section").scrollIntoView({ behavior: "smooth" });
    }, true);
    if (items.length > top.length) add(box, el("div", "muted", "and " + plural(items.length - top.length, "more port") + " in the findings table"));
  }

  function bars(box, items, onClick, stacked) {
    if (!items.length) { add(box, el("div", "empty", "No findings.")); return; }
    var max = Math.max.apply(null, items.map(function (i) { return i.n; }));
    items.forEach(function (item) {
      var row = el("div", "bar-row" + (item.sev ? " sev-" + item.sev : "") + (stacked ? " stacked" : ""));
      var name = el("span", "name", item.name);
      name.title = item.name;
      var track = el("span", "track"), fill = el("span", "fill");
      fill.style.width = Math.max(3, 100 * item.n / max) + "%";
      fill.style.display = "block";
      add(track, fill);
      add(row, name, track, el("span", "num", fmt(item.n)));
      if (onClick) { row.style.cursor = "pointer"; row.addEventListener("click", function () { onClick(item); }); }
      add(box, row);
    });
  }

  // ---- zone heat map ----------------------------------------------------------------------
  function renderHeat() {
    var z = DATA.zones, table = byId("heat");
    var legend = byId("heat-legend");
    Object.keys(z.styles).forEach(function (key) {
      var item = el("span"), b = el("span", "sw");
      item.setAttribute("data-style", "heat-" + key);
      b.style.background = z.styles[key].color;
      add(legend, add(item, b, z.styles[key].legend));
    });
    var guard = el("span", "prot-key");
    guard.setAttribute("data-style", "heat-protected");
    add(legend, add(guard, el("span", "prot", "protected"), "a zone the zone policy closes to the others, except for its allowed flows"));
    var isProtected = {};
    z.protected.forEach(function (zone) { isProtected[zone] = true; });
    if (!z.order.length) { table.parentNode.replaceChild(el("div", "empty", "No zone-to-zone paths in this snapshot."), table); return; }
    var cells = {};
    z.cells.forEach(function (c) { cells[c.from + "\u0000" + c.to] = c; });
    var head = el("thead"), hr = el("tr");
    add(hr, el("th", "corner", "from \u2193  to \u2192"));
    z.order.forEach(function (zone) {
      var th = el("th");
      var dot = el("span", "zone-dot"); dot.style.background = zoneColor(zone);
      add(th, dot, zone);
      th.setAttribute("data-zone", zone);
      if (isProtected[zone]) { th.setAttribute("data-protected", "1"); add(th, el("span", "prot", "protected")); }
      add(hr, th);
    });
    add(head, hr); add(table, head);
    var body = el("tbody");
    if (z.internet.length) {
      var tr = el("tr", "internet");
      add(tr, el("th", null, "internet"));
      var byTo = {};
      z.internet.forEach(function (c) { byTo[c.to] = c; });
      z.order.forEach(function (to) {
        var c = byTo[to];
        add(tr, heatCell(c ? { from: "internet", to: to, traffic: c.traffic, forbidden: c.forbidden, weight: c.weight, findings: c.findings, internet: true, protected: !!isProtected[to] } : null, "internet", to));
      });
      add(body, tr);
    }
    z.order.forEach(function (from) {
      var tr = el("tr");
      var th = el("th");
      var dot = el("span", "zone-dot"); dot.style.background = zoneColor(from);
      add(th, dot, from);
      add(tr, th);
      z.order.forEach(function (to) { add(tr, heatCell(cells[from + "\u0000" + to] || null, from, to)); });
      add(body, tr);
    });
    add(table, body);
  }

  function heatCell(c, from, to) {
    var td = el("td");
    td.setAttribute("data-from", from);
    td.setAttribute("data-to", to);
    if (from === to) td.classList.add("same");
    if (!c || (!c.traffic.length && !c.findings)) {
      td.classList.add("none");
      td.setAttribute("data-policy", "none");
      add(td, el("span", "t", "\u00b7"));
      td.addEventListener("mouseenter", function (e) { showTip(e, from + " \u2192 " + to, [{ text: "no path" }]); });
    } else {
      var bad = !!(c.forbidden && c.forbidden.length);
      var policy = bad ? "forbidden" : c.traffic.length ? "allowed" : "none";
      td.setAttribute("data-policy", policy);
      var w = c.weight || 0.2;
      var alpha = bad ? 0.28 + 0.62 * w : 0.12 + 0.5 * w;
      if (policy === "none") td.classList.add("none");
      else td.style.background = bad ? "rgba(201,42,42," + alpha.toFixed(2) + ")" : "rgba(66,99,235," + alpha.toFixed(2) + ")";
      if (policy !== "none" && alpha > 0.55) td.classList.add("dark");
      add(td, el("span", "t", c.traffic.length ? short(c.traffic) : "\u00b7"));
      if (c.findings) add(td, el("span", "f", fmt(c.findings) + (c.findings === 1 ? " finding" : " findings")));
      td.setAttribute("data-forbidden", bad ? "1" : "0");
      td.setAttribute("data-findings", String(c.findings || 0));
      td.addEventListener("mouseenter", function (e) {
        var lines = [];
        if (c.traffic.length) lines.push({ text: (c.internet ? "reachable: " : "allowed paths carry: ") + traffic(c.traffic) });
        if (bad) lines.push({ text: "forbidden by the zone policy: " + traffic(c.forbidden) + (c.internet ? (c.protected ? " (a protected zone)" : " (administration and database ports)") : ""), bad: true });
        else if (c.traffic.length) lines.push({ text: c.internet ? "allowed: no administration or database port, and " + to + " is not a protected zone" : "allowed by the zone policy" });
        if (c.findings) lines.push({ text: plural(c.findings, "finding") + " (click to list)", bad: true });
        showTip(e, from + " \u2192 " + to, lines);
      });
      if (c.findings) {
        td.style.cursor = "pointer";
        td.addEventListener("click", function () {
          state.text = c.internet ? "internet" : "zone:" + from;
          state.zoneTo = to;
          byId("text-filter").value = state.text + " \u2192 " + to;
          state.limit = PAGE;
          renderTable();
          byId("findings-section").scrollIntoView({ behavior: "smooth" });
        });
      }
    }
    td.addEventListener("mousemove", moveTip);
    td.addEventListener("mouseleave", hideTip);
    return td;
  }

  function short(parts) {
    if (parts.some(function (p) { return p.protocol === "all"; })) return "all";
    var text = parts.map(function (p) { return p.protocol === "other" ? "other" : p.protocol + " " + p.ports; }).join(" \u00b7 ");
    return text.length > 22 ? text.slice(0, 21) + "\u2026" : text;
  }

  // ---- network graph ------------------------------------------------------------------------
  var net = {
    info: {}, // id -> {kind, parent, data}
    children: {}, // id -> [child ids]
    edges: [], // canonical edges {a, b, kind, id}
    loaded: {}, // vpc index -> true
    expanded: {},
    pinned: {}, // ENIs drawn even beyond the per-subnet limit
    extra: {}, // subnet -> ENIs drawn beyond the limit by "+N more"
    highlight: null,
    mode: "account", // "zone": VPCs grouped under their zone; "account": under their account
    acctKids: {}, // account node -> its VPCs and transit gateways
    zoneKids: {}, // zone node -> its VPCs
    vpcZone: {}, // VPC -> the zone it is grouped under
    shownCache: {}, // parent -> drawn and hidden children, until the next refresh
    sizes: {}, // node -> its drawn size (for its label), once drawn
    frames: [], // open nodes: the frame around what each holds
    rects: {}, // node -> the box the layout gave it
    focus: null, // the node opened last: what Fit shows when everything is too much
    sameName: {}, // VPC -> true where another of its account and region has its name
    network: null,
    nodes: null,
    visEdges: null
  };

  function register(id, kind, parent, data) {
    net.info[id] = { kind: kind, parent: parent, data: data };
    if (parent) (net.children[parent] = net.children[parent] || []).push(id);
  }

  function buildOverview() {
    register("internet", "internet", null, {});
    DATA.net.accounts.forEach(function (a) { register("acct:" + a.id, "account", null, a); net.acctKids["acct:" + a.id] = []; });
    DATA.net.zones.forEach(function (z) { register("zone:" + z.id, "zone", null, z); net.zoneKids["zone:" + z.id] = []; });
    var names = {};
    DATA.net.vpcs.forEach(function (v) {
      var key = [v.label || v.id, v.a, v.r].join("\u0000");
      (names[key] = names[key] || []).push(v.id);
    });
    Object.keys(names).forEach(function (key) {
      if (names[key].length > 1) names[key].forEach(function (id) { net.sameName[id] = true; });
    });
    DATA.net.vpcs.forEach(function (v) {
      var zone = "zone:" + (v.zone || "unknown");
      register(v.id, "vpc", null, v); // its parent is set by the grouping (applyMode)
      net.vpcZone[v.id] = zone;
      net.acctKids["acct:" + v.a].push(v.id);
      if (net.zoneKids[zone]) net.zoneKids[zone].push(v.id);
      net.edges.push({ a: "acct:" + v.a, b: v.id, kind: "contains" });
      net.edges.push({ a: zone, b: v.id, kind: "contains" });
      v.gw.forEach(function (gw) {
        register(gw, "internet-gateway", v.id, { id: gw });
        net.edges.push({ a: "internet", b: gw, kind: "internet", exposed: v.x > 0 });
        net.edges.push({ a: gw, b: v.id, kind: "attached" });
      });
    });
    DATA.net.tgws.forEach(function (t) {
      register(t.id, "transit-gateway", null, t);
      if (net.acctKids["acct:" + t.a]) net.acctKids["acct:" + t.a].push(t.id);
      t.vpcs.forEach(function (v) { if (net.info[v]) net.edges.push({ a: v, b: t.id, kind: "tgw", id: t.id }); });
    });
    DATA.net.peerings.forEach(function (p) {
      net.edges.push({ a: p.a, b: p.b, kind: "peering", id: p.id, status: p.status });
    });
    // zone to zone, as in the heat map: red where the zone policy forbids some of it
    DATA.zones.cells.forEach(function (c) {
      if (c.from === c.to || !c.traffic.length || !net.info["zone:" + c.from] || !net.info["zone:" + c.to]) return;
      net.edges.push({ a: "zone:" + c.from, b: "zone:" + c.to, kind: "zone", forbidden: !!(c.forbidden && c.forbidden.length), weight: c.weight, findings: c.findings, traffic: c.traffic });
    });
  }

  function applyMode(mode) {
    // VPCs hang under their zone or their account; transit gateways under their account
    // (in zone mode they show once one of their VPCs does)
    net.mode = mode;
    var byZone = mode === "zone";
    Object.keys(net.acctKids).forEach(function (acct) {
      net.children[acct] = byZone ? [] : net.acctKids[acct].slice();
      net.acctKids[acct].forEach(function (id) { net.info[id].parent = byZone ? (net.info[id].kind === "vpc" ? net.vpcZone[id] : null) : acct; });
    });
    Object.keys(net.zoneKids).forEach(function (zone) { net.children[zone] = byZone ? net.zoneKids[zone].slice() : []; });
    DATA.net.tgws.forEach(function (t) { if (!net.acctKids["acct:" + t.a]) net.info[t.id].parent = null; });
    var graphEl = byId("graph");
    if (graphEl) graphEl.setAttribute("data-mode", mode);
    document.querySelectorAll("#net-group .seg-b").forEach(function (b) { b.setAttribute("aria-pressed", b.getAttribute("data-mode") === mode ? "true" : "false"); });
  }

  function loadVpc(vpcId) {
    var v = net.info[vpcId];
    if (!v || v.kind !== "vpc" || net.loaded[vpcId]) return;
    net.loaded[vpcId] = true;
    var block = byId("vpc-" + v.data.d);
    if (!block) return;
    var d = JSON.parse(block.textContent);
    v.detail = d;
    d.subnets.forEach(function (s) {
      register(s.id, "subnet", vpcId, s);
      net.edges.push({ a: vpcId, b: s.id, kind: "contains" });
    });
    var publicSubnets = d.subnets.filter(function (s) { return s.public; });
    d.gateways.forEach(function (g) {
      if (!net.info[g.id]) register(g.id, g.kind, vpcId, g);
      else net.info[g.id].data = g;
      if (g.kind === "internet-gateway") {
        publicSubnets.forEach(function (s) { net.edges.push({ a: g.id, b: s.id, kind: "route" }); });
      } else if (g.subnet && net.info[g.subnet]) {
        net.edges.push({ a: g.subnet, b: g.id, kind: "in-subnet" });
      } else {
        net.edges.push({ a: vpcId, b: g.id, kind: "attached" });
      }
    });
    d.enis.forEach(function (e) {
      register(e.id, "eni", e.subnet, e);
      net.edges.push({ a: e.subnet, b: e.id, kind: "in" });
    });
    d.lbs.forEach(function (lb) {
      register(lb.id, "load-balancer", vpcId, lb);
      lb.subnets.forEach(function (s) { if (net.info[s]) net.edges.push({ a: lb.id, b: s, kind: "in-subnet" }); });
      lb.targets.forEach(function (t) { if (net.info[t]) net.edges.push({ a: lb.id, b: t, kind: "forwards" }); });
    });
  }

  function ancestors(id) {
    var out = [], cur = net.info[id] && net.info[id].parent;
    while (cur) { out.push(cur); cur = net.info[cur] && net.info[cur].parent; }
    return out;
  }

  // an opened subnet draws its worst ENIs first, an opened zone its worst VPCs
  var LIMITED = { subnet: { kind: "eni", limit: ENI_LIMIT, edge: "in" }, zone: { kind: "vpc", limit: VPC_LIMIT, edge: "contains" } };
  function limitOf(parentId) { var p = parentId && net.info[parentId]; return p ? LIMITED[p.kind] || null : null; }

  function shownChildren(parentId) {
    if (net.shownCache[parentId]) return net.shownCache[parentId];
    var rule = limitOf(parentId);
    var kids = (net.children[parentId] || []).filter(function (k) { return net.info[k].kind === rule.kind; });
    var result;
    if (kids.length <= rule.limit + 1) {
      result = { shown: kids, hidden: [] };
    } else {
      var ranked = kids.slice().sort(function (a, b) {
        var da = net.info[a].data, db = net.info[b].data;
        return (SEV_RANK[db.sev] || 0) - (SEV_RANK[da.sev] || 0) || (db.n || 0) - (da.n || 0);
      });
      var limit = rule.limit + (net.extra[parentId] || 0);
      var shown = ranked.slice(0, limit);
      var hidden = ranked.slice(limit).filter(function (k) {
        if (net.pinned[k]) { shown.push(k); return false; }
        return true;
      });
      result = { shown: shown, hidden: hidden };
    }
    result.set = {};
    result.shown.forEach(function (k) { result.set[k] = true; });
    net.shownCache[parentId] = result;
    return result;
  }

  function isVisible(id) {
    var info = net.info[id];
    if (!info) return false;
    if (info.kind === "account" && (net.mode === "zone" || DATA.net.accounts.length === 1)) return false; // no hub for one account
    if (info.kind === "zone" && net.mode !== "zone") return false;
    // in zone mode a transit gateway shows once one of its VPCs is open (or it is on a path)
    if (info.kind === "transit-gateway" && net.mode === "zone") return !!net.pinned[id] || (info.data.vpcs || []).some(function (v) { return net.expanded[v] && isVisible(v); });
    var anc = ancestors(id);
    for (var i = 0; i < anc.length; i++) if (!net.expanded[anc[i]]) return false;
    if (limitOf(info.parent)) return !!shownChildren(info.parent).set[id];
    return true;
  }

  function rep(id) {
    // the visible node that stands for id: itself, or its nearest visible ancestor
    if (!net.info[id]) return null;
    if (isVisible(id)) return id;
    var info = net.info[id];
    if (limitOf(info.parent)) {
      var anc = ancestors(id);
      var allOpen = anc.every(function (a) { return net.expanded[a]; });
      if (allOpen) return "more:" + info.parent;
    }
    var cur = info.parent;
    while (cur && !isVisible(cur)) cur = net.info[cur].parent;
    return cur || null;
  }

  var NODE_ST = DATA.styles.nodes, EDGE_ST = DATA.styles.edges;
  var FONT_FACE = "system-ui, -apple-system, Segoe UI, Roboto, Liberation Sans, DejaVu Sans, sans-serif";

  function nodeStyle(id) {
    var info = net.info[id], d = info.data || {};
    var sevColor = d.sev ? SEV_COLOR[d.sev] : null;
    var key = info.kind === "subnet" ? (d.public ? "subnet-public" : "subnet-private") : info.kind;
    var st = NODE_ST[key] || {};
    var base = { id: id, kind: info.kind, style: key, shape: st.shape, font: { face: FONT_FACE, size: 13, color: "#172033", multi: false } };
    var open = !!net.expanded[id];
    function font(extra) { return Object.assign({}, base.font, extra); }
    if (info.kind === "internet") {
      return Object.assign(base, { label: "Internet", color: { background: st.fill, border: st.line, highlight: { background: "#1f2f52", border: st.line } }, font: font({ color: "#ffffff", size: 15 }), margin: 16, borderWidth: 2 });
    }
    if (info.kind === "zone") {
      var zcol = zoneColor(d.id);
      var zLabel = d.id + "\n" + plural(d.vpcs, "VPC") + " \u00b7 " + (d.n ? plural(d.n, "finding") : "no findings");
      return Object.assign(base, { label: zLabel, size: 14 + 4 * Math.log(1 + d.vpcs), borderWidth: sevColor ? 4 : 2, color: { background: tint(zcol, open ? 0.25 : 0.85), border: sevColor || zcol, highlight: { background: tint(zcol, 0.6), border: "#3b5bdb" }, hover: { background: tint(zcol, 0.65), border: sevColor || zcol } }, shapeProperties: { borderDashes: open ? [6, 4] : false }, font: font({ size: 14, strokeWidth: 4, strokeColor: "#ffffff" }) });
    }
    if (info.kind === "account") {
      var acctLabel = (NAMES[d.id] ? NAMES[d.id] + "\n" : "") + d.id + "\n" + plural(d.vpcs, "VPC") + (d.n ? " \u00b7 " + plural(d.n, "finding") : "");
      var fill = sevColor ? tint(sevColor, open ? 0.08 : 0.22) : (open ? "#f6f8fb" : st.fill);
      return Object.assign(base, { label: acctLabel, size: 12 + 5 * Math.log(1 + d.vpcs), borderWidth: 2.5, color: { background: fill, border: sevColor || st.line, highlight: { background: "#eef3ff", border: "#3b5bdb" }, hover: { background: tint(sevColor || st.line, 0.35), border: sevColor || st.line } }, shapeProperties: { borderDashes: open ? [5, 4] : false }, font: font({ size: 12, color: "#3d4a5c" }) });
    }
    if (info.kind === "vpc") {
      var zc = zoneColor(d.zone);
      // the name, told apart by its id where another VPC of its account and region has it
      var name = (d.label || d.id) + (d.label && net.sameName[d.id] ? " \u00b7 " + d.id : "");
      var vLabel = name + "\n" + (d.label && !net.sameName[d.id] ? d.id + " \u00b7 " : "") + (d.cidrs || "") + "\n" + (d.zone || "no zone") + " \u00b7 " + acctShort(d.a) + " \u00b7 " + d.r;
      // under its zone a VPC needs neither its zone nor its CIDRs to be told apart
      if (net.mode === "zone" && !open) vLabel = name + "\n" + acctShort(d.a) + " \u00b7 " + d.r;
      return Object.assign(base, { label: vLabel, margin: { top: 8, bottom: 8, left: 10, right: 10 }, borderWidth: sevColor ? 3 : 1.5, color: { background: tint(zc, open ? 0.06 : 0.14), border: sevColor || zc, highlight: { background: tint(zc, 0.25), border: "#3b5bdb" } }, shapeProperties: { borderRadius: 6, borderDashes: open ? [6, 4] : false }, font: font({ size: 12 }) });
    }
    if (info.kind === "subnet") {
      var sLabel = (d.label || d.id) + "\n" + (d.cidrs || "") + (d.public ? " \u00b7 public" : " \u00b7 private");
      return Object.assign(base, { label: sLabel, margin: 7, borderWidth: sevColor ? 2.5 : 1, color: { background: st.fill, border: sevColor || st.line, highlight: { background: "#eef3ff", border: "#3b5bdb" } }, shapeProperties: { borderRadius: 4, borderDashes: open ? [5, 4] : false }, font: font({ size: 11 }) });
    }
    if (info.kind === "eni") {
      return Object.assign(base, { label: d.label || d.instance || d.id, size: d.n ? 11 : 8, borderWidth: sevColor ? 3.5 : 1, color: { background: zoneColor(d.zone), border: sevColor || "#ffffff", highlight: { background: zoneColor(d.zone), border: "#3b5bdb" } }, font: font({ size: 10, color: "#3d4a5c" }) });
    }
    var small = { "internet-gateway": ["IGW", 11], "egress-only-internet-gateway": ["EIGW", 11], "nat-gateway": ["NAT", 10] }[info.kind];
    if (small) return Object.assign(base, { label: small[0], size: small[1], color: { background: st.fill, border: st.line }, font: font({ size: 10 }) });
    if (info.kind === "transit-gateway") {
      return Object.assign(base, { label: (d.label || "TGW") + "\n" + id, size: 16, color: { background: st.fill, border: st.line }, font: font({ size: 10 }) });
    }
    if (info.kind === "load-balancer") {
      return Object.assign(base, { label: (d.label || "load balancer") + (d.scheme === "internet-facing" ? "\ninternet-facing" : ""), size: 11, borderWidth: sevColor ? 3 : 1, color: { background: st.fill, border: sevColor || st.line }, font: font({ size: 10 }) });
    }
    return Object.assign(base, { label: id, shape: "dot", size: 6 });
  }

  function tint(hex, amount) {
    var r = parseInt(hex.slice(1, 3), 16), g = parseInt(hex.slice(3, 5), 16), b = parseInt(hex.slice(5, 7), 16);
    function mix(c) { return Math.round(255 - (255 - c) * amount); }
    return "rgb(" + mix(r) + "," + mix(g) + "," + mix(b) + ")";
  }

  function visibleNodeIds() {
    var out = [];
    Object.keys(net.info).forEach(function (id) { if (isVisible(id)) out.push(id); });
    return out;
  }

  function moreNodes() {
    var out = [];
    Object.keys(net.expanded).forEach(function (id) {
      if (!net.expanded[id] || !limitOf(id) || !isVisible(id)) return;
      var s = shownChildren(id);
      if (s.hidden.length) out.push({ id: "more:" + id, parent: id, count: s.hidden.length });
    });
    return out;
  }

  function visibleEdges(parentOf) {
    var agg = {};
    net.edges.forEach(function (e) {
      var a = rep(e.a), b = rep(e.b);
      if (!a || !b || a === b) return;
      // what a node holds is drawn inside its frame: no edge says it again
      if (parentOf[a] === b || parentOf[b] === a) return;
      // an internet gateway is drawn as an edge from the internet only where something is
      // exposed through it, until its VPC is open
      if (e.kind === "internet" && !e.exposed && b !== e.b) return;
      var undirected = e.kind === "peering" || e.kind === "tgw";
      // between two closed zones the zone edge says what matters; peerings show once opened
      if (undirected && net.info[a] && net.info[b] && net.info[a].kind === "zone" && net.info[b].kind === "zone") return;
      if (undirected && a > b) { var t = a; a = b; b = t; }
      var key = a + "|" + b + "|" + e.kind;
      var item = agg[key];
      if (!item) item = agg[key] = { id: key, from: a, to: b, kind: e.kind, count: 0, ids: [], exposed: false, zone: e.kind === "zone" ? e : null };
      item.count += 1;
      if (e.exposed) item.exposed = true;
      if (e.id && item.ids.indexOf(e.id) < 0) item.ids.push(e.id);
    });
    return Object.keys(agg).map(function (k) {
      var e = agg[k];
      if (e.kind === "zone") return zoneEdge(e);
      var style = e.kind === "internet" && !e.exposed ? "gateway" : e.kind, st = EDGE_ST[style];
      var width = st.width * (e.count > 1 ? Math.min(3, 1 + Math.log(e.count) / 2) : 1);
      var edge = { id: e.id, from: e.from, to: e.to, kind: e.kind, style: style, ids: e.ids, width: width, baseWidth: width, color: { color: st.color, highlight: "#3b5bdb", opacity: 1 }, dashes: st.dashes, arrows: st.arrow ? { to: { enabled: true, scaleFactor: 0.5 } } : undefined, smooth: false };
      if (e.kind === "peering") { edge.label = e.ids.length > 1 ? plural(e.ids.length, "peering") : "peering"; edge.font = { size: 10, color: "#0b7a5a", strokeWidth: 3, strokeColor: "#ffffff", align: "middle" }; }
      return edge;
    });
  }

  function zoneEdge(e) {
    var z = e.zone, style = z.forbidden ? "zone-forbidden" : "zone-allowed", color = EDGE_ST[style].color;
    var width = 1.5 + 4 * (z.weight || 0.2);
    var edge = { id: e.id, from: e.from, to: e.to, kind: "zone", style: style, ids: [], width: width, baseWidth: width, color: { color: color, highlight: "#3b5bdb", opacity: z.forbidden ? 0.9 : 0.55 }, dashes: false, arrows: { to: { enabled: true, scaleFactor: 0.8 } }, smooth: { enabled: true, type: "curvedCW", roundness: 0.18 }, traffic: z.traffic, forbidden: z.forbidden, findings: z.findings };
    if (z.findings) { edge.label = plural(z.findings, "finding"); edge.font = { size: 11, color: z.forbidden ? "#c92a2a" : "#3b5bdb", strokeWidth: 4, strokeColor: "#ffffff", align: "middle" }; }
    return edge;
  }

  // ---- layout -------------------------------------------------------------------------
  // Every drawn node has a place worked out from what holds it, the same each time: an
  // open node is a frame with its own node on top and what it holds in rows below, each
  // row a block of its own, so that no two nodes overlap however many are open. Closed
  // top-level nodes (zones and the internet) sit on a ring, so their paths are chords.
  var GAP = 28; // between two blocks
  var INNER = 14; // inside a frame, around what it holds
  var RING_MAX = 12;
  var KIND_ORDER = { "internet-gateway": 0, "egress-only-internet-gateway": 0, "nat-gateway": 1, "load-balancer": 2, "transit-gateway": 3, account: 4, zone: 4, vpc: 5, subnet: 6, eni: 7, more: 9 };
  var measure = document.createElement("canvas").getContext("2d");

  function estimate(n) {
    // the box vis-network draws for a node, before it has drawn it (label below a shape,
    // or inside a box or circle); measured sizes replace it once drawn
    var size = (n.font && n.font.size) || 13, lines = String(n.label || "").split("\n"), w = 0;
    measure.font = size + "px " + FONT_FACE;
    lines.forEach(function (line) { w = Math.max(w, measure.measureText(line).width); });
    var h = lines.length * size * 1.25, border = 2 * (n.borderWidth || 1);
    if (n.shape === "box") {
      var m = typeof n.margin === "number" ? { top: n.margin, bottom: n.margin, left: n.margin, right: n.margin } : (n.margin || { top: 5, bottom: 5, left: 5, right: 5 });
      return { w: w + m.left + m.right + border, h: h + m.top + m.bottom + border, dx: 0.5, dy: 0.5 };
    }
    if (n.shape === "circle") { var d = Math.max(w, h) + 2 * (n.margin || 5) + border; return { w: d, h: d, dx: 0.5, dy: 0.5 }; }
    var s = 2 * (n.size || 10) + border;
    return { w: Math.max(s, w + 4), h: s + 6 + h, dx: 0.5, dy: (s / 2) / (s + 6 + h) };
  }

  function sizeOf(n) {
    var known = net.sizes[n.id];
    return known && known.label === n.label ? known : estimate(n);
  }

  function pack(items, aspect) {
    // rows of blocks, left to right, the row width chosen so the whole is closest to aspect
    if (!items.length) return { w: 0, h: 0, at: [] };
    var widest = 0, total = -GAP;
    items.forEach(function (b) { widest = Math.max(widest, b.w); total += b.w + GAP; });
    var best = null;
    for (var k = 1; k <= items.length; k++) {
      var limit = Math.max(widest, (total + GAP) * k / items.length - GAP) + 0.5;
      var rows = [], row = null;
      items.forEach(function (b, i) {
        if (!row || row.w + GAP + b.w > limit) { row = { w: -GAP, h: 0, items: [] }; rows.push(row); }
        row.items.push(i); row.w += GAP + b.w; row.h = Math.max(row.h, b.h);
      });
      var w = 0, h = -GAP;
      rows.forEach(function (r) { w = Math.max(w, r.w); h += r.h + GAP; });
      var score = Math.abs(Math.log((w / Math.max(h, 1)) / aspect));
      if (!best || score < best.score - 1e-9) best = { score: score, rows: rows, w: w, h: h };
    }
    var at = [], y = 0;
    best.rows.forEach(function (r) {
      var x = (best.w - r.w) / 2;
      r.items.forEach(function (i) { at[i] = { x: x, y: y }; x += items[i].w + GAP; });
      y += r.h + GAP;
    });
    return { w: best.w, h: best.h, at: at };
  }

  function kidOrder(a, b) {
    var na = net.info[a] || {}, nb = net.info[b] || {}, da = na.data || {}, db = nb.data || {};
    var ka = KIND_ORDER[na.kind || "more"], kb = KIND_ORDER[nb.kind || "more"];
    if (ka !== kb) return ka - kb;
    if (na.kind === "subnet" && !!da.public !== !!db.public) return da.public ? -1 : 1;
    return (SEV_RANK[db.sev] || 0) - (SEV_RANK[da.sev] || 0) || (db.n || 0) - (da.n || 0) || (String(da.label || a) < String(db.label || b) ? -1 : 1);
  }

  function layout(nodes) {
    var drawn = {}, parentOf = {}, kids = {}, roots = [];
    nodes.forEach(function (n) { drawn[n.id] = n; });
    nodes.forEach(function (n) {
      var parent = n.kind === "more" ? n.id.slice(5) : (net.info[n.id] && net.info[n.id].parent);
      while (parent && !drawn[parent]) parent = net.info[parent] && net.info[parent].parent;
      if (parent) { parentOf[n.id] = parent; (kids[parent] = kids[parent] || []).push(n.id); } else roots.push(n.id);
    });
    // blocks shaped like the canvas, so that Fit shows them large
    var el = container(), aspect = el.clientHeight ? Math.max(0.8, Math.min(2.4, el.clientWidth / el.clientHeight)) : 1.6;
    var blocks = {};
    function block(id) {
      var own = sizeOf(drawn[id]), list = (kids[id] || []).slice().sort(kidOrder);
      if (!list.length) return (blocks[id] = { w: own.w, h: own.h, own: own, kids: [] });
      var inner = pack(list.map(block), aspect);
      return (blocks[id] = { w: Math.max(own.w, inner.w) + 2 * INNER, h: INNER + own.h + GAP + inner.h + INNER, own: own, kids: list, inner: inner });
    }
    var pos = {}, rects = {}, frames = [];
    function place(id, x, y, depth) {
      var b = blocks[id], own = b.own, left = x + b.w / 2 - own.w / 2, top = y + (b.kids.length ? INNER : 0);
      pos[id] = { x: left + own.w * own.dx, y: top + own.h * own.dy };
      rects[id] = { left: left, top: top, right: left + own.w, bottom: top + own.h };
      if (!b.kids.length) return;
      frames.push({ id: id, x: x, y: y, w: b.w, h: b.h, depth: depth });
      var left = x + (b.w - b.inner.w) / 2, top = y + INNER + own.h + GAP;
      b.kids.forEach(function (k, i) { place(k, left + b.inner.at[i].x, top + b.inner.at[i].y, depth + 1); });
    }
    roots.forEach(block);
    // the internet first, then what is closed, then open frames: paths between closed
    // nodes stay short and reach an open one at its own node, on top of its frame
    function rank(id) { return id === "internet" ? 0 : blocks[id].kids.length ? 2 : 1; }
    roots.sort(function (a, b) { return rank(a) - rank(b) || kidOrder(a, b); });
    var closed = roots.every(function (id) { return !blocks[id].kids.length; });
    if (closed && roots.length > 1 && roots.length <= RING_MAX) {
      var widest = 0;
      roots.forEach(function (id) { widest = Math.max(widest, Math.hypot(blocks[id].w, blocks[id].h)); });
      var radius = Math.max(140, (widest + GAP) / (2 * Math.sin(Math.PI / roots.length)));
      roots.forEach(function (id, i) {
        var at = Math.PI + 2 * Math.PI * i / roots.length, b = blocks[id];
        place(id, radius * Math.cos(at) - b.w / 2, radius * Math.sin(at) - b.h / 2, 0);
      });
    } else {
      var top = pack(roots.map(function (id) { return blocks[id]; }), aspect);
      roots.forEach(function (id, i) { place(id, top.at[i].x - top.w / 2, top.at[i].y - top.h / 2, 0); });
    }
    frames.sort(function (a, b) { return a.depth - b.depth; });
    return { pos: pos, rects: rects, frames: frames, parentOf: parentOf };
  }

  function container() { return byId("graph"); }

  function remember(nodes) {
    // what vis-network drew: the real size of each box, and where its centre is in it.
    // A label's box moves only when it is drawn: one not centred on its node is stale.
    var changed = false;
    nodes.forEach(function (n) {
      var box = net.network.getBoundingBox(n.id), p = net.network.getPositions([n.id])[n.id];
      if (!box || !p) return;
      var w = box.right - box.left, h = box.bottom - box.top;
      if (!(w > 0 && h > 0) || Math.abs((p.x - box.left) / w - 0.5) > 0.01) return;
      // a label too small to draw has no box yet: never less than the estimate
      var guess = estimate(n), known = sizeOf(n);
      w = Math.max(w, guess.w);
      h = Math.max(h, guess.h);
      if (Math.abs(known.w - w) > 0.5 || Math.abs(known.h - h) > 0.5) changed = true;
      net.sizes[n.id] = { label: n.label, w: w, h: h, dx: 0.5, dy: (p.y - box.top) / h };
    });
    return changed;
  }

  function frameStyle(id) {
    var info = net.info[id], d = (info && info.data) || {};
    if (!info) return null;
    if (info.kind === "zone") return { fill: tint(zoneColor(d.id), 0.07), line: zoneColor(d.id) };
    if (info.kind === "vpc") return { fill: tint(zoneColor(d.zone), 0.05), line: zoneColor(d.zone) };
    if (info.kind === "subnet") { var st = NODE_ST[d.public ? "subnet-public" : "subnet-private"]; return { fill: tint(st.line, 0.06), line: st.line }; }
    return { fill: "rgba(238,241,246,0.55)", line: NODE_ST.account.line };
  }

  function drawFrames(ctx) {
    net.frames.forEach(function (f) {
      var st = frameStyle(f.id);
      if (!st) return;
      ctx.save();
      ctx.beginPath();
      if (ctx.roundRect) ctx.roundRect(f.x, f.y, f.w, f.h, 12); else ctx.rect(f.x, f.y, f.w, f.h);
      ctx.globalAlpha = net.highlight ? 0.5 : 1;
      ctx.fillStyle = st.fill;
      ctx.fill();
      ctx.setLineDash([6, 4]);
      ctx.lineWidth = 1.2;
      ctx.strokeStyle = st.line;
      ctx.stroke();
      ctx.restore();
    });
  }

  function refresh(focusIds) {
    net.shownCache = {};
    var nodes = visibleNodeIds().map(nodeStyle);
    moreNodes().forEach(function (m) {
      var st = NODE_ST.more;
      nodes.push({ id: m.id, kind: "more", style: "more", label: "+" + fmt(m.count) + " more", shape: st.shape, size: 7, color: { background: st.fill, border: st.line }, font: { face: FONT_FACE, size: 10, color: "#6b7789" } });
    });
    var present = {};
    nodes.forEach(function (n) { present[n.id] = n; });
    var placed = layout(nodes);
    nodes.forEach(function (n) { n.x = placed.pos[n.id].x; n.y = placed.pos[n.id].y; });
    net.frames = placed.frames;
    net.rects = placed.rects;
    var edges = visibleEdges(placed.parentOf).filter(function (e) { return present[e.from] && present[e.to]; });
    net.nodes.remove(net.nodes.getIds().filter(function (id) { return !present[id]; }));
    net.nodes.update(nodes);
    // once drawn, each box has its real size: place again with those where they differ
    net.network.redraw();
    if (remember(nodes)) {
      placed = layout(nodes);
      net.frames = placed.frames;
      net.rects = placed.rects;
      net.nodes.update(nodes.map(function (n) { return { id: n.id, x: placed.pos[n.id].x, y: placed.pos[n.id].y }; }));
    }
    var edgeIds = {};
    edges.forEach(function (e) { edgeIds[e.id] = true; });
    net.visEdges.remove(net.visEdges.getIds().filter(function (id) { return !edgeIds[id]; }));
    net.visEdges.update(edges);
    byId("graph").setAttribute("data-nodes", String(nodes.length));
    applyHighlight();
    if (focusIds && focusIds.length) fitSoon(focusIds.filter(function (i) { return present[i]; }), 1.3);
  }

  // Fit never shrinks the picture below this scale (a 12 px label stays above 9.5 px):
  // past it, it shows what was opened last, and the wheel zooms out further.
  var MIN_SCALE = 0.8;

  function boxOf(ids) {
    // from the layout's own boxes: vis-network's move only as it draws
    var box = null;
    ids.forEach(function (id) {
      var b = net.rects[id];
      if (!b) return;
      if (!box) box = { left: b.left, right: b.right, top: b.top, bottom: b.bottom };
      else { box.left = Math.min(box.left, b.left); box.right = Math.max(box.right, b.right); box.top = Math.min(box.top, b.top); box.bottom = Math.max(box.bottom, b.bottom); }
    });
    net.frames.forEach(function (f) {
      if (!box || ids.indexOf(f.id) < 0) return;
      box.left = Math.min(box.left, f.x); box.right = Math.max(box.right, f.x + f.w); box.top = Math.min(box.top, f.y); box.bottom = Math.max(box.bottom, f.y + f.h);
    });
    return box;
  }

  function fitView(ids, maxZoom, animate) {
    var all = net.nodes.getIds();
    var wanted = (ids || []).filter(function (id) { return net.nodes.get(id); });
    var box = boxOf(wanted.length ? wanted : all);
    if (!box) return;
    var el = container(), pad = 40;
    var scale = Math.min((el.clientWidth - pad) / Math.max(1, box.right - box.left), (el.clientHeight - pad) / Math.max(1, box.bottom - box.top));
    scale = Math.min(scale, maxZoom || 1.3);
    if (scale < MIN_SCALE) {
      scale = MIN_SCALE;
      // too much to show at a readable size: the last opened node's frame, or the top
      var focus = !wanted.length && net.focus && net.nodes.get(net.focus) ? boxOf([net.focus]) : null;
      if (focus) box = focus;
      else box = { left: box.left, right: box.right, top: box.top, bottom: box.top + (el.clientHeight - pad) / scale };
    }
    net.network.moveTo({ position: { x: (box.left + box.right) / 2, y: (box.top + box.bottom) / 2 }, scale: scale, animation: animate ? { duration: 450, easingFunction: "easeInOutQuad" } : false });
  }

  function fitSoon(ids, maxZoom) {
    var graphEl = byId("graph");
    graphEl.setAttribute("data-settled", "0");
    fitView(ids, maxZoom, true);
    clearTimeout(net.settleTimer);
    net.settleTimer = setTimeout(function () { graphEl.setAttribute("data-settled", "1"); }, 500);
  }

  function initialExpansion() {
    net.expanded = {};
    net.focus = null;
    if (net.mode === "zone") return; // zones start closed
    var accounts = DATA.net.accounts;
    var vpcCount = DATA.net.vpcs.length;
    // few VPCs: start at the VPC level; many: start at accounts
    if (vpcCount <= 40 || accounts.length === 1) accounts.forEach(function (a) { net.expanded["acct:" + a.id] = true; });
    if (vpcCount <= 3) DATA.net.vpcs.forEach(function (v) { loadVpc(v.id); net.expanded[v.id] = true; });
  }

  function initGraph() {
    buildOverview();
    applyMode(DATA.net.vpcs.length > MANY_VPCS && DATA.net.zones.length ? "zone" : "account");
    initialExpansion();
    net.nodes = new vis.DataSet([]);
    net.visEdges = new vis.DataSet([]);
    net.network = new vis.Network(container(), { nodes: net.nodes, edges: net.visEdges }, {
      autoResize: true,
      // places come from the layout above: nothing moves by itself, nor by dragging
      physics: false,
      interaction: { hover: true, tooltipDelay: 150, multiselect: false, navigationButtons: false, keyboard: false, zoomSpeed: 0.6, dragNodes: false },
      layout: { improvedLayout: false, randomSeed: 7 },
      nodes: { shadow: { enabled: true, color: "rgba(16,26,46,0.10)", size: 6, x: 0, y: 2 } },
      edges: { selectionWidth: 1.5, hoverWidth: 0.5 }
    });
    net.network.on("beforeDrawing", drawFrames);
    net.network.on("click", function (params) {
      if (!params.nodes.length) return;
      var id = params.nodes[0];
      onNodeClick(id);
    });
    net.network.on("doubleClick", function (params) {
      if (!params.nodes.length) return;
      var id = params.nodes[0];
      if (net.expanded[id]) { collapse(id); }
    });
    net.network.on("hoverNode", function (params) {
      var id = params.node, info = net.info[id];
      var e = params.event && params.event.srcEvent;
      if (!e) return;
      if (id.indexOf("more:") === 0) {
        var ofZone = net.info[id.slice(5)] && net.info[id.slice(5)].kind === "zone";
        showTip(e, ofZone ? "More VPCs" : "More interfaces", [{ text: ofZone ? "click to draw more of this zone's VPCs" : "click to draw more of this subnet's ENIs" }]);
        return;
      }
      if (!info) return;
      var d = info.data || {};
      var lines = [];
      if (info.kind === "account") lines.push({ text: plural(d.vpcs, "VPC") + " in " + (d.regions || []).join(", ") });
      if (info.kind === "zone") lines.push({ text: plural(d.vpcs, "VPC") + " \u00b7 " + plural(d.enis, "network interface") });
      if (info.kind === "vpc") { lines.push({ text: d.id + "  " + (d.cidrs || "") }); lines.push({ text: fmt(d.subnets) + " subnets \u00b7 " + fmt(d.enis) + " ENIs" + (d.flow ? "" : " \u00b7 no flow logs") }); }
      if (info.kind === "subnet") lines.push({ text: d.id + "  " + (d.cidrs || "") + (d.public ? "  public" : "") });
      if (info.kind === "eni") { lines.push({ text: (d.instance ? d.instance + "  " : "") + d.id }); lines.push({ text: (d.ips || "") + (d.pub ? "  public " + d.pub : "") + "  zone " + (d.zone || "-") }); }
      if (d.n) lines.push({ text: plural(d.n, "finding") + ", worst " + d.sev, bad: true });
      var canOpen = OPENS[info.kind] && !net.expanded[id];
      if (canOpen) lines.push({ text: "click to open" });
      showTip(e, nodeTitle(id), lines);
    });
    net.network.on("hoverEdge", function (params) {
      var edge = net.visEdges.get(params.edge), ev = params.event && params.event.srcEvent;
      if (!edge || edge.kind !== "zone" || !ev) return;
      var lines = [{ text: "allowed paths carry: " + traffic(edge.traffic) }];
      if (edge.forbidden) lines.push({ text: "some of it is forbidden by the zone policy", bad: true });
      if (edge.findings) lines.push({ text: plural(edge.findings, "finding"), bad: true });
      showTip(ev, nodeTitle(edge.from) + " \u2192 " + nodeTitle(edge.to), lines);
    });
    net.network.on("blurEdge", hideTip);
    net.network.on("blurNode", hideTip);
    net.network.on("dragStart", hideTip);
    net.network.on("zoom", hideTip);
    refresh();
    fitSoon(null);
    byId("net-reset").addEventListener("click", function () { clearHighlight(); net.pinned = {}; net.extra = {}; initialExpansion(); refresh(); fitSoon(null); showIntro(); });
    document.querySelectorAll("#net-group .seg-b").forEach(function (b) {
      b.addEventListener("click", function () { setMode(b.getAttribute("data-mode")); });
    });
    byId("net-fit").addEventListener("click", function () { fitSoon(null); });
    byId("net-clear").addEventListener("click", function () { clearHighlight(); });
    byId("net-find").addEventListener("keydown", function (e) { if (e.key === "Enter") findNode(e.target.value); });
    renderHint();
    renderNetLegend();
    showIntro();
  }

  function renderHint() {
    var hint = byId("net-hint");
    if (net.mode === "zone") {
      hint.textContent = "The organization is drawn by zone (" + plural(DATA.net.zones.length, "zone") + ", " + plural(DATA.net.vpcs.length, "VPC") + "): arrows are the zone-to-zone paths of the heat map, red where the zone policy forbids some of the traffic. Click a zone to open its VPCs, a VPC for its subnets, a subnet for its network interfaces; double-click an open node to close it.";
    } else if (DATA.net.vpcs.length > MANY_VPCS) {
      hint.textContent = "The organization is drawn by account (" + plural(DATA.net.accounts.length, "account") + ", " + plural(DATA.net.vpcs.length, "VPC") + "). Click an account to open its VPCs, a VPC for its subnets, a subnet for its network interfaces; double-click an open node to close it.";
    } else {
      hint.textContent = "Click a VPC to open its subnets, a subnet for its network interfaces; double-click an open node to close it. Border colour: worst finding; fill: zone.";
    }
  }

  function setMode(mode) {
    if (mode !== "zone" && mode !== "account") return;
    var finding = net.highlight && net.highlight.finding;
    applyMode(mode);
    net.visEdges.clear(); // a new grouping is a new picture: every node placed afresh
    net.nodes.clear();
    net.pinned = {}; net.extra = {};
    initialExpansion();
    renderHint();
    if (finding) { highlight(finding); return; }
    refresh();
    fitSoon(null);
    showIntro();
  }

  function renderNetLegend() {
    // every style the graph draws, from the same table it draws from
    var box = byId("net-legend");
    function item(key, swatch, text) { var s = el("span", "lg"); s.setAttribute("data-style", key); add(box, add(s, swatch, text)); }
    DATA.zones.order.forEach(function (z) {
      var b = el("span", "sw"); b.style.background = zoneColor(z); b.style.borderRadius = "50%";
      item("zone-colour:" + z, b, "zone " + z);
    });
    SEVERITIES.forEach(function (sev) {
      var b = el("span", "sw ring"); b.style.borderColor = SEV_COLOR[sev];
      item("severity:" + sev, b, "border: worst finding " + sev);
    });
    Object.keys(NODE_ST).forEach(function (key) {
      var st = NODE_ST[key], b = el("span", "shape shape-" + st.shape);
      if (st.fill) b.style.background = st.fill;
      if (st.line) b.style.borderColor = st.line;
      item("node:" + key, b, st.legend);
    });
    var frame = el("span", "shape shape-frame");
    item("frame", frame, "an open zone, account, VPC or subnet frames what it holds");
    Object.keys(EDGE_ST).forEach(function (key) {
      var st = EDGE_ST[key], line = el("span", "line");
      line.style.borderTopColor = st.color;
      line.style.borderTopWidth = Math.max(2, Math.round(st.width)) + "px";
      line.style.borderTopStyle = st.dashes ? "dashed" : "solid";
      item("edge:" + key, line, st.legend + (st.arrow ? " \u2192" : ""));
    });
  }

  function nodeTitle(id) {
    var info = net.info[id];
    if (!info) return id;
    var d = info.data || {};
    if (info.kind === "account") return "Account " + acctName(d.id);
    if (info.kind === "zone") return "Zone " + d.id;
    if (info.kind === "internet") return "Internet";
    return (d.label ? d.label + " (" + id + ")" : id);
  }

  var OPENS = { zone: true, account: true, vpc: true, subnet: true };

  function onNodeClick(id) {
    if (id.indexOf("more:") === 0) {
      var parent = id.slice(5), rule = limitOf(parent);
      if (rule) net.extra[parent] = (net.extra[parent] || 0) + rule.limit * 2;
      refresh();
      return;
    }
    var info = net.info[id];
    if (!info) return;
    if (OPENS[info.kind] && !net.expanded[id]) {
      expand(id);
    }
    showNode(id);
  }

  function expand(id) {
    var info = net.info[id];
    if (info.kind === "vpc") loadVpc(id);
    net.expanded[id] = true;
    net.focus = id;
    refresh([id]);
  }

  function collapse(id) {
    var stack = [id];
    while (stack.length) {
      var cur = stack.pop();
      delete net.expanded[cur];
      (net.children[cur] || []).forEach(function (k) { if (net.expanded[k]) stack.push(k); });
    }
    refresh();
    showNode(id);
  }

  function findNode(text) {
    var q = String(text || "").trim().toLowerCase();
    if (!q) return;
    var hit = null;
    if (net.info[text.trim()]) hit = text.trim();
    if (!hit && net.mode === "zone" && net.info["zone:" + q]) hit = "zone:" + q;
    if (!hit) DATA.net.accounts.some(function (a) { if (a.id.indexOf(q) >= 0 || String(NAMES[a.id] || "").toLowerCase().indexOf(q) >= 0) { hit = "acct:" + a.id; return true; } return false; });
    if (!hit) DATA.net.vpcs.some(function (v) {
      if (v.id.toLowerCase().indexOf(q) >= 0 || (v.label || "").toLowerCase().indexOf(q) >= 0 || (v.cidrs || "").indexOf(q) >= 0) { hit = v.id; return true; }
      return false;
    });
    if (!hit) Object.keys(net.info).some(function (id) {
      var d = net.info[id].data || {};
      if (id.toLowerCase().indexOf(q) >= 0 || String(d.label || "").toLowerCase().indexOf(q) >= 0 || String(d.instance || "").toLowerCase() === q) { hit = id; return true; }
      return false;
    });
    if (!hit) { byId("net-find").setCustomValidity("not found"); byId("net-find").reportValidity(); setTimeout(function () { byId("net-find").setCustomValidity(""); }, 1500); return; }
    reveal([hit]);
    refresh([hit]);
    net.network.selectNodes([rep(hit)]);
    showNode(hit);
  }

  function reveal(ids) {
    ids.forEach(function (id) {
      if (net.info[id] && net.info[id].kind === "vpc") loadVpc(id);
    });
    ids.forEach(function (id) {
      if (!net.info[id]) return;
      ancestors(id).forEach(function (a) { net.expanded[a] = true; });
      // drawn even beyond its parent's limit: the node and every ancestor on the way
      [id].concat(ancestors(id)).forEach(function (x) { if (limitOf(net.info[x].parent) || net.info[x].kind === "transit-gateway") net.pinned[x] = true; });
    });
  }

  // ---- highlighting a finding's path ----------------------------------------------------
  function highlight(finding) {
    var trail = finding.trail || [];
    if (finding.vpc) loadVpc(finding.vpc);
    trail.forEach(function (id) { if (net.info[id] && net.info[id].kind === "vpc") loadVpc(id); });
    reveal(trail.filter(function (id) { return net.info[id]; }));
    net.highlight = { finding: finding, trail: trail };
    refresh(null);
    byId("net-clear").disabled = false;
    fitSoon(currentTrailNodes(), 1.4);
    showFindingPanel(finding);
  }

  function currentTrailNodes() {
    if (!net.highlight) return [];
    var out = [];
    net.highlight.trail.forEach(function (id) {
      var r = net.info[id] ? rep(id) : null;
      if (r && out[out.length - 1] !== r) out.push(r);
    });
    return out;
  }

  function applyHighlight() {
    var graphEl = byId("graph");
    net.visEdges.remove(net.visEdges.getIds().filter(function (id) { return String(id).indexOf("path:") === 0; }));
    if (!net.highlight) {
      graphEl.setAttribute("data-highlight", "");
      if (!net.dimmed) return;
      net.dimmed = false;
      net.nodes.update(net.nodes.getIds().map(function (id) { return { id: id, opacity: 1 }; }));
      net.visEdges.update(net.visEdges.get().map(function (e) { return { id: e.id, color: Object.assign({}, e.color, { opacity: 1 }), width: e.baseWidth }; }));
      return;
    }
    net.dimmed = true;
    var sev = net.highlight.finding.severity, color = SEV_COLOR[sev];
    var chain = currentTrailNodes();
    var onTrail = {};
    chain.forEach(function (id) { onTrail[id] = true; });
    var trailEdgeIds = {};
    net.highlight.trail.forEach(function (id) { if (!net.info[id]) trailEdgeIds[id] = true; });
    net.nodes.update(net.nodes.getIds().map(function (id) { return { id: id, opacity: onTrail[id] ? 1 : 0.18 }; }));
    net.visEdges.update(net.visEdges.get().map(function (e) {
      var hit = (e.ids || []).some(function (x) { return trailEdgeIds[x]; });
      return { id: e.id, color: Object.assign({}, e.color, { opacity: hit ? 1 : 0.12 }), width: hit ? 4 : e.baseWidth };
    }));
    var pathEdges = [];
    for (var i = 0; i + 1 < chain.length; i++) {
      pathEdges.push({ id: "path:" + i, style: "path", from: chain[i], to: chain[i + 1], width: EDGE_ST.path.width, color: { color: color, opacity: 0.95 }, arrows: { to: { enabled: true, scaleFactor: 0.7 } }, smooth: { enabled: true, type: "curvedCW", roundness: 0.12 }, physics: false, label: String(i + 1), font: { size: 11, color: color, strokeWidth: 4, strokeColor: "#ffffff" } });
    }
    net.visEdges.update(pathEdges);
    graphEl.setAttribute("data-highlight", chain.join(" "));
    graphEl.setAttribute("data-finding", net.highlight.finding.id);
  }

  function clearHighlight() {
    net.highlight = null;
    byId("net-clear").disabled = true;
    byId("graph").removeAttribute("data-finding");
    applyHighlight();
  }

  // ---- side panel ---------------------------------------------------------------------
  function showIntro() {
    var panel = clear(byId("panel"));
    var box = el("div", "intro");
    add(box, el("div", "kind", "How to read"));
    add(box, el("h3", null, "Exposure graph"));
    add(box, el("p", null, "Nodes are zones (or accounts), VPCs, subnets and network interfaces; a node's border shows the worst finding about it, its fill the zone. Switch the grouping with \u201cGroup by\u201d."));
    add(box, el("p", null, "Open a finding in the table below to see its path here, hop by hop."));
    var top = DATA.findings.slice(0, 6);
    if (top.length) {
      add(box, el("div", "section", "Most severe"));
      add(box, findingList(top));
    }
    add(panel, box);
  }

  function findingList(list) {
    var ul = el("ul", "flist");
    list.forEach(function (f) {
      var li = el("li");
      add(li, pill(f.severity), " ", el("span", null, RULES[f.rule].title), el("div", "r-id", (f.label ? f.label + " \u00b7 " : "") + f.resource));
      li.addEventListener("click", function () { openFinding(f.id, true); });
      add(ul, li);
    });
    return ul;
  }

  function kv(dl, key, value) {
    if (value === null || value === undefined || value === "") return;
    add(dl, el("dt", null, key), el("dd", null, value));
  }

  function showNode(id) {
    var info = net.info[id];
    if (!info) return;
    var d = info.data || {};
    var panel = clear(byId("panel"));
    var kindText = { zone: "Zone", account: "Account", vpc: "VPC", subnet: "Subnet", eni: "Network interface", "internet-gateway": "Internet gateway", "nat-gateway": "NAT gateway", "transit-gateway": "Transit gateway", "load-balancer": "Load balancer", internet: "Internet", "egress-only-internet-gateway": "Egress-only internet gateway" }[info.kind] || info.kind;
    add(panel, el("div", "kind", kindText));
    add(panel, el("h3", null, info.kind === "account" ? acctName(d.id) : info.kind === "zone" ? d.id : (d.label || d.instance || id)));
    var dl = el("dl");
    if (info.kind !== "account" && info.kind !== "zone") kv(dl, "Id", id);
    if (info.kind === "zone") { kv(dl, "VPCs", fmt(d.vpcs) + " (mostly in this zone)"); kv(dl, "ENIs", fmt(d.enis)); }
    if (info.kind === "account") { kv(dl, "VPCs", fmt(d.vpcs)); kv(dl, "ENIs", fmt(d.enis)); kv(dl, "Regions", (d.regions || []).join(", ")); }
    if (info.kind === "vpc") { kv(dl, "Account", acctName(d.a)); kv(dl, "Region", d.r); kv(dl, "CIDR", d.cidrs); kv(dl, "Zones", Object.keys(d.zones || {}).map(function (z) { return z + " (" + d.zones[z] + ")"; }).join(", ")); kv(dl, "Subnets", fmt(d.subnets)); kv(dl, "ENIs", fmt(d.enis)); kv(dl, "Flow logs", d.flow ? "on" : "none"); }
    if (info.kind === "subnet") { kv(dl, "CIDR", d.cidrs); kv(dl, "Routing", d.public ? "public (route to an internet gateway)" : "private"); kv(dl, "AZ", d.az); kv(dl, "Route table", d.rtb); kv(dl, "Network ACL", d.acl); }
    if (info.kind === "eni") { kv(dl, "Instance", d.instance); kv(dl, "Service", d.service); kv(dl, "Zone", d.zone); kv(dl, "Private IPs", d.ips); kv(dl, "Public IPs", d.pub); kv(dl, "Security groups", (d.sgs || []).join(", ")); }
    if (info.kind === "load-balancer") { kv(dl, "Scheme", d.scheme); kv(dl, "Targets", fmt((d.targets || []).length)); }
    add(panel, dl);
    if (d.tags && d.tags.length) {
      add(panel, el("div", "section", "Tags"));
      var t = el("table", "tags");
      d.tags.forEach(function (pair) { var tr = el("tr"); add(tr, el("td", null, pair[0]), el("td", null, pair[1])); add(t, tr); });
      add(panel, t);
    }
    var related = DATA.findings.filter(function (f) {
      if (info.kind === "account") return f.account === d.id;
      if (info.kind === "zone") return (f.zone || (f.vpc && (net.vpcZone[f.vpc] || "").slice(5))) === d.id;
      if (info.kind === "vpc") return f.vpc === id;
      if (info.kind === "subnet") return (f.trail || []).indexOf(id) >= 0;
      return f.resource === id || f.resource === d.instance;
    });
    if (related.length) {
      add(panel, el("div", "section", plural(related.length, "finding")));
      add(panel, findingList(related.slice(0, 12)));
    }
    var actions = el("div", "actions");
    if (net.expanded[id] && info.kind !== "internet") {
      var b = el("button", "btn", "Close " + kindText.toLowerCase());
      b.type = "button";
      b.addEventListener("click", function () { collapse(id); });
      add(actions, b);
    }
    if (related.length && info.kind !== "eni" && info.kind !== "zone") {
      var f = el("button", "btn", "List in table");
      f.type = "button";
      f.addEventListener("click", function () {
        state.text = info.kind === "account" ? d.id : id;
        byId("text-filter").value = state.text;
        renderTable();
        byId("findings-section").scrollIntoView({ behavior: "smooth" });
      });
      add(actions, f);
    }
    if (actions.firstChild) add(panel, actions);
  }

  function pathList(finding) {
    var ol = el("ol", "path sev-" + finding.severity);
    (finding.path || []).forEach(function (hop) {
      var li = el("li");
      var head = el("div");
      add(head, el("span", "hop", hop.hop), el("span", "hk", hopKind(hop.hop)));
      add(li, head, el("div", "why", hop.why));
      add(ol, li);
    });
    var last = (finding.path || [])[finding.path.length - 1];
    if (!last || (last.hop !== finding.resource && finding.trail.indexOf(last.hop) < 0)) {
      var end = el("li");
      add(end, el("div", null, el("span", "hop", finding.resource)), el("div", "why", (finding.label ? finding.label + ": " : "") + "the resource this finding is about"));
      add(ol, end);
    }
    return ol;
  }

  function hopKind(id) {
    var prefix = String(id).split("-")[0];
    return { internet: "internet", igw: "internet gateway", eigw: "egress-only gateway", nat: "NAT gateway", acl: "network ACL", sg: "security group", eni: "interface", i: "instance", rtb: "route table", pcx: "peering", vpc: "VPC", subnet: "subnet", tgw: "transit gateway", local: "local route" }[prefix] || (String(id).indexOf("arn:aws:elasticloadbalancing") === 0 ? "load balancer" : "");
  }

  function showFindingPanel(f) {
    var panel = clear(byId("panel"));
    add(panel, el("div", "kind", "Finding path"));
    var h = el("h3", null, RULES[f.rule].title);
    add(panel, h);
    var sub = el("div", "r-id", (f.label ? f.label + " \u00b7 " : "") + f.resource);
    add(panel, pill(f.severity), " ", sub);
    add(panel, pathList(f));
    var actions = el("div", "actions");
    var b = el("button", "btn", "Clear highlight"); b.type = "button";
    b.addEventListener("click", function () { clearHighlight(); showIntro(); });
    var t = el("button", "btn", "Show in table"); t.type = "button";
    t.addEventListener("click", function () { openFinding(f.id, false); });
    add(actions, b, t);
    add(panel, actions);
  }

  // ---- findings table -------------------------------------------------------------------
  var state = { sev: {}, rule: "", account: "", status: "", change: "", text: "", zoneTo: null, limit: PAGE, open: null, sort: null, dir: 1 };
  SEVERITIES.forEach(function (sev) { state.sev[sev] = true; });
  var ORDER = {};
  DATA.findings.forEach(function (f, i) { ORDER[f.id] = i; });

  function setRuleFilter(rule) {
    state.rule = rule;
    byId("rule-filter").value = rule;
    renderTable();
    byId("findings-section").scrollIntoView({ behavior: "smooth" });
  }

  function initFilters() {
    var chips = byId("sev-filter");
    SEVERITIES.forEach(function (sev) {
      var b = el("button", "chip sev-" + sev);
      b.type = "button";
      b.setAttribute("aria-pressed", "true");
      b.setAttribute("data-severity", sev);
      add(b, sev, el("span", "c", fmt(DATA.summary.severity[sev] || 0)));
      b.addEventListener("click", function () {
        state.sev[sev] = !state.sev[sev];
        b.setAttribute("aria-pressed", state.sev[sev] ? "true" : "false");
        state.limit = PAGE;
        renderTable();
      });
      add(chips, b);
    });
    var rule = byId("rule-filter");
    add(rule, option("", "All rules"));
    DATA.rules.forEach(function (r) { if (DATA.summary.rules[r.id]) add(rule, option(r.id, r.title + " (" + DATA.summary.rules[r.id] + ")")); });
    rule.addEventListener("change", function () { state.rule = rule.value; state.limit = PAGE; renderTable(); });
    var acct = byId("account-filter");
    add(acct, option("", "All accounts"));
    var accounts = {};
    DATA.findings.forEach(function (f) { if (f.account) accounts[f.account] = (accounts[f.account] || 0) + 1; });
    Object.keys(accounts).sort().forEach(function (a) { add(acct, option(a, acctName(a) + " \u00b7 " + fmt(accounts[a]))); });
    acct.addEventListener("change", function () { state.account = acct.value; state.limit = PAGE; renderTable(); });
    var status = byId("status-filter");
    status.addEventListener("change", function () { state.status = status.value; state.limit = PAGE; renderTable(); });
    var change = byId("change-filter");
    if (DATA.findings.some(function (f) { return f.change; })) change.hidden = false;
    change.addEventListener("change", function () { state.change = change.value; state.limit = PAGE; renderTable(); });
    var text = byId("text-filter");
    text.addEventListener("input", function () { state.text = text.value.trim(); state.zoneTo = null; state.limit = PAGE; renderTable(); });
    byId("show-more").addEventListener("click", function () { state.limit += PAGE; renderTable(); });
    byId("export-csv").addEventListener("click", exportCsv);
    document.querySelectorAll("#findings thead th[data-sort]").forEach(function (th) {
      var b = el("button", "sort", th.textContent);
      b.type = "button";
      clear(th);
      add(th, b);
      th.setAttribute("aria-sort", "none");
      b.addEventListener("click", function () { sortBy(th.getAttribute("data-sort")); });
    });
  }

  function option(value, text) { var o = el("option", null, text); o.value = value; return o; }

  // a finding's standing: open, accepted (until its acceptance expires), or open again
  function standing(f) { return f.accepted ? "accepted" : f.acceptance_expired ? "expired" : "open"; }
  function standingText(f) {
    if (f.accepted) return "accepted until " + (f.accepted.expires || "?");
    if (f.acceptance_expired) return "acceptance expired on " + (f.acceptance_expired.expires || "?");
    return "open";
  }
  function trafficText(f) { return f.protocol ? (f.protocol === "all" ? "all traffic" : f.protocol + " " + f.ports) : "\u2013"; }

  function matches(f) {
    if (!state.sev[f.severity]) return false;
    if (state.rule && f.rule !== state.rule) return false;
    if (state.account && f.account !== state.account) return false;
    if (state.status === "accepted" && !f.accepted) return false;
    if (state.status === "open" && f.accepted) return false;
    if (state.change && f.change !== state.change) return false;
    // a heat-map cell: every finding from its source about a resource of its zone
    if (state.zoneTo) return f.source === state.text && f.zone === state.zoneTo;
    if (state.text) {
      var q = state.text.toLowerCase();
      var hay = [f.resource, f.label, f.source, f.vpc, f.account, NAMES[f.account], f.region, f.id, f.ports, RULES[f.rule].title].join(" ").toLowerCase();
      if (hay.indexOf(q) < 0) return false;
    }
    return true;
  }

  // what each sortable column sorts by; severity by rank, text in natural order
  var SORT_KEYS = {
    severity: function (f) { return SEV_RANK[f.severity] || 0; },
    finding: function (f) { return RULES[f.rule].title; },
    resource: function (f) { return (f.label || "") + " " + f.resource; },
    account: function (f) { return acctName(f.account) + " " + (f.region || ""); },
    source: function (f) { return f.source; },
    traffic: function (f) { return f.protocol ? f.protocol + " " + f.ports : ""; }
  };

  function sortBy(key) {
    if (state.sort === key) state.dir = -state.dir;
    else { state.sort = key; state.dir = key === "severity" ? -1 : 1; } // severity: worst first
    document.querySelectorAll("#findings thead th[data-sort]").forEach(function (th) {
      var on = th.getAttribute("data-sort") === state.sort;
      th.setAttribute("aria-sort", on ? (state.dir > 0 ? "ascending" : "descending") : "none");
    });
    renderTable();
  }

  function filteredRows() {
    var rows = DATA.findings.filter(matches);
    if (state.sort) {
      var value = SORT_KEYS[state.sort], dir = state.dir;
      rows = rows.map(function (f) { return { f: f, v: value(f) }; });
      rows.sort(function (a, b) {
        var c = typeof a.v === "number" ? a.v - b.v : String(a.v).localeCompare(String(b.v), "en", { numeric: true, sensitivity: "base" });
        return dir * c || ORDER[a.f.id] - ORDER[b.f.id];
      });
      rows = rows.map(function (x) { return x.f; });
    }
    return rows;
  }

  function badges(f) {
    var box = el("div", "badges");
    if (f.accepted) add(box, el("span", "badge accepted", "accepted"));
    if (f.acceptance_expired) add(box, el("span", "badge expired", "acceptance expired on " + (f.acceptance_expired.expires || "?")));
    if (f.change === "new") add(box, el("span", "badge new", "new"));
    return box.firstChild ? box : null;
  }

  function renderTable() {
    var body = clear(byId("findings-body"));
    var rows = filteredRows();
    var shown = rows.slice(0, state.limit);
    shown.forEach(function (f) {
      var tr = el("tr", "f-row" + (f.accepted ? " is-accepted" : ""));
      tr.tabIndex = 0;
      tr.setAttribute("data-id", f.id);
      tr.setAttribute("data-severity", f.severity);
      tr.setAttribute("data-standing", standing(f));
      if (f.change) tr.setAttribute("data-change", f.change);
      var res = el("td");
      if (f.label) add(res, el("div", "r-name", f.label));
      add(res, el("div", "r-id", f.resource));
      var title = el("td");
      add(title, el("div", "f-title", RULES[f.rule].title), el("div", "f-rule", f.rule), badges(f));
      var sevTd = el("td"); add(sevTd, pill(f.severity));
      add(tr, sevTd, title, res, acctCell(f), el("td", "src", f.source), el("td", "traffic", trafficText(f)));
      tr.addEventListener("click", function () { toggleRow(f, tr); });
      tr.addEventListener("keydown", function (e) { if (e.key === "Enter" || e.key === " ") { e.preventDefault(); toggleRow(f, tr); } });
      add(body, tr);
      if (state.open === f.id) { tr.classList.add("open"); add(body, detailRow(f)); }
    });
    if (!rows.length) {
      var tr = el("tr"); var td = el("td", "empty", DATA.findings.length ? "No finding matches the filters." : "No findings: every assessed path is within policy.");
      td.colSpan = 6; add(tr, td); add(body, tr);
    }
    byId("shown-count").textContent = "Showing " + fmt(shown.length) + " of " + fmt(rows.length) + (rows.length !== DATA.findings.length ? " (" + fmt(DATA.findings.length) + " in all)" : "");
    byId("export-csv").disabled = !rows.length;
    var more = byId("show-more");
    more.hidden = rows.length <= shown.length;
    more.textContent = "Show " + fmt(Math.min(PAGE, rows.length - shown.length)) + " more";
  }

  function acctCell(f) {
    var td = el("td");
    if (f.account && NAMES[f.account]) add(td, el("div", "a-name", NAMES[f.account]));
    add(td, el("div", "mono", f.account || "-"), el("div", "muted", f.region || ""));
    return td;
  }

  function acceptance(f) {
    var a = f.accepted || f.acceptance_expired;
    if (!a) return null;
    var box = el("div", "acceptance " + (f.accepted ? "on" : "lapsed"));
    add(box, el("h4", null, f.accepted ? "Accepted risk" : "Acceptance expired on " + (a.expires || "?") + ": a finding again"));
    var dl = el("dl");
    kv(dl, "Reason", a.reason);
    kv(dl, "Owner", a.owner);
    kv(dl, f.accepted ? "Expires" : "Expired", a.expires);
    kv(dl, "Accepted by", a.by);
    add(box, dl);
    return box;
  }

  function detailRow(f) {
    var rule = RULES[f.rule];
    var tr = el("tr", "f-detail");
    tr.setAttribute("data-for", f.id);
    var td = el("td"); td.colSpan = 6;
    var grid = el("div", "detail");
    var left = el("div");
    add(left, el("h4", null, "Path, hop by hop"), pathList(f));
    var right = el("div");
    var ctl = el("div", "controls");
    rule.controls.forEach(function (c) { add(ctl, el("span", "ctl", c)); });
    add(right, acceptance(f), el("h4", null, "Why it matters"), ctl, el("p", null, rule.rationale), el("h4", null, "Remediation"), el("p", null, rule.remediation));
    var actions = el("div", "actions");
    var show = el("button", "btn primary", "Show on graph");
    show.type = "button";
    show.addEventListener("click", function (e) { e.stopPropagation(); byId("network").scrollIntoView({ behavior: "smooth" }); });
    add(actions, show);
    add(right, actions, el("div", "fid", "Finding " + f.id + (f.vpc ? " \u00b7 " + f.vpc : "")));
    add(grid, left, right);
    add(td, grid);
    add(tr, td);
    return tr;
  }

  // ---- a URL per opened finding: #finding=<id> ----------------------------------------
  var HASH = "#finding=";
  function hashFinding() {
    var h = location.hash;
    return h.indexOf(HASH) === 0 ? decodeURIComponent(h.slice(HASH.length)) : null;
  }
  function setHash(id) {
    if (hashFinding() === id) return;
    if (id) { location.hash = HASH + encodeURIComponent(id); return; }
    try { history.replaceState(null, "", location.pathname + location.search); } catch (e) { location.hash = ""; }
  }
  function followHash() {
    var id = hashFinding();
    if (id && id !== state.open && ORDER[id] !== undefined) openFinding(id, false);
  }

  function toggleRow(f, tr) {
    if (state.open === f.id) {
      state.open = null;
      clearHighlight();
      showIntro();
    } else {
      state.open = f.id;
      highlight(f);
    }
    setHash(state.open);
    renderTable();
    var row = document.querySelector('tr.f-row[data-id="' + f.id + '"]');
    if (row && tr !== row) row.focus({ preventScroll: true });
  }

  function openFinding(id, scroll) {
    var f = DATA.findings[ORDER[id]];
    if (!f) return;
    state.sev[f.severity] = true;
    document.querySelectorAll("#sev-filter .chip").forEach(function (c) { c.setAttribute("aria-pressed", state.sev[c.getAttribute("data-severity")] ? "true" : "false"); });
    state.rule = ""; state.account = ""; state.text = ""; state.zoneTo = null; state.status = ""; state.change = "";
    ["rule-filter", "account-filter", "text-filter", "status-filter", "change-filter"].forEach(function (x) { byId(x).value = ""; });
    var index = filteredRows().indexOf(f);
    if (index >= state.limit) state.limit = index + 1;
    state.open = f.id;
    setHash(f.id);
    if (net.network) highlight(f);
    renderTable();
    var row = document.querySelector('tr.f-row[data-id="' + f.id + '"]');
    if (row && scroll === false) row.scrollIntoView({ behavior: "smooth", block: "center" });
  }

  // ---- CSV export of the filtered table -------------------------------------------------
  var CSV_COLUMNS = [
    ["Severity", function (f) { return f.severity; }],
    ["Finding", function (f) { return RULES[f.rule].title; }],
    ["Rule", function (f) { return f.rule; }],
    ["Resource", function (f) { return f.resource; }],
    ["Resource name", function (f) { return f.label || ""; }],
    ["Account", function (f) { return acctName(f.account); }],
    ["Account id", function (f) { return f.account || ""; }],
    ["Account name", function (f) { return NAMES[f.account] || ""; }],
    ["Region", function (f) { return f.region || ""; }],
    ["From", function (f) { return f.source; }],
    ["Traffic", trafficText],
    ["Standing", standingText],
    ["Change", function (f) { return f.change || ""; }],
    ["Id", function (f) { return f.id; }]
  ];

  function csvField(value) {
    var text = String(value === null || value === undefined ? "" : value);
    // a spreadsheet runs a cell that starts like a formula: tag values are anyone's
    if (/^[=+\-@\t\r]/.test(text)) text = "'" + text;
    return /[",\r\n]/.test(text) ? '"' + text.replace(/"/g, '""') + '"' : text;
  }

  function findingsCsv(rows) {
    var lines = [CSV_COLUMNS.map(function (c) { return csvField(c[0]); }).join(",")];
    rows.forEach(function (f) { lines.push(CSV_COLUMNS.map(function (c) { return csvField(c[1](f)); }).join(",")); });
    return "\ufeff" + lines.join("\r\n") + "\r\n";
  }

  function exportCsv() {
    var blob = new Blob([findingsCsv(filteredRows())], { type: "text/csv;charset=utf-8" });
    var url = URL.createObjectURL(blob);
    var snap = String(DATA.meta.snapshot || "snapshot").split("/").filter(Boolean).pop() || "snapshot";
    var a = el("a");
    a.href = url;
    a.download = "ivs-findings-" + snap.replace(/[^A-Za-z0-9._-]+/g, "_") + ".csv";
    document.body.appendChild(a);
    a.click();
    a.remove();
    setTimeout(function () { URL.revokeObjectURL(url); }, 1000);
  }

  // ---- fixed since the baseline ----------------------------------------------------------
  function renderFixed() {
    var base = DATA.baseline, fixed = DATA.fixed || [];
    if (!base && !fixed.length) return;
    var section = byId("fixed");
    section.hidden = false;
    var file = base && base.file ? String(base.file).split("/").filter(Boolean).pop() : "the baseline";
    byId("fixed-title").textContent = "Fixed since " + file;
    var hint = [];
    if (base) {
      if (base.generated_at) hint.push("baseline analysed " + shortTime(base.generated_at));
      [["new", "new"], ["unchanged", "unchanged"], ["fixed", "fixed"], ["not_reassessed", "not reassessed (their account-region was not assessed this time)"]].forEach(function (k) {
        if (base[k[0]] !== undefined && base[k[0]] !== null) hint.push(fmt(base[k[0]]) + " " + k[1]);
      });
    }
    byId("fixed-hint").textContent = hint.join(" \u00b7 ");
    var body = clear(byId("fixed-body"));
    fixed.forEach(function (f) {
      var tr = el("tr", "x-row");
      tr.setAttribute("data-id", f.id || "");
      var sev = el("td"); if (f.severity) add(sev, pill(f.severity));
      var rule = RULES[f.rule];
      var title = el("td"); add(title, el("div", "f-title", rule ? rule.title : f.rule), el("div", "f-rule", f.rule));
      add(tr, sev, title, el("td", "r-id", f.resource), acctCell(f), el("td", "src", f.source || ""), el("td", "traffic", trafficText(f)));
      add(body, tr);
    });
    if (!fixed.length) { var tr = el("tr"); var td = el("td", "empty", "Nothing the baseline had is gone."); td.colSpan = 6; add(tr, td); add(body, tr); }
  }

  // ---- print: every finding the table's filters keep, each with its whole path ---------
  // Built when the page is printed (the table shows a page of rows at a time and opens one
  // path at a time): closed details open, and the graph goes as a picture of its view.
  var printing = null;
  function preparePrint() {
    if (printing) return;
    printing = { details: [] };
    var rows = filteredRows(), list = clear(byId("print-list"));
    var what = rows.length === DATA.findings.length ? "every finding" : fmt(rows.length) + " of " + fmt(DATA.findings.length) + " findings (the table's filters)";
    byId("print-hint").textContent = "This print lists " + what + ", in the table's order, each with the path that lets it happen.";
    var rules = {};
    rows.forEach(function (f) {
      rules[f.rule] = true;
      var item = el("article", "p-finding");
      item.setAttribute("data-id", f.id);
      var head = el("div", "p-head");
      add(head, pill(f.severity), " ", el("span", "f-title", RULES[f.rule].title), " ", el("span", "f-rule", f.rule), badges(f));
      var where = [f.label ? f.label + " (" + f.resource + ")" : f.resource, acctName(f.account) + (f.region ? " \u00b7 " + f.region : ""), "from " + f.source, trafficText(f)];
      add(item, head, el("div", "p-meta", where.join(" \u00b7 ")), pathList(f), acceptance(f), el("div", "fid", "Finding " + f.id));
      add(list, item);
    });
    var about = el("div", "p-rules");
    add(about, el("h2", null, "The rules of these findings"));
    DATA.rules.forEach(function (r) {
      if (!rules[r.id]) return;
      var box = el("div", "p-rule");
      add(box, el("h3", null, r.title + " (" + r.id + ")"), el("p", null, r.controls.join(", ") + ". " + r.rationale), el("p", null, "Remediation: " + r.remediation));
      add(about, box);
    });
    add(list, about);
    document.querySelectorAll("details:not([open])").forEach(function (d) { d.open = true; printing.details.push(d); });
    var canvas = document.querySelector("#graph canvas");
    if (canvas) {
      var img = el("img", "print-only graph-print");
      img.id = "graph-print";
      img.alt = "The network graph as it was shown";
      try { img.src = canvas.toDataURL("image/png"); } catch (e) { img = null; }
      if (img) byId("network").insertBefore(img, byId("net-legend"));
    }
  }
  function afterPrint() {
    if (!printing) return;
    printing.details.forEach(function (d) { d.open = false; });
    clear(byId("print-list"));
    var img = byId("graph-print");
    if (img) img.remove();
    printing = null;
  }
  window.addEventListener("beforeprint", preparePrint);
  window.addEventListener("afterprint", afterPrint);
  var printMedia = window.matchMedia("print");
  printMedia.addEventListener("change", function (e) { if (e.matches) preparePrint(); else afterPrint(); });

  // ---- fleet ---------------------------------------------------------------------------
  function showPlace(rule, account, region) {
    state.rule = rule; byId("rule-filter").value = rule;
    state.account = account; byId("account-filter").value = account;
    state.text = region; byId("text-filter").value = region;
    state.zoneTo = null; state.limit = PAGE;
    renderTable();
    byId("findings-section").scrollIntoView({ behavior: "smooth" });
  }

  function renderFleet() {
    var rows = DATA.fleet || [];
    if (!rows.length) return;
    var section = byId("fleet");
    section.hidden = false;
    var table = clear(byId("fleet-table"));
    var head = el("tr");
    ["Control", "Failing", "Prevented by", "By account and region"].forEach(function (h) { add(head, el("th", null, h)); });
    add(table, el("thead"));
    add(table.firstChild, head);
    var body = el("tbody");
    rows.forEach(function (row) {
      var tr = el("tr", "fleet-row");
      tr.setAttribute("data-rule", row.rule);
      add(tr, el("td", null, row.title));
      var total = el("td", "num", fmt(row.failing) + " / " + fmt(row.total) + " " + row.counted);
      add(tr, total);
      add(tr, el("td", row.prevented_by.length ? null : "gap", row.prevented_by.length ? row.prevented_by.join("; ") : "nothing"));
      var cells = el("td", "places");
      row.places.forEach(function (p) {
        var b = el("button", "place" + (p.failing ? " fails" : ""), acctName(p.account) + " " + p.region + ": " + fmt(p.failing) + " / " + fmt(p.total));
        b.type = "button";
        b.setAttribute("data-place", p.account + "/" + p.region);
        b.disabled = !p.failing;
        b.addEventListener("click", function () { showPlace(row.rule, p.account, p.region); });
        add(cells, b);
      });
      add(tr, cells);
      add(body, tr);
    });
    add(table, body);
  }

  function renderFooter() {
    var foot = byId("foot");
    add(foot, "ivs-governance" + (DATA.meta.version ? " " + DATA.meta.version : "") + " \u00b7 rules and controls: CSA Cloud Controls Matrix v4 (IVS) \u00b7 graph drawn with vis-network \u00b7 this file is self-contained and makes no network request.");
  }

  renderHeader();
  renderSummary();
  renderHeat();
  initFilters();
  renderPorts();
  renderFleet();
  renderFixed();
  renderTable();
  renderFooter();
  if (typeof vis === "undefined") {
    add(clear(byId("graph")), el("div", "empty", "The graph library did not load."));
  } else {
    initGraph();
  }
  followHash(); // a link to one finding opens it
  window.addEventListener("hashchange", followHash);
  window.ivsReport = { data: DATA, net: net, openFinding: openFinding, clearHighlight: clearHighlight, open: onNodeClick, setMode: setMode };
})();
