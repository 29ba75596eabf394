// bandsync dashboard: live sync progress on the overview, charts and map
// on a workout's page. Loaded as a file (the pages allow no inline script);
// it only reads this origin.
(function () {
  "use strict";

  function clock(s) {
    if (s == null || !isFinite(s)) return "";
    s = Math.round(s);
    var sign = s < 0 ? "−" : "";
    s = Math.abs(s);
    var h = Math.floor(s / 3600), m = Math.floor(s / 60) % 60, sec = s % 60;
    var mm = (h > 0 && m < 10 ? "0" : "") + m, ss = (sec < 10 ? "0" : "") + sec;
    return sign + (h > 0 ? h + ":" : "") + mm + ":" + ss;
  }

  // Live progress of a sync, from the Server-Sent Events at /events.
  function watchProgress(el) {
    if (!window.EventSource) return;
    var list = el.querySelector(".phases"), idle = el.querySelector(".idle"), note = el.querySelector(".note");
    var items = {};
    var source = new EventSource(el.dataset.src);
    source.addEventListener("progress", function (msg) {
      var e = JSON.parse(msg.data);
      if (e.event === "wait") {
        note.textContent = "Waiting until " + new Date(e.until).toLocaleTimeString() + ": " + (e.message || "");
        return;
      }
      if (e.event === "warn") {
        note.textContent = e.message || "";
        return;
      }
      if (!e.phase) return;
      if (e.phase === "listing" && e.event === "start") {
        list.textContent = "";
        items = {};
        note.textContent = "";
      }
      idle.hidden = true;
      var li = items[e.phase];
      if (!li) {
        li = items[e.phase] = document.createElement("li");
        list.appendChild(li);
      }
      var total = e.total >= 0 ? e.total : "?";
      var text = e.phase + ": " + e.done + " of " + total;
      if (e.event === "end") text += " — done";
      else if (e.workout) text += " — " + e.workout + (e.outcome ? " " + e.outcome : "");
      li.textContent = text;
      li.dataset.phase = e.phase;
    });
  }

  var colors = { band: "#1f77b4", strava: "#fc4c02" };

  function pausesHook(pauses) {
    return function (u) {
      if (!pauses.length) return;
      var ctx = u.ctx;
      ctx.save();
      ctx.fillStyle = "rgba(120,120,120,0.18)";
      pauses.forEach(function (p) {
        var x0 = u.valToPos(p[0], "x", true), x1 = u.valToPos(p[1], "x", true);
        ctx.fillRect(x0, u.bbox.top, Math.max(1, x1 - x0), u.bbox.height);
      });
      ctx.restore();
    };
  }

  function has(points) {
    for (var i = 0; i < points.length; i++) if (points[i] != null) return true;
    return false;
  }

  function drawCharts(el, data) {
    el.textContent = "";
    var width = Math.max(320, el.clientWidth || 800);
    var drawn = 0;
    (data.charts || []).forEach(function (c) {
      var box = document.createElement("div");
      box.className = "chart";
      box.dataset.key = c.key;
      el.appendChild(box);
      var stravaLabel = has(c.strava) ? "Strava" : "Strava (no data)";
      new uPlot({
        title: c.title + " (" + c.unit + ")",
        width: width,
        height: 220,
        scales: { x: { time: false }, y: { dir: c.invert ? -1 : 1 } },
        series: [
          { label: "time", value: function (u, v) { return clock(v); } },
          { label: "band", stroke: colors.band, width: 1.5, spanGaps: true },
          { label: stravaLabel, stroke: colors.strava, width: 1.5, spanGaps: true, dash: [6, 3] }
        ],
        axes: [
          { values: function (u, vals) { return vals.map(clock); } },
          { label: c.unit, size: 60 }
        ],
        hooks: { drawClear: [pausesHook(data.pauses || [])] }
      }, [c.x, c.band, c.strava], box);
      if (c.note) {
        var p = document.createElement("p");
        p.className = "chart-note";
        p.textContent = c.note;
        box.appendChild(p);
      }
      drawn++;
    });
    if (!drawn) {
      var none = document.createElement("p");
      none.textContent = "No samples to chart.";
      el.appendChild(none);
    }
    el.dataset.rendered = String(drawn);
  }

  function drawMap(el, data) {
    var band = data.bandTrack || [], strava = data.stravaTrack || [];
    if (!window.L || (!band.length && !strava.length)) return;
    var tiles = el.dataset.tiles;
    var map = L.map(el, { attributionControl: !!tiles, preferCanvas: true });
    if (tiles) {
      L.tileLayer(tiles, { attribution: el.dataset.attribution || "", maxZoom: 19 }).addTo(map);
    } else {
      el.classList.add("no-tiles");
    }
    var bounds = L.latLngBounds([]);
    if (band.length) {
      var b = L.polyline(band, { color: colors.band, weight: 3 }).addTo(map);
      bounds.extend(b.getBounds());
    }
    if (strava.length) {
      var s = L.polyline(strava, { color: colors.strava, weight: 2, dashArray: "6 4" }).addTo(map);
      bounds.extend(s.getBounds());
    }
    map.fitBounds(bounds, { padding: [12, 12] });
    el.dataset.rendered = "1";
  }

  function showWorkout(charts, mapEl) {
    var src = (charts || mapEl).dataset.src;
    fetch(src, { credentials: "same-origin" })
      .then(function (r) {
        if (!r.ok) throw new Error(r.status + " " + r.statusText);
        return r.json();
      })
      .then(function (data) {
        if (charts && window.uPlot) drawCharts(charts, data);
        if (mapEl) drawMap(mapEl, data);
      })
      .catch(function (err) {
        if (charts) charts.textContent = "The charts could not be loaded: " + err.message;
      });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var progress = document.getElementById("progress");
    if (progress) watchProgress(progress);
    var charts = document.getElementById("charts"), mapEl = document.getElementById("map");
    if (charts || mapEl) showWorkout(charts, mapEl);
  });
})();
