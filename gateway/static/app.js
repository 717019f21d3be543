// Small progressive enhancements; every page works without them.
"use strict";
(function () {
  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.content : "";
  }

  async function postJson(url, body) {
    try {
      var response = await fetch(url, {
        method: "POST",
        credentials: "same-origin",
        headers: {
          "Content-Type": "application/json",
          "Accept": "application/json",
          "X-CSRF-Token": csrfToken()
        },
        body: JSON.stringify(body || {})
      });
      var data = {};
      try { data = await response.json(); } catch (e) { /* not JSON */ }
      return { ok: response.ok, status: response.status, data: data };
    } catch (e) {
      return { ok: false, status: 0, data: { error: { message: "网络连接失败，请稍后重试" } } };
    }
  }

  // Puts a message beside a field (kind "error" or "note"); false when there is no such field.
  function fieldMessage(form, name, kind, text) {
    var slot = form.querySelector("[data-" + kind + '-for="' + name + '"]');
    if (!slot) return false;
    slot.textContent = text || "";
    slot.hidden = !text;
    if (kind === "error") {
      var field = slot.closest(".field");
      if (field) field.classList.toggle("has-error", Boolean(text));
      var input = form.elements[name];
      if (input && input.setAttribute) {
        if (text) input.setAttribute("aria-invalid", "true");
        else input.removeAttribute("aria-invalid");
      }
    }
    return true;
  }

  function countdown(button, seconds) {
    var label = button.dataset.label || button.textContent;
    button.dataset.label = label;
    button.disabled = true;
    var left = seconds;
    (function tick() {
      if (left <= 0) {
        button.disabled = false;
        button.textContent = label;
        return;
      }
      button.textContent = left + " 秒后重新获取";
      left -= 1;
      setTimeout(tick, 1000);
    })();
  }

  // 换一张: a new captcha without reloading the page (and losing what was typed).
  async function refreshCaptcha(link) {
    var form = link.closest("form");
    var answer = await postJson("/api/captcha");
    if (!answer.ok) {
      window.location.reload();
      return;
    }
    form.querySelector("[data-captcha-image]").src = "data:image/png;base64," + answer.data.image;
    form.querySelector("[data-captcha-id]").value = answer.data.captcha_id;
    var input = form.elements.captcha_answer;
    input.value = "";
    input.focus();
  }

  // 获取验证码: ask for an SMS code, count down the cooldown, show problems beside the field.
  async function requestSmsCode(button) {
    var form = button.form;
    var body = { mobile: form.elements.mobile.value.trim(), purpose: button.dataset.smsPurpose };
    if (body.purpose === "reset_password" && form.elements.username) {
      body.username = form.elements.username.value.trim();
      fieldMessage(form, "username", "error", "");
    }
    button.disabled = true;
    fieldMessage(form, "mobile", "error", "");
    fieldMessage(form, "mobile", "note", "");
    var answer = await postJson("/api/sms-codes", body);
    if (answer.ok) {
      var minutes = Math.max(1, Math.round((answer.data.expires_in_seconds || 300) / 60));
      var sent = body.purpose === "reset_password"
        ? "如用户名与注册手机号码一致，验证码已发送至该手机" // never says whether they matched
        : "验证码已发送";
      fieldMessage(form, "mobile", "note", sent + "，" + minutes + " 分钟内有效");
      countdown(button, answer.data.cooldown_seconds || 60);
      if (form.elements.sms_code) form.elements.sms_code.focus();
      return;
    }
    var error = answer.data.error || {};
    var fields = error.fields || {};
    var shown = false;
    Object.keys(fields).forEach(function (name) {
      shown = fieldMessage(form, name, "error", fields[name]) || shown;
    });
    if (!shown) fieldMessage(form, "mobile", "error", error.message || "验证码发送失败，请稍后重试");
    var wait = /(\d+)\s*秒/.exec(fields.mobile || "");
    if (wait) countdown(button, Number(wait[1]));
    else button.disabled = false;
  }

  document.addEventListener("click", function (event) {
    var captcha = event.target.closest("[data-captcha-refresh]");
    if (captcha) {
      event.preventDefault();
      refreshCaptcha(captcha);
      return;
    }
    var sms = event.target.closest("[data-sms-purpose]");
    if (sms) {
      event.preventDefault();
      if (!sms.disabled) requestSmsCode(sms);
    }
  });

  // 显示完整号码: ask in place, and show the value where the mask was.
  async function unmask(form) {
    var button = form.querySelector("button");
    button.disabled = true;
    var answer = await postJson("/api/personal/unmask", {
      object_type: form.elements.object_type.value,
      object_id: form.elements.object_id.value,
      field: form.elements.field.value
    });
    if (answer.ok) {
      form.closest(".personal").querySelector("[data-personal-value]").textContent = answer.data.value;
      form.remove();
      return;
    }
    button.disabled = false;
    button.textContent = (answer.data.error || {}).message || "无法显示";
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form.classList.contains("unmask")) {
      event.preventDefault();
      unmask(form);
      return;
    }
    if (form.dataset.confirm && !window.confirm(form.dataset.confirm)) {
      event.preventDefault();
      return;
    }
    if (form.dataset.busy) {
      form.querySelectorAll('button[type="submit"]').forEach(function (button) {
        button.disabled = true;
        button.textContent = form.dataset.busy;
      });
    }
  });

  // The 17th digit of an ID number tells the gender (odd: 男): fill it in when still empty.
  document.addEventListener("input", function (event) {
    var input = event.target;
    if (!input.matches || !input.matches("[data-id-number]")) return;
    var value = input.value.trim();
    var gender = input.form && input.form.elements.gender;
    if (gender && !gender.value && /^\d{17}[\dXx]$/.test(value)) {
      gender.value = Number(value[16]) % 2 ? "男" : "女";
    }
  });
})();
