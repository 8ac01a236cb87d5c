/*
 * Sohbet's widget loader (docs/widget.md): <script src="https://CHAT/widget.js" async>.
 * Runs on the host page: a launcher (in a shadow root: the page's styles and ours do
 * not meet) and, when needed, the panel: an iframe of the chat's own origin. It keeps
 * the visitor's token in the host page's storage (the frame may keep nothing where
 * third-party cookies are blocked). The server fills in the configuration.
 */
(function (config) {
  "use strict";
  var script = document.currentScript;
  if (!script || window.Sohbet && window.Sohbet.loaded) {
    return;
  }
  var chat = new URL(script.src, location.href).origin;
  var here = location.origin;

  function allowed(pattern) {
    var m = /^(https?):\/\/([^:]+)(?::(\d+|\*))?$/.exec(pattern);
    var url = new URL(here);
    if (!m || url.protocol !== m[1] + ":") {
      return false;
    }
    var host = m[2];
    var hostOk = host.indexOf("*.") === 0
      ? url.hostname.slice(-(host.length - 1)) === host.slice(1) && url.hostname.length > host.length - 1
      : url.hostname === host;
    var port = url.port || (m[1] === "https" ? "443" : "80");
    return hostOk && (m[3] === "*" || port === (m[3] || (m[1] === "https" ? "443" : "80")));
  }
  if (!config.sites.some(allowed)) {
    console.error("Sohbet: " + here + " is not allowed to show the chat of " + chat +
      ". Add it to SOHBET_WIDGET_SITES or to the admin's \"Sites with the widget\".");
    return;
  }

  var data = script.dataset;
  var options = Object.assign({}, window.sohbetSettings || {});
  ["position", "color", "label", "language"].forEach(function (k) {
    if (data[k]) {
      options[k] = data[k];
    }
  });
  if (data.hideLauncher !== undefined) {
    options.hideLauncher = data.hideLauncher !== "false";
  }
  var lang = String(options.language || document.documentElement.lang || navigator.language || "")
    .slice(0, 2).toLowerCase();
  if (config.languages.indexOf(lang) < 0) {
    lang = config.languages[0];
  }
  var text = config.strings[lang];
  var look = config.look;
  var own = /^#[0-9a-f]{6}$/i.test(options.color || "");
  var color = own ? options.color : look.color;
  var left = (options.position || config.look.position) === "left";
  var key = "sohbet:" + chat + ":";
  var store = {
    get: function (k) {
      try { return localStorage.getItem(key + k); } catch (e) { return null; }
    },
    set: function (k, v) {
      try {
        if (v === null) { localStorage.removeItem(key + k); } else { localStorage.setItem(key + k, v); }
      } catch (e) { /* storage off: this page only */ }
    },
  };
  var state = {
    open: false, frame: null, ready: false, unread: Number(store.get("unread")) || 0,
    user: options.user || null, attributes: options.attributes || null, page: "",
  };
  var handlers = { unread: [], message: [], open: [], close: [] };

  function emit(name, value) {
    handlers[name].forEach(function (fn) {
      try { fn(value); } catch (e) { console.error(e); }
    });
  }

  // ------------------------------------------------------------ the launcher
  function textOn(hex) {
    var n = parseInt(hex.slice(1), 16);
    var lum = [n >> 16, (n >> 8) & 255, n & 255].map(function (c) {
      c /= 255;
      return c <= 0.03928 ? c / 12.92 : Math.pow((c + 0.055) / 1.055, 2.4);
    });
    var l = 0.2126 * lum[0] + 0.7152 * lum[1] + 0.0722 * lum[2];
    return (l + 0.05) / 0.05 > 1.05 / (l + 0.05) ? "#111827" : "#ffffff";
  }
  var side = left ? "left" : "right";
  var css =
    ":host{all:initial}" +
    ".launcher{position:fixed;bottom:20px;" + side + ":20px;z-index:2147483000;display:flex;" +
    "align-items:center;gap:8px;min-width:56px;height:56px;padding:0 16px;border:0;" +
    "border-radius:28px;background:" + color + ";color:" + (own ? textOn(color) : look.textColor) +
    ";font:600 15px/1 " +
    "system-ui,sans-serif;cursor:pointer;box-shadow:0 4px 16px rgba(0,0,0,.25)}" +
    ".launcher:focus-visible{outline:3px solid " + color + ";outline-offset:3px}" +
    ".launcher svg{width:26px;height:26px;flex:none}.launcher.icon{padding:0;justify-content:center}" +
    ".badge{position:absolute;top:-4px;" + side + ":-4px;min-width:20px;height:20px;padding:0 5px;" +
    "box-sizing:border-box;border-radius:10px;background:#dc2626;color:#fff;font:700 12px/20px " +
    "system-ui,sans-serif;text-align:center}" +
    ".panel{position:fixed;bottom:88px;" + side + ":20px;z-index:2147483001;width:380px;" +
    "height:min(640px,calc(100vh - 108px));border-radius:16px;overflow:hidden;" +
    "box-shadow:0 8px 40px rgba(0,0,0,.3);background:#fff}" +
    ".panel iframe{width:100%;height:100%;border:0;display:block}" +
    "[hidden]{display:none!important}" +
    "@media (max-width:480px){.panel{inset:0;width:100%;height:100%;border-radius:0}" +
    ".open .launcher{display:none}}" +
    "@media (prefers-reduced-motion:no-preference){.launcher{transition:transform .15s}" +
    ".launcher:hover{transform:scale(1.05)}}";
  var holder = document.createElement("div");
  holder.id = "sohbet-widget";
  var root = holder.attachShadow({ mode: "open" });
  try {
    var sheet = new CSSStyleSheet();
    sheet.replaceSync(css);
    root.adoptedStyleSheets = [sheet];
  } catch (e) {
    var style = document.createElement("style");
    style.textContent = css;
    root.appendChild(style);
  }
  var wrap = document.createElement("div");
  var button = document.createElement("button");
  button.type = "button";
  var labelText = typeof options.label === "string" ? options.label : text.label;
  button.className = "launcher" + (labelText ? "" : " icon");
  button.setAttribute("aria-expanded", "false");
  var svgNs = "http://www.w3.org/2000/svg";
  var icon = document.createElementNS(svgNs, "svg");
  icon.setAttribute("viewBox", "0 0 24 24");
  icon.setAttribute("aria-hidden", "true");
  icon.setAttribute("focusable", "false");
  var path = document.createElementNS(svgNs, "path");
  path.setAttribute("fill", "currentColor");
  path.setAttribute("d", "M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H8l-4 4V6a2 2 0 0 1 2-2Z");
  icon.appendChild(path);
  button.appendChild(icon);
  var label = document.createElement("span");
  label.textContent = labelText;
  var badge = document.createElement("span");
  badge.className = "badge";
  badge.setAttribute("aria-hidden", "true");
  button.appendChild(label);
  button.appendChild(badge);
  var panel = document.createElement("div");
  panel.className = "panel";
  panel.hidden = true;
  button.hidden = !!options.hideLauncher;
  wrap.appendChild(panel);
  wrap.appendChild(button);
  root.appendChild(wrap);

  function paint() {
    var n = state.unread;
    badge.hidden = n === 0;
    badge.textContent = n > 99 ? "99+" : String(n);
    var name = state.open ? text.close : text.open;
    var count = n ? " (" + text.unread[n === 1 ? 0 : 1].replace("%(count)s", n) + ")" : "";
    button.setAttribute("aria-label", name + count);
    button.setAttribute("aria-expanded", String(state.open));
    wrap.className = state.open ? "open" : "";
  }

  // ------------------------------------------------------------ the panel
  function pageInfo() {
    return { url: location.href, title: document.title, referrer: document.referrer };
  }

  function send(message) {
    if (state.frame && state.ready) {
      state.frame.contentWindow.postMessage(Object.assign({ sohbet: 1 }, message), chat);
    }
  }

  function makeFrame() {
    if (state.frame) {
      return;
    }
    var frame = document.createElement("iframe");
    frame.title = text.title;
    frame.setAttribute("allow", "microphone; clipboard-write; autoplay");
    frame.src = chat + config.frame + "?host=" + encodeURIComponent(here) + "&lang=" + lang;
    state.frame = frame;
    state.page = location.href + "\n" + document.title;
    panel.appendChild(frame);
  }

  window.addEventListener("message", function (event) {
    var m = event.data;
    if (!state.frame || event.source !== state.frame.contentWindow || event.origin !== chat ||
        !m || m.sohbet !== 1) {
      return;
    }
    if (m.type === "ready") {
      state.ready = true;
      send({ type: "init", token: store.get("token"), page: pageInfo(), user: state.user,
        attributes: state.attributes, open: state.open });
    } else if (m.type === "token" && typeof m.token === "string") {
      store.set("token", m.token);
    } else if (m.type === "unread" && m.count > 0 && !state.open) {
      state.unread += m.count;
      store.set("unread", String(state.unread));
      paint();
      emit("unread", state.unread);
    } else if (m.type === "message") {
      emit("message", { author: m.author });
    } else if (m.type === "close") {
      api.close();
    }
  });

  // A page of a single-page site changes without loading: tell the panel.
  setInterval(function () {
    var now = location.href + "\n" + document.title;
    if (state.frame && now !== state.page) {
      state.page = now;
      send({ type: "page", page: pageInfo() });
    }
  }, 1500);

  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && state.open) {
      api.close();
    }
  });

  // ------------------------------------------------------------ the API
  var api = {
    loaded: true,
    open: function () {
      if (state.open) {
        return;
      }
      makeFrame();
      state.open = true;
      panel.hidden = false;
      if (state.unread) {
        state.unread = 0;
        store.set("unread", null);
        emit("unread", 0);
      }
      paint();
      state.frame.focus();
      send({ type: "open" });
      emit("open");
    },
    close: function () {
      if (!state.open) {
        return;
      }
      state.open = false;
      panel.hidden = true;
      paint();
      send({ type: "close" });
      if (!button.hidden) {
        button.focus();
      }
      emit("close");
    },
    toggle: function () {
      if (state.open) { api.close(); } else { api.open(); }
    },
    identify: function (user) {
      state.user = user || null;
      send({ type: "identify", user: state.user });
    },
    setAttributes: function (attributes) {
      state.attributes = Object.assign({}, state.attributes, attributes);
      send({ type: "attributes", attributes: attributes });
    },
    reset: function () {
      store.set("token", null);
      store.set("unread", null);
      state.user = state.attributes = null;
      state.unread = 0;
      api.close();
      if (state.frame) {
        state.frame.remove();
        state.frame = null;
        state.ready = false;
      }
      paint();
      emit("unread", 0);
    },
    on: function (name, fn) {
      if (handlers[name] && typeof fn === "function") {
        handlers[name].push(fn);
      }
    },
    off: function (name, fn) {
      if (handlers[name]) {
        handlers[name] = handlers[name].filter(function (f) { return f !== fn; });
      }
    },
  };
  button.addEventListener("click", api.toggle);

  var queued = Array.isArray(window.Sohbet) ? window.Sohbet : [];
  window.Sohbet = api;
  paint();
  (document.body || document.documentElement).appendChild(holder);
  queued.forEach(function (call) {
    if (call && typeof api[call[0]] === "function") {
      api[call[0]].apply(null, Array.prototype.slice.call(call, 1));
    }
  });
  // A visitor with a conversation gets the panel loaded (hidden) for its badge.
  if (store.get("token") && !state.frame) {
    (window.requestIdleCallback || setTimeout)(makeFrame);
  }
  window.dispatchEvent(new CustomEvent("sohbet:ready"));
})(/*CONFIG*/);
