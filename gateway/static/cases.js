// The case pages' small enhancements; each page also works without them.
"use strict";
(function () {
  function boxes(form) {
    return Array.prototype.slice.call(form.querySelectorAll('input[type="checkbox"][name="case_id"]'));
  }

  function showCount(form) {
    var slot = form.querySelector("[data-selected-count]");
    if (!slot) return;
    var n = boxes(form).filter(function (b) { return b.checked; }).length;
    slot.textContent = n ? "已选 " + n + " 件" : "";
  }

  // 全选 / 全不选: tick in place instead of reloading the page with ?select=all.
  document.addEventListener("click", function (event) {
    var link = event.target.closest("[data-select]");
    if (!link) return;
    var form = link.closest("form");
    if (!form) return;
    event.preventDefault();
    var all = link.dataset.select === "all";
    boxes(form).forEach(function (b) { b.checked = all; });
    showCount(form);
  });

  document.addEventListener("change", function (event) {
    if (event.target.matches && event.target.matches('input[name="case_id"]')) {
      showCount(event.target.form);
    }
  });

  // A 功能按钮 needs ticked rows; one without inputs asks before it acts on them.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var button = event.submitter;
    if (!form.matches("[data-selection]") || !button) return;
    if (button.dataset.confirmClick) {
      if (!window.confirm(button.dataset.confirmClick)) event.preventDefault();
      return;
    }
    var verb = button.dataset.needsSelection;
    if (!verb) return;
    var n = boxes(form).filter(function (b) { return b.checked; }).length;
    var allPages = form.querySelector("[data-all-pages]");
    if (allPages && allPages.checked && button.name === "kind") n = Number(allPages.dataset.allPages);
    if (!n) {
      event.preventDefault();
      window.alert("请先勾选要“" + verb + "”的人员");
      return;
    }
    if (button.dataset.confirmSelection &&
        !window.confirm("确定对选中的 " + n + " 件业务进行“" + verb + "”操作吗？")) {
      event.preventDefault();
    }
  });

  // 单位综合评价意见: the characters typed against the round's limit, as one types.
  function count(area) {
    var slot = document.querySelector('[data-counter-for="' + area.name + '"]');
    if (!slot) return;
    var max = Number(area.dataset.counterMax);
    var n = Array.from(area.value.trim()).length;
    slot.innerHTML = "";
    slot.appendChild(document.createTextNode("已输入 "));
    var strong = document.createElement("strong");
    strong.textContent = String(n);
    slot.appendChild(strong);
    slot.appendChild(document.createTextNode(" / " + max + " 字" +
      (n > max ? "，超出 " + (n - max) + " 字" : "，还可输入 " + (max - n) + " 字")));
    slot.classList.toggle("over", n > max);
  }

  document.addEventListener("input", function (event) {
    if (event.target.matches && event.target.matches("textarea[data-counter-max]")) count(event.target);
  });

  document.querySelectorAll("textarea[data-counter-max]").forEach(count);
  document.querySelectorAll("form[data-selection]").forEach(showCount);
})();
