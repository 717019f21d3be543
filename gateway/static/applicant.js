// The applicant's pages: qualifications by committee, upload checks, editable rows, autosave.
// Every page works without it: the forms post, tables come with blank rows.
"use strict";
(function () {
  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.content : "";
  }

  function setCsrfToken(token) {
    var meta = document.querySelector('meta[name="csrf-token"]');
    if (meta) meta.content = token;
    document.querySelectorAll('input[name="_csrf"]').forEach(function (input) {
      input.value = token;
    });
  }

  function showMessage(slot, text) {
    if (!slot) return false;
    slot.textContent = text || "";
    slot.hidden = !text;
    var holder = slot.closest(".field, .cell, .upload");
    if (holder) holder.classList.toggle("has-error", Boolean(text));
    return true;
  }

  // --- 新建申报: only the qualifications that the chosen committee reviews ---

  function filterQualifications(form) {
    var committee = form.elements.committee_id;
    var select = form.elements.qualification_id;
    var hint = form.querySelector("[data-qualification-hint]");
    var chosen = committee.options[committee.selectedIndex];
    var allowed = chosen && chosen.value ? (chosen.dataset.qualifications || "").split(" ") : null;
    var names = [];
    select.querySelectorAll("option").forEach(function (option) {
      if (!option.value) return;
      var reviewed = !allowed || allowed.indexOf(option.value) >= 0;
      option.hidden = !reviewed;
      option.disabled = !reviewed;
      if (allowed && reviewed) names.push(option.textContent.replace(/（.*）$/, ""));
    });
    select.querySelectorAll("optgroup").forEach(function (group) {
      group.hidden = !group.querySelector("option:not([disabled])");
    });
    var current = select.options[select.selectedIndex];
    if (current && current.disabled) select.value = "";
    if (hint) {
      hint.textContent = allowed
        ? "该评委会评审：" + names.join("、")
        : "请先选择评委会，再选择其评审的专业技术资格。";
    }
  }

  var newCase = document.querySelector("form[data-new-case]");
  if (newCase) {
    filterQualifications(newCase);
    newCase.elements.committee_id.addEventListener("change", function () {
      filterQualifications(newCase);
    });
  }

  // --- uploads: say at once when a file is empty or too large ---

  document.addEventListener("change", function (event) {
    var input = event.target;
    if (!input.matches || !input.matches("form[data-upload] input[type=file]")) return;
    var file = input.files && input.files[0];
    var limit = Number(input.dataset.maxBytes);
    var message = "";
    if (file && file.size === 0) message = "文件是空的，请重新选择";
    else if (file && limit && file.size > limit) {
      message = "文件过大（" + (file.size / 1048576).toFixed(1) + " MB），单个文件不能超过 " +
        Math.round(limit / 1048576) + " MB";
    }
    showMessage(input.form.querySelector('[data-error-for="file"]'), message);
    input.form.querySelector('button[type="submit"]').disabled = Boolean(message);
  });

  // --- the section forms ---

  var form = document.querySelector("form[data-section]");
  if (!form) return;
  var section = form.dataset.section;
  var table = form.querySelector("table[data-rows]");
  var template = form.querySelector("template[data-row-template]");

  function rows() {
    return table ? Array.prototype.slice.call(table.tBodies[0].querySelectorAll("tr[data-row]")) : [];
  }

  function renumber() {
    var all = rows();
    all.forEach(function (row, i) {
      row.querySelector("[data-row-no]").textContent = String(i + 1);
    });
    var add = form.querySelector("[data-add-row]");
    if (add) add.disabled = all.length >= Number(table.dataset.maxRows || 50);
  }

  var nextIndex = 0;
  rows().forEach(function (row) {
    var input = row.querySelector("[data-col]");
    var found = input && /^entries\.(\d+)\./.exec(input.name);
    if (found) nextIndex = Math.max(nextIndex, Number(found[1]) + 1);
  });

  function addRow() {
    var html = template.innerHTML.replace(/__i__/g, String(nextIndex));
    nextIndex += 1;
    table.tBodies[0].insertAdjacentHTML("beforeend", html);
    var row = rows().pop();
    row.querySelectorAll("[data-remove-row]").forEach(function (b) { b.hidden = false; });
    renumber();
    return row;
  }

  if (table && template) {
    form.querySelectorAll("[data-add-row], [data-remove-row]").forEach(function (button) {
      button.hidden = false;
    });
    renumber();
    form.addEventListener("click", function (event) {
      if (event.target.closest("[data-add-row]")) {
        var row = addRow();
        row.querySelector("[data-col]").focus();
        changed();
        return;
      }
      var remove = event.target.closest("[data-remove-row]");
      if (!remove) return;
      var doomed = remove.closest("tr");
      if (rows().length > 1) doomed.remove();
      else doomed.querySelectorAll("[data-col]").forEach(function (input) { input.value = ""; });
      renumber();
      changed();
    });
  }

  // What the cases service takes, as the server-side form reader builds it; `kept` are the
  // rows that made it into `entries`, so an error on entries.N finds its row.
  function valueOf(input) {
    var value = input.value.trim();
    var kind = input.dataset.kind;
    if (kind === "int" && /^\d+$/.test(value)) return Number(value);
    if ((kind === "int" || kind === "date") && value === "") return null;
    return value;
  }

  function collect() {
    if (section === "basic") {
      var data = { exemptions: [] };
      Array.prototype.forEach.call(form.elements, function (input) {
        if (!input.name || input.name === "_csrf" || input.type === "submit") return;
        if (input.type === "checkbox") {
          if (input.checked) data[input.name].push(input.value);
        } else {
          data[input.name] = valueOf(input);
        }
      });
      return { data: data, kept: [] };
    }
    if (section === "education") {
      var hours = {};
      form.querySelectorAll('input[name^="hours_by_year."]').forEach(function (input) {
        var value = valueOf(input);
        if (value !== null && value !== "") hours[input.name.slice(14)] = value;
      });
      return { data: { hours_by_year: hours }, kept: [] };
    }
    var entries = [];
    var kept = [];
    rows().forEach(function (row) {
      var entry = {};
      var filled = false;
      row.querySelectorAll("[data-col]").forEach(function (input) {
        var value = valueOf(input);
        entry[input.dataset.col] = value;
        if (value !== null && value !== "") filled = true;
      });
      if (filled) {
        entries.push(entry);
        kept.push(row);
      }
    });
    return { data: { entries: entries }, kept: kept };
  }

  function fill(data) {
    if (section === "basic") {
      Object.keys(data).forEach(function (name) {
        if (name === "exemptions") {
          form.querySelectorAll('input[name="exemptions"]').forEach(function (box) {
            box.checked = (data.exemptions || []).indexOf(box.value) >= 0;
          });
          return;
        }
        var input = form.elements[name];
        if (input && input.type !== "checkbox") input.value = data[name] === null ? "" : data[name];
      });
    } else if (section === "education") {
      var hours = data.hours_by_year || {};
      form.querySelectorAll('input[name^="hours_by_year."]').forEach(function (input) {
        var value = hours[input.name.slice(14)];
        input.value = value === undefined || value === null ? "" : value;
      });
    } else {
      var entries = data.entries || [];
      while (template && rows().length < entries.length) addRow();
      rows().forEach(function (row, i) {
        row.querySelectorAll("[data-col]").forEach(function (input) {
          var value = entries[i] ? entries[i][input.dataset.col] : "";
          input.value = value === undefined || value === null ? "" : value;
        });
      });
    }
  }

  function clearErrors() {
    form.querySelectorAll("[data-error-for]").forEach(function (slot) { showMessage(slot, ""); });
  }

  function showErrors(fields, kept) {
    var unplaced = [];
    Object.keys(fields).forEach(function (key) {
      var name = key;
      var message = fields[key];
      var found = /^entries\.(\d+)\.(\w+)$/.exec(key);
      if (found) {
        var row = kept[Number(found[1])];
        var input = row && row.querySelector('[data-col="' + found[2] + '"]');
        name = input ? input.name : "";
        // the service names a row's field by its key ("start格式…"): use the column's title
        var label = input && input.parentNode.querySelector(".cell-label");
        if (label && message.indexOf(found[2]) === 0) {
          message = label.textContent + message.slice(found[2].length);
        }
      }
      var slot = name && form.querySelector('[data-error-for="' + name + '"]');
      if (!showMessage(slot, message)) unplaced.push(message);
    });
    return unplaced;
  }

  var url = form.dataset.autosave;
  if (!url) return; // read only
  var key = form.dataset.draftKey;
  var status = form.querySelector("[data-autosave-status]");
  var expiredBox = document.querySelector("[data-session-expired]");

  function setStatus(text, kind, link) {
    status.textContent = text;
    status.className = "autosave-status" + (kind ? " " + kind : "");
    if (link) {
      var a = document.createElement("a");
      a.href = link.href;
      a.textContent = link.text;
      status.append(" ", a);
    }
  }

  function stored() {
    try {
      return JSON.parse(window.localStorage.getItem(key) || "null");
    } catch (e) {
      return null;
    }
  }

  function drop() {
    try { window.localStorage.removeItem(key); } catch (e) { /* storage unavailable */ }
  }

  // `base` is the section as the server last had it: a kept draft is restored only over that.
  var initial = JSON.stringify(collect().data);
  var draft = stored();
  var rerendered = form.hasAttribute("data-rerendered");
  var base = rerendered ? (draft ? draft.base : null) : initial;

  function keep() {
    var data = collect().data;
    if (JSON.stringify(data) === base) {
      drop();
      return;
    }
    try {
      window.localStorage.setItem(key, JSON.stringify({ data: data, base: base, at: Date.now() }));
    } catch (e) { /* storage full or unavailable: the server copy is all there is */ }
  }

  function hhmm() {
    var now = new Date();
    return String(now.getHours()).padStart(2, "0") + ":" + String(now.getMinutes()).padStart(2, "0");
  }

  async function put(body) {
    try {
      var response = await fetch(url, {
        method: "PUT",
        credentials: "same-origin",
        headers: {
          "Content-Type": "application/json",
          "Accept": "application/json",
          "X-CSRF-Token": csrfToken()
        },
        body: body
      });
      var answer = {};
      try { answer = await response.json(); } catch (e) { /* not JSON */ }
      return { ok: response.ok, status: response.status, error: answer.error || {} };
    } catch (e) {
      return { ok: false, status: 0, error: { message: "网络连接失败" } };
    }
  }

  // The CSRF token changes when the user logs in again (say in another tab).
  async function freshToken() {
    try {
      var response = await fetch("/api/session", { credentials: "same-origin" });
      var answer = await response.json();
      if (!answer.user) return null;
      setCsrfToken(answer.csrf_token);
      return answer.csrf_token;
    } catch (e) {
      return null;
    }
  }

  var timer = null;
  var busy = false;
  var again = false;
  var expired = false;
  var closed = false;
  var restored = false;
  var loginLink = expiredBox ? expiredBox.querySelector("a") : null;

  function sessionEnded() {
    expired = true;
    keep();
    if (expiredBox) expiredBox.hidden = false;
    setStatus("登录已失效，填写的内容已暂存在本浏览器。", "failed",
      loginLink ? { href: loginLink.href, text: "重新登录" } : null);
  }

  async function save(retried) {
    if (expired || closed) return;
    if (busy) {
      again = true;
      return;
    }
    var current = collect();
    var body = JSON.stringify(current.data);
    if (body === base) {
      drop();
      return;
    }
    busy = true;
    setStatus("正在保存…");
    var answer = await put(body);
    busy = false;
    if (answer.ok) {
      base = body;
      keep();
      clearErrors();
      setStatus((restored ? "已恢复您上次未保存的内容，" : "") + "已自动保存 " + hhmm(), "saved");
      restored = false;
    } else if (answer.status === 401) {
      sessionEnded();
    } else if (answer.status === 403 && answer.error.code === "csrf_failed" && !retried) {
      if (await freshToken()) {
        await save(true);
        return;
      }
      sessionEnded();
    } else if (answer.status === 409) {
      closed = true;
      setStatus(answer.error.message || "申报材料已不能修改", "failed");
    } else if (answer.status === 422) {
      clearErrors();
      var fields = answer.error.fields || {};
      var unplaced = showErrors(fields, current.kept);
      var count = Object.keys(fields).length;
      setStatus(
        "有 " + count + " 处需要修改，修改后自动保存" + (unplaced.length ? "：" + unplaced.join("；") : ""),
        "failed"
      );
    } else {
      setStatus("暂时无法自动保存（" + (answer.error.message || "服务暂时不可用") +
        "），内容已暂存在本浏览器，稍后自动重试。", "failed");
      schedule(15000);
    }
    if (again) {
      again = false;
      schedule();
    }
  }

  function schedule(delay) {
    clearTimeout(timer);
    timer = setTimeout(save, delay === undefined ? 1200 : delay);
  }

  function changed() {
    keep();
    if (expired) {
      setStatus("登录已失效，填写的内容已暂存在本浏览器。", "failed",
        loginLink ? { href: loginLink.href, text: "重新登录" } : null);
      return;
    }
    schedule();
  }

  form.addEventListener("input", changed);
  form.addEventListener("change", changed);
  form.addEventListener("submit", function (event) {
    if (!expired) return;
    event.preventDefault(); // posting now would only fail: log in first, the draft waits
    if (expiredBox) expiredBox.scrollIntoView({ block: "center" });
    if (loginLink) loginLink.focus();
  });

  if (draft && !rerendered) {
    if (draft.base === base && JSON.stringify(draft.data) !== initial) {
      fill(draft.data);
      restored = true;
      setStatus("已恢复您上次未保存的内容，正在保存…");
      save();
    } else {
      drop(); // saved meanwhile (by the 保存 button, or elsewhere): the server copy wins
    }
  }
})();
