/* Convention Assistant widget: one <script src=".../widget/embed.js" data-title data-lang data-color> tag.
   Vanilla JS in a Shadow DOM; answers stream from /api/chat (SSE over fetch) and render as text only. */
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script || !script.src) return;
  var API = new URL(".", script.src).href.replace(/widget\/$/, ""); // the app's base, from our own URL
  var ds = script.dataset;
  var T = {
    en: { open: "Open the assistant", close: "Close", ask: "Ask", ph: "Ask about the conventions",
          sources: "Sources", busy: "The assistant is busy: try again in a few seconds.",
          fail: "The assistant could not answer: try again later.", mode: "mode" },
    fr: { open: "Ouvrir l'assistant", close: "Fermer", ask: "Demander", ph: "Posez une question sur les conventions",
          sources: "Sources", busy: "L'assistant est occupé : réessayez dans quelques secondes.",
          fail: "L'assistant n'a pas pu répondre : réessayez plus tard.", mode: "mode" },
    vi: { open: "Mở trợ lý", close: "Đóng", ask: "Hỏi", ph: "Hỏi về các công ước",
          sources: "Nguồn", busy: "Trợ lý đang bận: hãy thử lại sau vài giây.",
          fail: "Trợ lý không thể trả lời: hãy thử lại sau.", mode: "chế độ" }
  };
  var lang = (ds.lang || navigator.language || "en").slice(0, 2).toLowerCase();
  var t = T[lang] || T.en;
  var title = ds.title || "Convention Assistant";
  var color = /^#[0-9a-fA-F]{3,8}$/.test(ds.color || "") ? ds.color : "#1d4ed8";
  var inline = ds.mode === "inline";
  var history = [];

  var host = document.createElement("div");
  host.setAttribute("data-convention-assistant", "");
  var root = host.attachShadow({ mode: "open" });
  var css =
    ":host{all:initial}*{box-sizing:border-box;font-family:system-ui,sans-serif}" +
    ".bubble{position:fixed;right:20px;bottom:20px;width:56px;height:56px;border-radius:50%;border:0;" +
    "background:@C;color:#fff;font-size:26px;cursor:pointer;box-shadow:0 4px 14px rgba(0,0,0,.3);z-index:2147483646}" +
    ".bubble:focus-visible,button:focus-visible,textarea:focus-visible,a:focus-visible{outline:3px solid #f59e0b;outline-offset:2px}" +
    ".panel{position:fixed;right:20px;bottom:88px;width:min(380px,calc(100vw - 40px));height:min(560px,calc(100vh - 120px));" +
    "background:#fff;color:#111;border-radius:12px;box-shadow:0 8px 30px rgba(0,0,0,.3);display:flex;" +
    "flex-direction:column;overflow:hidden;z-index:2147483647;font-size:14px;line-height:1.45}" +
    ".panel[hidden]{display:none}.inline{position:static;width:100%;height:100vh;border-radius:0;box-shadow:none}" +
    "header{background:@C;color:#fff;padding:10px 12px;display:flex;align-items:center;justify-content:space-between}" +
    "header h2{margin:0;font-size:15px}header button{background:transparent;border:0;color:#fff;font-size:20px;cursor:pointer}" +
    ".log{flex:1;overflow-y:auto;padding:10px;display:flex;flex-direction:column;gap:8px}" +
    ".msg{padding:8px 10px;border-radius:10px;white-space:pre-wrap;overflow-wrap:anywhere;max-width:92%}" +
    ".user{align-self:flex-end;background:#e0e7ff}.bot{align-self:flex-start;background:#f3f4f6}" +
    ".err{background:#fee2e2}.meta{font-size:12px;color:#555;margin-top:6px}" +
    ".cites{margin:6px 0 0;padding-left:18px;font-size:12.5px}.cites a{color:@C}" +
    "form{display:flex;gap:6px;padding:8px;border-top:1px solid #e5e7eb}" +
    "textarea{flex:1;resize:none;height:44px;padding:6px;border:1px solid #cbd5e1;border-radius:8px;font-size:14px}" +
    "form button{background:@C;color:#fff;border:0;border-radius:8px;padding:0 14px;cursor:pointer}" +
    "form button:disabled{opacity:.6;cursor:wait}";
  var style = document.createElement("style");
  style.textContent = css.split("@C").join(color);
  root.appendChild(style);

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    for (var k in attrs) node.setAttribute(k, attrs[k]);
    if (text) node.textContent = text;
    return node;
  }

  var panel = el("section", { class: "panel" + (inline ? " inline" : ""), role: "dialog", "aria-label": title });
  var header = el("header");
  header.appendChild(el("h2", {}, title));
  var closeBtn = el("button", { type: "button", "aria-label": t.close }, "\u00d7");
  if (!inline) header.appendChild(closeBtn);
  var log = el("div", { class: "log", role: "log", "aria-live": "polite" });
  var form = el("form");
  var input = el("textarea", { "aria-label": t.ph, placeholder: t.ph, maxlength: "1000" });
  var send = el("button", { type: "submit" }, t.ask);
  form.appendChild(input);
  form.appendChild(send);
  panel.appendChild(header);
  panel.appendChild(log);
  panel.appendChild(form);
  var bubble = el("button", { class: "bubble", type: "button", "aria-label": t.open, "aria-expanded": "false" }, "?");
  if (!inline) {
    panel.hidden = true;
    root.appendChild(bubble);
  }
  root.appendChild(panel);

  function openPanel(open) {
    panel.hidden = !open;
    bubble.setAttribute("aria-expanded", String(open));
    (open ? input : bubble).focus();
  }
  bubble.addEventListener("click", function () { openPanel(panel.hidden); });
  closeBtn.addEventListener("click", function () { openPanel(false); });
  panel.addEventListener("keydown", function (e) {
    if (e.key === "Escape" && !inline) { e.stopPropagation(); openPanel(false); }
  });
  input.addEventListener("keydown", function (e) {
    if (e.key === "Enter" && !e.shiftKey) { e.preventDefault(); form.requestSubmit(); }
  });

  function safeUrl(url) {
    try {
      var u = new URL(url);
      return u.protocol === "http:" || u.protocol === "https:" ? u.href : "";
    } catch (err) { return ""; }
  }

  function renderFinal(box, answer) {
    box.textContent = "";
    box.appendChild(document.createTextNode(answer.answer || ""));
    var cites = answer.citations || [];
    if (cites.length) {
      box.appendChild(el("div", { class: "meta" }, t.sources));
      var list = el("ol", { class: "cites" });
      cites.forEach(function (c) {
        var item = el("li", { value: String(c.n) });
        var label = "[" + c.n + "] " + (c.title || c.source || "") + (c.locator ? " \u2014 " + c.locator : "");
        var url = safeUrl(c.url);
        if (url) {
          var a = el("a", { href: url, target: "_blank", rel: "noopener noreferrer nofollow" }, label);
          if (c.quote) a.title = c.quote;
          item.appendChild(a);
        } else {
          item.textContent = label;
        }
        list.appendChild(item);
      });
      box.appendChild(list);
    }
    box.appendChild(el("div", { class: "meta" }, t.mode + ": " + (answer.mode || "") +
      (answer.notice ? " \u2014 " + answer.notice : "")));
  }

  function parseEvents(buffer, onEvent) {
    var parts = buffer.split("\n\n");
    var rest = parts.pop();
    parts.forEach(function (block) {
      var name = "message", data = [];
      block.split("\n").forEach(function (line) {
        if (line.indexOf("event:") === 0) name = line.slice(6).trim();
        else if (line.indexOf("data:") === 0) data.push(line.slice(5).replace(/^ /, ""));
      });
      if (data.length) onEvent(name, JSON.parse(data.join("\n")));
    });
    return rest;
  }

  function fail(box, message) {
    box.className = "msg bot err";
    box.textContent = message;
  }

  form.addEventListener("submit", function (e) {
    e.preventDefault();
    var question = input.value.trim();
    if (!question || send.disabled) return;
    input.value = "";
    log.appendChild(el("div", { class: "msg user" }, question));
    var box = el("div", { class: "msg bot", "aria-busy": "true" }, "\u2026");
    log.appendChild(box);
    log.scrollTop = log.scrollHeight;
    send.disabled = true;
    var streamed = "";
    var finished = false;
    fetch(API + "api/chat", {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "text/event-stream" },
      body: JSON.stringify({ question: question, history: history.slice(-12) })
    }).then(function (res) {
      if (!res.ok) {
        return res.json().then(function (body) { fail(box, body.error || t.fail); },
                               function () { fail(box, res.status === 503 ? t.busy : t.fail); });
      }
      var reader = res.body.getReader();
      var decoder = new TextDecoder();
      var buffer = "";
      function onEvent(name, data) {
        if (name === "token") {
          streamed += data.text;
          box.textContent = streamed;
        } else if (name === "final") {
          finished = true;
          renderFinal(box, data);
          history.push({ role: "user", content: question }, { role: "assistant", content: data.answer || "" });
        } else if (name === "error") {
          finished = true;
          fail(box, data.error || t.fail);
        }
        log.scrollTop = log.scrollHeight;
      }
      function pump() {
        return reader.read().then(function (chunk) {
          if (chunk.done) {
            parseEvents(buffer + "\n\n", onEvent);
            if (!finished) fail(box, t.fail);
            return;
          }
          buffer = parseEvents(buffer + decoder.decode(chunk.value, { stream: true }), onEvent);
          return pump();
        });
      }
      return pump();
    }).catch(function () { fail(box, t.fail); }).then(function () {
      box.removeAttribute("aria-busy");
      send.disabled = false;
      input.focus();
    });
  });

  function mount() { document.body.appendChild(host); }
  if (document.body) mount(); else document.addEventListener("DOMContentLoaded", mount);
})();
